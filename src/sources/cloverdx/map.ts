/**
 * CloverDX execution records to signals. Pure. The one place that knows the REST record's field names: the
 * public documentation only shows `runId`, `sandboxCode` and `jobFile` (and `@totalItems` / `members` on the
 * collection); the rest follows the Execution History columns and the listener's `run.*` properties, and a
 * server's own generated docs (`/clover/api/rest/v1/docs.html`) are the authority. Each field is read from
 * the first present key of its list below, so a server that names a field differently needs one edit here.
 *
 * Grouping rule: a failing child job and the jobflow that ran it are ONE signal, keyed on the root run
 * (`instance|rootRunId`), named after the root's job file, with stage and error from the deepest failing run
 * of that root. Whichever of parent or child is read first, the key and the fingerprint are the same, so the
 * pair never counts twice.
 */
import type { JsonObject, Severity, SignalInput } from "../../core/types.js";
import { parseServerTime } from "./time.js";
import type { CloverdxExecution, CloverdxLogError } from "./types.js";

export const CLOVERDX_SOURCE = "cloverdx";

/** REST (`/clover/api/rest/v1/executions`) member fields, first match wins. */
export const REST_FIELDS = {
  runId: ["runId", "id"],
  status: ["status"],
  sandbox: ["sandboxCode", "sandbox"],
  jobFile: ["jobFile", "jobUrl"],
  executionType: ["executionType", "jobType"],
  parentRunId: ["parentRunId", "parentId"],
  rootRunId: ["rootRunId", "rootId"],
  submitTime: ["submitTime", "submittedTime", "submitted"],
  startTime: ["startTime", "started"],
  stopTime: ["stopTime", "endTime", "finishTime", "finished"],
  errorMessage: ["errorMessage", "errMessage"],
  exception: ["exception", "errException", "errorException"],
  errorComponentId: ["errorComponentId", "errComponent", "errNode"],
  errorComponentType: ["errorComponentType", "errComponentType", "errNodeType"],
  executedBy: ["executedBy", "username", "user"],
  clusterNode: ["nodeId", "clusterNodeId", "node"],
} as const;

/** REST collection fields. */
export const REST_COLLECTION = { members: "members", total: "@totalItems", self: "@self" } as const;

export const SIGNAL_TYPES = {
  failed: "cloverdx_run_failed",
  unknown: "cloverdx_run_unknown",
  aborted: "cloverdx_run_aborted",
} as const;
export type CloverdxSignalType = (typeof SIGNAL_TYPES)[keyof typeof SIGNAL_TYPES];

/** Statuses that finish a run; recovery reads FINISHED_OK, the rest can be failures. */
export const FAILURE_STATUSES = ["ERROR", "TIMEOUT", "UNKNOWN", "N_A", "ABORTED"] as const;

type Kind = "failed" | "unknown" | "aborted";

/** Which signal a status makes, or null (success, still running, or ABORTED when not included). */
export function classifyStatus(status: string, includeAborted: boolean): Kind | null {
  switch (status.toUpperCase().replace(/\s+/g, "_")) {
    case "ERROR":
    case "TIMEOUT":
      return "failed";
    case "UNKNOWN":
    case "N_A":
    case "NOT_AVAILABLE":
      return "unknown";
    case "ABORTED":
      return includeAborted ? "aborted" : null;
    default:
      return null;
  }
}

const KIND_RANK: Record<Kind, number> = { failed: 3, unknown: 2, aborted: 1 };
const SEVERITY: Record<Kind, Severity> = { failed: "error", unknown: "warning", aborted: "warning" };

function pick(record: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) {
    const v = record[key];
    if (v !== undefined && v !== null && v !== "") return v;
  }
  return undefined;
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/** A REST member as a CloverdxExecution; null when it has no run id or status (not an execution). */
export function readRestExecution(raw: unknown, serverTimeZone: string): CloverdxExecution | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const f = REST_FIELDS;
  // The run id is also the last segment of the member's own URL.
  const self = text(r[REST_COLLECTION.self]);
  const runId = text(pick(r, f.runId)) ?? (self ? (/\/(\d+)\/?$/.exec(self)?.[1] ?? null) : null);
  const status = text(pick(r, f.status));
  if (runId === null || status === null) return null;
  const time = (keys: readonly string[]) => parseServerTime(pick(r, keys), serverTimeZone);
  return {
    runId,
    status: status.toUpperCase(),
    sandbox: text(pick(r, f.sandbox)),
    jobFile: text(pick(r, f.jobFile)),
    executionType: text(pick(r, f.executionType)),
    parentRunId: text(pick(r, f.parentRunId)),
    rootRunId: text(pick(r, f.rootRunId)),
    submitTime: time(f.submitTime),
    startTime: time(f.startTime),
    stopTime: time(f.stopTime),
    errorMessage: text(pick(r, f.errorMessage)),
    exception: text(pick(r, f.exception)),
    errorComponentId: text(pick(r, f.errorComponentId)),
    errorComponentType: text(pick(r, f.errorComponentType)),
    executedBy: text(pick(r, f.executedBy)),
    clusterNode: text(pick(r, f.clusterNode)),
  };
}

/** The run's own root when it names none (a top-level run is its own root). */
function declaredRoot(e: CloverdxExecution): string | null {
  if (e.rootRunId !== null) return e.rootRunId;
  return e.parentRunId === null ? e.runId : null;
}

/** The root run id of `e`: declared, else found by walking parents through `byId`, else the top reached. */
export function rootRunIdOf(e: CloverdxExecution, byId: ReadonlyMap<string, CloverdxExecution>): string {
  let current = e;
  for (let i = 0; i < 100; i++) {
    const root = declaredRoot(current);
    if (root !== null) return root;
    const parent = current.parentRunId === null ? undefined : byId.get(current.parentRunId);
    if (parent === undefined) return current.parentRunId ?? current.runId;
    current = parent;
  }
  return current.runId;
}

/** Runs from the root down to `e` (as far as `byId` knows them). */
function chainOf(e: CloverdxExecution, byId: ReadonlyMap<string, CloverdxExecution>): CloverdxExecution[] {
  const chain = [e];
  const seen = new Set([e.runId]);
  let current = e;
  while (current.parentRunId !== null && !seen.has(current.parentRunId)) {
    const parent = byId.get(current.parentRunId);
    if (parent === undefined) break;
    chain.unshift(parent);
    seen.add(parent.runId);
    current = parent;
  }
  return chain;
}

/** The exception's class without its package, from a stack trace's innermost `Caused by:` or first line. */
export function exceptionClass(exception: string | null): string | null {
  if (exception === null) return null;
  const lines = exception.split(/\r?\n/).map((l) => l.trim());
  const causes = lines
    .filter((l) => l.startsWith("Caused by:"))
    .map((l) => l.slice("Caused by:".length).trim());
  const line = causes.at(-1) ?? lines.find((l) => l !== "") ?? "";
  const m = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?::|$)/.exec(line);
  if (m?.[1] === undefined || !/(Exception|Error|Throwable)$|^[A-Z]/.test(m[1].split(".").pop() ?? ""))
    return null;
  return m[1].split(".").pop() ?? null;
}

/** `Type:ID` of the failing component (e.g. DBOutputTable:WRITE_ORDERS), or whichever half is known. */
export function componentStage(type: string | null, id: string | null): string | null {
  if (type !== null && id !== null) return `${type}:${id}`;
  return id ?? type;
}

const MESSAGE_MAX = 4000;
function excerpt(value: string | null): string | null {
  if (value === null) return null;
  return value.length > MESSAGE_MAX ? `${value.slice(0, MESSAGE_MAX)}…` : value;
}

export interface MapContext {
  instance: string;
  includeAborted: boolean;
  /** Agency of a sandbox code (resolved rules + database ids). */
  agencyOf: (sandbox: string | null) => { id: string | null; slug: string | null };
  /** Errors read from run logs, by run id (only for runs whose record had no message). */
  logErrors: ReadonlyMap<string, CloverdxLogError>;
  now: Date;
}

/** The failing run a root's signal describes: the worst status, then the deepest, then one with a message. */
function chooseCulprit(
  failures: readonly { e: CloverdxExecution; kind: Kind; depth: number }[],
): { e: CloverdxExecution; kind: Kind; depth: number } | undefined {
  return [...failures].sort(
    (a, b) =>
      KIND_RANK[b.kind] - KIND_RANK[a.kind] ||
      b.depth - a.depth ||
      Number(b.e.errorMessage !== null) - Number(a.e.errorMessage !== null) ||
      compareRunIds(a.e.runId, b.e.runId),
  )[0];
}

export function compareRunIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One signal per root run that has a failing run among `executions`. `byId` knows every execution read,
 * plus ancestors fetched for failing children (their job file names the group).
 */
export function mapFailures(
  executions: readonly CloverdxExecution[],
  byId: ReadonlyMap<string, CloverdxExecution>,
  ctx: MapContext,
): SignalInput[] {
  const byRoot = new Map<string, { e: CloverdxExecution; kind: Kind; depth: number }[]>();
  for (const e of executions) {
    const kind = classifyStatus(e.status, ctx.includeAborted);
    if (kind === null) continue;
    const root = rootRunIdOf(e, byId);
    const list = byRoot.get(root) ?? [];
    if (!list.some((x) => x.e.runId === e.runId)) list.push({ e, kind, depth: chainOf(e, byId).length });
    byRoot.set(root, list);
  }
  const signals: SignalInput[] = [];
  for (const [rootId, failures] of [...byRoot.entries()].sort((a, b) => compareRunIds(a[0], b[0]))) {
    const culprit = chooseCulprit(failures);
    if (culprit === undefined) continue;
    signals.push(mapRootFailure(rootId, culprit, failures, byId, ctx));
  }
  return signals;
}

function mapRootFailure(
  rootId: string,
  culprit: { e: CloverdxExecution; kind: Kind },
  failures: readonly { e: CloverdxExecution }[],
  byId: ReadonlyMap<string, CloverdxExecution>,
  ctx: MapContext,
): SignalInput {
  const e = culprit.e;
  const chain = chainOf(e, byId);
  const root = byId.get(rootId) ?? (chain[0]?.runId === rootId ? chain[0] : undefined);
  const jobFile = root?.jobFile ?? chain[0]?.jobFile ?? e.jobFile;
  const sandbox = root?.sandbox ?? chain[0]?.sandbox ?? e.sandbox;
  const log = ctx.logErrors.get(e.runId);
  const status = e.status.toUpperCase();
  const errorClass =
    exceptionClass(e.exception) ??
    log?.errorClass ??
    (status === "TIMEOUT" ? "Timeout" : culprit.kind === "unknown" ? "StatusUnknown" : null) ??
    (culprit.kind === "aborted" ? "Aborted" : null);
  const errorMessage =
    e.errorMessage ??
    log?.errorMessage ??
    (status === "TIMEOUT"
      ? "the job ran longer than its timeout"
      : culprit.kind === "unknown"
        ? "the run's status is unknown (the server was probably restarted while it ran)"
        : culprit.kind === "aborted"
          ? "the run was aborted"
          : null);
  const stage = componentStage(
    e.errorComponentType ?? log?.componentType ?? null,
    e.errorComponentId ?? log?.componentId ?? null,
  );
  const agency = ctx.agencyOf(sandbox);
  const isChild = e.runId !== rootId;
  const details: JsonObject = {
    instance: ctx.instance,
    root_run_id: rootId,
    run_id: e.runId,
    sandbox,
    job_file: jobFile,
    failing_job_file: e.jobFile,
    status,
    execution_type: e.executionType,
    error_component_id: e.errorComponentId ?? log?.componentId ?? null,
    error_component_type: e.errorComponentType ?? log?.componentType ?? null,
    log_used: e.errorMessage === null && log !== undefined,
    chain: chain.map((c) => ({ run_id: c.runId, job_file: c.jobFile, status: c.status })),
    ...(failures.length > 1
      ? {
          failing_runs: failures
            .map((f) => f.e)
            .sort((a, b) => compareRunIds(a.runId, b.runId))
            .map((f) => ({ run_id: f.runId, job_file: f.jobFile, status: f.status })),
        }
      : {}),
    ...(e.exception !== null ? { exception: excerpt(e.exception) } : {}),
  };
  const what =
    culprit.kind === "failed"
      ? status === "TIMEOUT"
        ? "timed out"
        : "failed"
      : culprit.kind === "unknown"
        ? "ended with an unknown status"
        : "was aborted";
  return {
    source: CLOVERDX_SOURCE,
    signal_type: SIGNAL_TYPES[culprit.kind],
    severity: SEVERITY[culprit.kind],
    occurred_at: e.stopTime ?? root?.stopTime ?? e.startTime ?? ctx.now.toISOString(),
    agency_id: agency.id,
    agency_slug: agency.slug,
    job_name: jobFile,
    run_id: rootId,
    task_id: isChild ? e.jobFile : null,
    stage,
    error_class: errorClass,
    error_message: excerpt(errorMessage),
    summary: isChild
      ? `${e.jobFile ?? "a child job"} (run ${e.runId}) ${what} inside ${jobFile ?? "its jobflow"} (run ${rootId})${sandbox ? ` in sandbox ${sandbox}` : ""}`
      : `${jobFile ?? "a job"} (run ${rootId}) ${what}${sandbox ? ` in sandbox ${sandbox}` : ""}`,
    details,
    dedup_key: `${ctx.instance}|${rootId}`,
  };
}

/**
 * The Simple HTTP API has no parent or root run ids. A failing run is taken as the child of a failing
 * jobflow (`.jbf`) of the same sandbox that was submitted no later than it, has a lower run id, and stopped
 * no earlier than it: the jobflow that ran it (the innermost, when nested jobflows all qualify and form one
 * chain). Two unrelated candidates leave the run its own root (two groups rather than a wrong one).
 * Returns new records; the input is not changed.
 */
export function inferParentsFromTiming(
  executions: readonly CloverdxExecution[],
  includeAborted: boolean,
): CloverdxExecution[] {
  const failing = (e: CloverdxExecution) => classifyStatus(e.status, includeAborted) !== null;
  const sorted = [...executions].sort((a, b) => compareRunIds(a.runId, b.runId));
  const out = new Map<string, CloverdxExecution>();
  for (const e of sorted) {
    if (e.parentRunId !== null || !failing(e) || e.submitTime === null || e.stopTime === null) {
      out.set(e.runId, e);
      continue;
    }
    const submitted = Date.parse(e.submitTime);
    const stopped = Date.parse(e.stopTime);
    const parents = sorted.filter(
      (p) =>
        p.runId !== e.runId &&
        compareRunIds(p.runId, e.runId) < 0 &&
        failing(p) &&
        (p.jobFile ?? "").toLowerCase().endsWith(".jbf") &&
        p.sandbox === e.sandbox &&
        p.submitTime !== null &&
        p.stopTime !== null &&
        Date.parse(p.submitTime) <= submitted &&
        Date.parse(p.stopTime) >= stopped,
    );
    // Nested jobflows all contain the run: the innermost is its parent, if they form one chain.
    const nested = parents.every((p, i) => {
      const outer = parents[i - 1];
      return (
        outer === undefined ||
        (Date.parse(outer.submitTime ?? "") <= Date.parse(p.submitTime ?? "") &&
          Date.parse(outer.stopTime ?? "") >= Date.parse(p.stopTime ?? ""))
      );
    });
    const parent = nested ? out.get(parents.at(-1)?.runId ?? "") : undefined;
    out.set(
      e.runId,
      parent === undefined
        ? e
        : { ...e, parentRunId: parent.runId, rootRunId: parent.rootRunId ?? parent.runId },
    );
  }
  return executions.map((e) => out.get(e.runId) ?? e);
}
