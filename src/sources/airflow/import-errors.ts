/**
 * DAG import errors: what the error is, and a stable key for "the same import error" across parse loops,
 * workers and bundle versions. Pure (node:crypto only hashes).
 */
import { createHash } from "node:crypto";
import { capErrorMessage, findLastTracebackError } from "./logs.js";
import type { LogError } from "./types.js";

/**
 * The error of an import-error stack trace. Airflow stores either a traceback (then its last `ExcType: message`
 * line, read as for task logs) or, when tracebacks are disabled or for its own DAG checks, only the text:
 * `AirflowDagCycleException: Cycle detected in DAG ...` or a bare `Cycle detected in DAG ...`. A first line
 * that starts with an exception-like name (CapWords, or dotted) gives the class; otherwise the class is null
 * and the message is the text.
 */
export function importErrorSummary(stackTrace: string): LogError {
  if (typeof stackTrace !== "string" || stackTrace.trim() === "")
    return { errorClass: null, errorMessage: null };
  return findLastTracebackError(stackTrace) ?? summarizePlainText(stackTrace);
}

const LEADING_EXCEPTION = /^((?:[\p{L}_][\p{L}\p{N}_]*\.)*\p{Lu}[\p{L}\p{N}_]*)(?::(?: ([\s\S]*)|$)|$)/u;

function summarizePlainText(text: string): LogError {
  const trimmed = capErrorMessage(text.trim());
  const match = LEADING_EXCEPTION.exec(trimmed);
  if (match === null) return { errorClass: null, errorMessage: trimmed };
  return { errorClass: match[1] ?? null, errorMessage: (match[2] ?? "").trim() };
}

/**
 * Bumped when the normalisation below changes: keys from different versions never compare equal, so a rule
 * change shows up as "new" import errors once rather than silently merging or splitting them.
 */
export const IMPORT_ERROR_KEY_VERSION = 1;

/**
 * sha256 (first 16 hex characters) of the file and the stack trace with volatile parts removed.
 *
 * Removed, because they change without the error changing:
 * - path prefixes before `site-packages/` / `dist-packages/` (Python version, virtualenv location) and before a
 *   bundle checkout's version directory (`versions/<commit>/`, `.worktrees/<commit>/`, `tracking_repo/`);
 * - line numbers in `File "...", line N` frames: an edit elsewhere in the DAG file, or an Airflow or provider
 *   upgrade, moves them while the problem (the same frames, the same message) stays. The function names and the
 *   source lines of the frames are kept, so a different failure site still gives a different key;
 * - Python 3.11+ caret lines (`^^^^`, `~~~`), which depend on the Python version only;
 * - memory addresses (`0x7f3a...`), full timestamps, PIDs and `[Previous line repeated N more times]` counts;
 * - line-ending and trailing-whitespace differences.
 * Kept: everything else, including the rest of each path, so two DAG files never share a key.
 */
export function importErrorKey(filename: string, stackTrace: string): string {
  const material = [
    `import-error/v${IMPORT_ERROR_KEY_VERSION}`,
    normalizePath(filename),
    normalizeStackTrace(stackTrace),
  ];
  return createHash("sha256").update(material.join("\0")).digest("hex").slice(0, 16);
}

const SITE_PACKAGES = /^.*\/(?:site|dist)-packages\//;
const BUNDLE_VERSION_DIR = /^.*\/(?:versions|\.worktrees|worktrees)\/[0-9a-f]{7,64}\//;
const TRACKING_REPO_DIR = /^.*\/tracking_repo\//;
const FRAME_LINE = /^(\s*File "([^"\n]*)")(?:, line \d+)?(.*)$/;
const CARET_LINE = /^\s*[\^~]+[\s^~]*$/;
const MEMORY_ADDRESS = /\b0x[0-9a-fA-F]{6,16}\b/g;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?\b/g;
const PID = /\b(pid)(\s*[:=]?\s*)\d+/gi;
const REPEATED = /\[Previous line repeated \d+ more times?\]/g;
/** Only this much of a stack trace is keyed: enough to tell errors apart, bounded work on a hostile input. */
const MAX_KEYED_CHARS = 100_000;

/** Drops the machine- and version-specific prefixes of a path (to a fixed point); other paths pass unchanged. */
export function normalizePath(path: string): string {
  let current = path.trim().replaceAll("\\", "/");
  for (;;) {
    const next = stripVolatilePrefix(current);
    if (next === current) return current;
    current = next;
  }
}

/** One step; each change makes the path shorter, so normalizePath terminates. */
function stripVolatilePrefix(path: string): string {
  const packages = SITE_PACKAGES.exec(path);
  if (packages !== null) return `site-packages/${path.slice(packages[0].length)}`;
  for (const pattern of [BUNDLE_VERSION_DIR, TRACKING_REPO_DIR]) {
    const match = pattern.exec(path);
    if (match !== null) return path.slice(match[0].length);
  }
  return path;
}

function normalizeStackTrace(stackTrace: string): string {
  const lines = stackTrace.slice(0, MAX_KEYED_CHARS).split(/\r?\n/);
  const kept: string[] = [];
  for (const line of lines) {
    if (CARET_LINE.test(line)) continue;
    kept.push(normalizeLine(line).trimEnd());
  }
  return kept.join("\n").trim();
}

function normalizeLine(line: string): string {
  const frame = FRAME_LINE.exec(line);
  const withPath = frame === null ? line : `File "${normalizePath(frame[2] ?? "")}"${frame[3] ?? ""}`;
  return withPath
    .replace(MEMORY_ADDRESS, "0x?")
    .replace(TIMESTAMP, "<ts>")
    .replace(PID, "$1$2<pid>")
    .replace(REPEATED, "[Previous line repeated]");
}
