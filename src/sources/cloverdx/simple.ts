/**
 * The Simple HTTP API's `executions_history?returnType=DESCRIPTION` text, parsed defensively. Pure.
 *
 *   execution|runID|status|username|sandbox|graphID|submitted|finished|clusterNode|graphVersion
 *   phase|index|execTimeInMillis
 *   node|nodeID|status|cpu...|label
 *   port|...
 *
 * Times are the server's wall clock ("yyyy-MM-dd HH:mm:ss", no zone). A line that is not one of these (a
 * header, an HTML error page's line), an execution line with too few fields or an implausible run id,
 * status or time is skipped and counted; blank lines are ignored. A `\|` inside a field is a literal pipe.
 * Extra trailing fields (a newer server) are ignored. A node line with status ERROR names the failing
 * component of the execution above it.
 */
import { parseServerTime } from "./time.js";
import type { CloverdxExecution } from "./types.js";

export interface ParsedHistory {
  executions: CloverdxExecution[];
  /** Lines that were not understood (blank lines excluded). */
  skipped: number;
  /** Lines that start with `execution|`, understood or not (paging counts them). */
  executionLines: number;
  /** The first few skipped lines, shortened, for a log line. */
  samples: string[];
}

/** Splits on pipes not escaped by a backslash; `\|` and `\\` are unescaped. */
export function splitPipes(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\" && (line[i + 1] === "|" || line[i + 1] === "\\")) {
      current += line[i + 1];
      i++;
    } else if (ch === "|") {
      fields.push(current);
      current = "";
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

const EXECUTION_MIN_FIELDS = 8;
const RUN_ID = /^\d{1,19}$/;
const STATUS = /^[A-Z][A-Z_]{1,30}$/;

function field(value: string | undefined): string | null {
  const v = value?.trim();
  return v === undefined || v === "" || v.toLowerCase() === "null" ? null : v;
}

/** A time field, or undefined when it is present but not a time (the line is then rejected). */
function timeField(value: string | undefined, timeZone: string): string | null | undefined {
  const v = field(value);
  if (v === null) return null;
  // The published example ends a time with a stray character; only a trailing non-digit is forgiven.
  return parseServerTime(v.replace(/[^\d]+$/, ""), timeZone) ?? undefined;
}

export function parseExecutionsHistory(body: string, serverTimeZone: string): ParsedHistory {
  const executions: CloverdxExecution[] = [];
  const samples: string[] = [];
  let skipped = 0;
  let executionLines = 0;
  let current: CloverdxExecution | null = null;
  const skip = (line: string) => {
    skipped += 1;
    if (samples.length < 3) samples.push(line.length > 120 ? `${line.slice(0, 120)}…` : line);
  };
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.replace(/^\uFEFF/, "");
    if (line.trim() === "") continue;
    const fields = splitPipes(line);
    const kind = fields[0]?.trim().toLowerCase();
    if (kind === "execution") {
      executionLines += 1;
      current = null;
      if (fields.length < EXECUTION_MIN_FIELDS) {
        skip(line);
        continue;
      }
      const runId = field(fields[1]);
      const status = field(fields[2])?.toUpperCase() ?? null;
      const submitted = timeField(fields[6], serverTimeZone);
      const finished = timeField(fields[7], serverTimeZone);
      if (runId === null || !RUN_ID.test(runId) || status === null || !STATUS.test(status)) {
        skip(line);
        continue;
      }
      if (submitted === undefined || finished === undefined) {
        skip(line);
        continue;
      }
      current = {
        runId,
        status,
        sandbox: field(fields[4]),
        jobFile: field(fields[5]),
        executionType: null,
        parentRunId: null,
        rootRunId: null,
        submitTime: submitted,
        startTime: null,
        stopTime: finished,
        errorMessage: null,
        exception: null,
        errorComponentId: null,
        errorComponentType: null,
        executedBy: field(fields[3]),
        clusterNode: field(fields[8]),
      };
      executions.push(current);
    } else if (kind === "node") {
      if (current === null || fields.length < 3) {
        skip(line);
        continue;
      }
      const nodeId = field(fields[1]);
      const status = field(fields[2])?.toUpperCase();
      if (status === "ERROR" && nodeId !== null && current.errorComponentId === null)
        current.errorComponentId = nodeId;
    } else if (kind === "phase" || kind === "port") {
      if (current === null) skip(line);
    } else skip(line);
  }
  return { executions, skipped, executionLines, samples };
}
