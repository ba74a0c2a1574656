/**
 * Data-quality results to signals. Pure. The fingerprint sees the stable test identity (as `stage`) and the
 * tested model (as `job_name`), so one failing test is one group across runs; counts in its message are
 * normalised away by the fingerprint's rules.
 */
import type { JsonObject, Severity, SignalInput } from "../../core/types.js";
import type { DqResult } from "./types.js";

export const DQ_SOURCE = "dq";

export interface DqMapContext {
  instance: string;
  warnSeverity: Severity;
  agency: { id: string | null; slug: string | null };
  /** Internal user id of the owner named in the tool's metadata, if any. */
  owner: string | null;
}

const MESSAGE_MAX = 4000;

/** The signal for a failing, erroring or warning result; null for pass and skipped (recovery reads those). */
export function mapDqResult(result: DqResult, ctx: DqMapContext): SignalInput | null {
  let signalType: string;
  let severity: Severity;
  switch (result.outcome) {
    case "pass":
    case "skipped":
      return null;
    case "warn":
      signalType = "dq_test_warned";
      severity = ctx.warnSeverity;
      break;
    case "fail":
    case "error":
      signalType = result.kind === "node" ? "dq_model_error" : "dq_test_failed";
      severity = "error";
      break;
  }
  const message = result.message === null ? null : result.message.slice(0, MESSAGE_MAX);
  const details: JsonObject = {
    ...result.details,
    instance: ctx.instance,
    tool: result.tool,
    test_id: result.testId,
    test_name: result.testName,
    outcome: result.outcome,
    invocation_id: result.invocationId,
    column: result.column,
    failures: result.failures,
    tags: [...result.tags],
    ...(ctx.owner !== null ? { owner: ctx.owner } : {}),
  };
  return {
    source: DQ_SOURCE,
    signal_type: signalType,
    severity,
    occurred_at: result.occurredAt,
    agency_id: ctx.agency.id,
    agency_slug: ctx.agency.slug,
    job_name: result.model ?? result.testName,
    run_id: result.invocationId,
    task_id: result.testName,
    stage: result.testId,
    error_class: result.testType,
    error_message: message,
    summary: `${result.tool} ${result.kind === "node" ? "node" : "test"} ${result.testName} ${result.outcome}${
      result.model ? ` on ${result.model}` : ""
    }${result.failures !== null ? ` (${result.failures} failing)` : ""}`,
    details,
    dedup_key: `${ctx.instance}|${result.tool}|${result.invocationId}|${result.testId}`,
  };
}

/** A string value of the tool's metadata (`meta.agency`, `meta.owner`), tolerating lists and nesting. */
export function metaString(meta: Record<string, unknown>, key: string): string | null {
  const value = meta[key];
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (Array.isArray(value)) {
    const first = value.find((v) => typeof v === "string" && v.trim() !== "");
    return typeof first === "string" ? first.trim() : null;
  }
  return null;
}
