/**
 * The error a failed Airflow task try names in its log. Pure: the caller fetches the log.
 *
 * Two shapes:
 * - Airflow 2.x plain text: log records with a `[time] {file.py:N} LEVEL - ` prefix; an exception logged with
 *   `log.exception(...)` is followed by Python's traceback as raw lines. Some tracebacks arrive with every line
 *   prefixed instead (a subprocess's output re-logged line by line, e.g. BashOperator).
 * - Airflow 3.x structured logs: a list of entries; the failing one carries `error_detail`, which is the output
 *   of structlog's ExceptionDictTransformer (the task supervisor renames structlog's `exception` key to it).
 *
 * Long logs: nothing here splits the whole text. The last traceback is found with `lastIndexOf` and only its
 * own lines are read; every regex is anchored and bounded, and runs on one line cut to MAX_LINE_CHARS.
 */
import type { LogError } from "./types.js";

/** A message keeps at most this many lines and characters: enough to recognise it, small enough to store. */
export const MAX_MESSAGE_LINES = 8;
export const MAX_MESSAGE_CHARS = 2000;
/** Lines are cut to this before any regex runs on them (a 12 MB line must not reach a pattern). */
const MAX_LINE_CHARS = 10_000;

const TRACEBACK_HEADER = "Traceback (most recent call last):";
const GROUP_HEADER = /^(\s*)\+ Exception Group Traceback \(most recent call last\):\s*$/;
/** `pkg.mod.ExcType: message`, or a bare `ExcType`; the dots make the name unambiguous (no backtracking). */
const EXCEPTION_LINE = /^([\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)*)(?::(?: (.*)|$)|$)/u;
/**
 * Airflow 2 record prefix: `[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} ERROR - `, also with an ISO
 * time (`[2024-05-01T10:00:00.000+0000]`), doubled braces (`{{taskinstance.py:1455}}`) or extra fields
 * between the time and the source (`... MainProcess MainThread {subprocess.py:93} INFO - `).
 */
const AIRFLOW_PREFIX = /^\[[^\]\n]{1,80}\][^{\n]{0,120}\{{1,2}([^}\n]{1,200})\}{1,2} ([A-Z]{3,8}) -(?: |$)/;
/** structlog's console renderer (Airflow 3 components): `2025-05-01T10:00:00.123456Z [error    ] `. */
const CONSOLE_PREFIX = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?Z? \[([a-z]{3,8}) *\] /;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC of ANSI colour codes is the point
const ANSI_ESCAPE = /\x1b\[[0-9;]{0,20}[A-Za-z]/g;
const CHAIN_BANNERS = [
  "During handling of the above exception, another exception occurred:",
  "The above exception was the direct cause of the following exception:",
];
const ERROR_LEVELS: ReadonlySet<string> = new Set(["ERROR", "CRITICAL", "FATAL"]);
/** Where an error-level record can be found with a plain substring search. */
const ERROR_MARKERS = [" ERROR - ", " CRITICAL - ", " FATAL - ", " [error", " [critical"];

export function parseTextLogError(text: string): LogError {
  if (typeof text !== "string" || text.length === 0) return noError();
  return findLastTracebackError(text) ?? findLastErrorLine(text) ?? noError();
}

/**
 * The error of the last top-level Python traceback in `text`, or null when there is none (or it is cut off
 * before its exception line). With chained exceptions Python prints the cause first and the exception that was
 * raised last, so the last top-level block is the outermost exception. Sub-tracebacks inside an exception
 * group (margin `|`) are not top-level: the group itself is what was raised.
 */
export function findLastTracebackError(text: string): LogError | null {
  const start = findLastTracebackStart(text);
  return start === null ? null : readTracebackBlock(text, start);
}

/** Keeps the first MAX_MESSAGE_LINES lines and MAX_MESSAGE_CHARS characters, trimmed; never splits a surrogate pair. */
export function capErrorMessage(message: string): string {
  let end = 0;
  for (let line = 0; line < MAX_MESSAGE_LINES && end < message.length; line++) {
    const newline = message.indexOf("\n", end);
    end = newline === -1 ? message.length : newline + 1;
    if (end > MAX_MESSAGE_CHARS) break;
  }
  let cut = Math.min(end, MAX_MESSAGE_CHARS);
  if (cut < message.length && isHighSurrogate(message.charCodeAt(cut - 1))) cut -= 1;
  return message.slice(0, cut).trim();
}

/**
 * Airflow 3 structured log content. The last entry with an `error_detail` wins; within it the first record is
 * the exception that was raised. structlog walks the chain from the raised exception inwards (`__cause__`,
 * else `__context__`), so the list is outermost first and the root cause last; `is_cause` on a record says
 * it was linked to the record before it by `raise ... from` rather than implicitly. Airflow's own renderer
 * confirms the order: it reverses the list to print causes first, as Python does.
 */
export function parseStructuredLogError(content: unknown): LogError {
  if (typeof content === "string") return parseTextLogError(content);
  const entries = readEntries(content);
  if (entries === null) return noError();
  const detailed = findLastErrorDetail(entries);
  if (detailed !== null) return detailed;
  const fromText = parseTextLogError(joinEvents(entries));
  if (fromText.errorClass !== null || fromText.errorMessage !== null) return fromText;
  return findLastErrorEvent(entries) ?? noError();
}

// ---- text: locating the last traceback ----

type TracebackStart =
  | { kind: "plain"; lineStart: number }
  | { kind: "group"; lineStart: number; indent: string };

interface LogLine {
  content: string;
  /** Level and source of the record prefix; null for a raw (continuation) line. */
  level: string | null;
  source: string | null;
}

function findLastTracebackStart(text: string): TracebackStart | null {
  let from = text.length;
  while (from >= 0) {
    // Also finds "Exception Group Traceback (most recent call last):", which ends with the same words.
    const index = text.lastIndexOf(TRACEBACK_HEADER, from);
    if (index === -1) return null;
    const lineStart = text.lastIndexOf("\n", index - 1) + 1;
    const start = classifyHeader(parseLogLine(readLineAt(text, lineStart)).content, lineStart);
    if (start !== null) return start;
    // A line holds at most one header (at its start), so each line is looked at once.
    from = lineStart - 1;
  }
  return null;
}

function classifyHeader(content: string, lineStart: number): TracebackStart | null {
  const trimmed = content.trim();
  if (trimmed === TRACEBACK_HEADER) return { kind: "plain", lineStart };
  const group = GROUP_HEADER.exec(content);
  if (group !== null) return { kind: "group", lineStart, indent: group[1] ?? "" };
  return null;
}

// ---- text: reading one traceback block ----

interface BlockReader {
  text: string;
  pos: number;
  start: TracebackStart;
  header: LogLine;
}

function readTracebackBlock(text: string, start: TracebackStart): LogError | null {
  const header = parseLogLine(readLineAt(text, start.lineStart));
  const reader: BlockReader = { text, pos: start.lineStart, start, header };
  readNext(reader);
  for (;;) {
    const raw = readNext(reader);
    if (raw === null) return null;
    const line = parseLogLine(raw);
    if (isForeignRecord(line, reader.header)) {
      // A raw traceback ends with its exception line, so a new record before it means the log was cut.
      if (reader.header.level === null) return null;
      continue;
    }
    const inner = innerContent(line.content, start);
    if (inner === null || isGroupMarker(inner)) return null;
    if (inner.trim() === "" || /^\s/.test(inner)) continue;
    return readException(reader, inner, line);
  }
}

function readException(reader: BlockReader, exceptionLine: string, line: LogLine): LogError {
  const match = EXCEPTION_LINE.exec(exceptionLine);
  const errorClass = match?.[1] ?? null;
  const parts = [match === null ? exceptionLine : (match[2] ?? "")];
  let chars = parts[0]?.length ?? 0;
  while (parts.length < MAX_MESSAGE_LINES && chars < MAX_MESSAGE_CHARS) {
    const next = readContinuation(reader, line);
    if (next === null) break;
    parts.push(next);
    chars += next.length + 1;
  }
  return { errorClass, errorMessage: capErrorMessage(parts.join("\n")) };
}

/** The next line of a multi-line message, or null where the message ends. */
function readContinuation(reader: BlockReader, exceptionLine: LogLine): string | null {
  const raw = readNext(reader);
  if (raw === null) return null;
  const line = parseLogLine(raw);
  if (isForeignRecord(line, exceptionLine)) return null;
  const inner = innerContent(line.content, reader.start);
  if (inner === null || inner.trim() === "" || isGroupMarker(inner) || isChainBanner(inner)) return null;
  return inner.trimEnd();
}

/** A prefixed line that does not continue `owner`'s record (raw lines always continue the record above). */
function isForeignRecord(line: LogLine, owner: LogLine): boolean {
  if (line.level === null) return false;
  return line.level !== owner.level || line.source !== owner.source;
}

/** Inside an exception group every line carries the group's `|` margin; a line without it ends the block. */
function innerContent(content: string, start: TracebackStart): string | null {
  switch (start.kind) {
    case "plain":
      return content;
    case "group": {
      const margin = `${start.indent}|`;
      if (!content.startsWith(margin)) return null;
      const rest = content.slice(margin.length);
      return rest.startsWith(" ") ? rest.slice(1) : rest;
    }
  }
}

// ---- text: fallback to the last error-level record ----

function findLastErrorLine(text: string): LogError | null {
  const cursors = ERROR_MARKERS.map(() => text.length);
  for (;;) {
    let best = -1;
    let bestMarker = -1;
    ERROR_MARKERS.forEach((marker, i) => {
      const from = cursors[i] ?? -1;
      const index = from < 0 ? -1 : text.lastIndexOf(marker, from);
      if (index > best) {
        best = index;
        bestMarker = i;
      }
    });
    if (best === -1) return null;
    const lineStart = text.lastIndexOf("\n", best - 1) + 1;
    const line = parseLogLine(readLineAt(text, lineStart));
    const message = line.content.trim();
    if (line.level !== null && ERROR_LEVELS.has(line.level) && message !== "") {
      return { errorClass: null, errorMessage: capErrorMessage(message) };
    }
    cursors[bestMarker] = lineStart - 1;
  }
}

// ---- text: lines ----

function parseLogLine(raw: string): LogLine {
  const cut = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
  const line = cut.includes("\x1b") ? cut.replace(ANSI_ESCAPE, "") : cut;
  const airflow = AIRFLOW_PREFIX.exec(line);
  if (airflow !== null) {
    return { content: line.slice(airflow[0].length), level: airflow[2] ?? null, source: airflow[1] ?? null };
  }
  const consoleLine = CONSOLE_PREFIX.exec(line);
  if (consoleLine !== null) {
    return {
      content: line.slice(consoleLine[0].length),
      level: (consoleLine[1] ?? "").toUpperCase(),
      source: null,
    };
  }
  return { content: line, level: null, source: null };
}

/** The line starting at `lineStart`, cut to MAX_LINE_CHARS, without its line break. */
function readLineAt(text: string, lineStart: number): string {
  const newline = text.indexOf("\n", lineStart);
  const end = Math.min(newline === -1 ? text.length : newline, lineStart + MAX_LINE_CHARS);
  return stripCarriageReturn(text.slice(lineStart, end));
}

function readNext(reader: BlockReader): string | null {
  if (reader.pos > reader.text.length) return null;
  const newline = reader.text.indexOf("\n", reader.pos);
  const end = newline === -1 ? reader.text.length : newline;
  const line = reader.text.slice(reader.pos, Math.min(end, reader.pos + MAX_LINE_CHARS));
  reader.pos = end + 1;
  return stripCarriageReturn(line);
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Airflow 2.8+ folds pre/post execution records between `::group::` / `::endgroup::` raw lines. */
function isGroupMarker(content: string): boolean {
  return content.startsWith("::group::") || content.startsWith("::endgroup::");
}

function isChainBanner(content: string): boolean {
  const trimmed = content.trim();
  return CHAIN_BANNERS.includes(trimmed);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// ---- structured ----

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The entry list: the API's `content` array itself, or the response object that holds it. */
function readEntries(content: unknown): readonly unknown[] | null {
  if (Array.isArray(content)) return content;
  if (isRecord(content) && Array.isArray(content.content)) return content.content;
  return null;
}

function findLastErrorDetail(entries: readonly unknown[]): LogError | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (!isRecord(entry)) continue;
    const error = errorFromDetail(entry.error_detail) ?? errorFromDetail(entry.exception);
    if (error !== null) return error;
  }
  return null;
}

/** `error_detail` as structlog writes it (a list of records), or already rendered as traceback text. */
function errorFromDetail(detail: unknown): LogError | null {
  if (typeof detail === "string") return findLastTracebackError(detail);
  if (!Array.isArray(detail)) return null;
  for (const record of detail) {
    const error = errorFromRecord(record);
    if (error !== null) return error;
  }
  return null;
}

function errorFromRecord(record: unknown): LogError | null {
  if (!isRecord(record)) return null;
  const excType = record.exc_type;
  if (typeof excType !== "string" || excType.trim() === "") return null;
  return { errorClass: excType.trim(), errorMessage: capErrorMessage(recordMessage(record)) };
}

/** For a SyntaxError, the bare `msg` (as a text traceback prints it), not `exc_value` with file and line appended. */
function recordMessage(record: JsonRecord): string {
  const syntaxError = record.syntax_error;
  if (isRecord(syntaxError) && typeof syntaxError.msg === "string") return syntaxError.msg;
  return typeof record.exc_value === "string" ? record.exc_value : "";
}

/** String entries as they are, object entries by their `event`: the text of logs that were not structured. */
function joinEvents(entries: readonly unknown[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") lines.push(entry);
    else if (isRecord(entry) && typeof entry.event === "string") lines.push(entry.event);
  }
  return lines.join("\n");
}

function findLastErrorEvent(entries: readonly unknown[]): LogError | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (!isRecord(entry) || typeof entry.level !== "string" || typeof entry.event !== "string") continue;
    const message = entry.event.trim();
    if (ERROR_LEVELS.has(entry.level.toUpperCase()) && message !== "") {
      return { errorClass: null, errorMessage: capErrorMessage(message) };
    }
  }
  return null;
}

function noError(): LogError {
  return { errorClass: null, errorMessage: null };
}
