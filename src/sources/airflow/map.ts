/**
 * Airflow records to signals. Pure: every input (agency, severity, the log's error) comes in resolved.
 * Dedup keys start with the instance name, so two Airflow deployments never collide, and name exactly the
 * event (a try of a task, a DAG run, an import error's content), so re-ingesting is a no-op.
 */
import type { AirflowSignalType } from "../../config.js";
import type { JsonObject, Severity, SignalInput } from "../../core/types.js";
import type { AirflowDagRun, AirflowImportError, AirflowTaskInstance, LogError } from "./types.js";

export const AIRFLOW_SOURCE = "airflow";

export interface MapContext {
  instance: string;
  severities: Readonly<Record<AirflowSignalType, Severity>>;
  agency: { id: string | null; slug: string | null };
}

const LOG_EXCERPT = 4000;

function excerpt(text: string | null): string | null {
  if (text === null) return null;
  return text.length > LOG_EXCERPT ? `${text.slice(0, LOG_EXCERPT)}…` : text;
}

/**
 * The exception's class without its module: Airflow 2's text logs name `airflow.exceptions.AirflowException`
 * where Airflow 3's structured logs name `AirflowException`. One name keeps a failure in one group across an
 * upgrade (the class is part of the fingerprint).
 */
export function bareClassName(errorClass: string | null): string | null {
  if (errorClass === null) return null;
  const bare = errorClass.trim().split(".").pop() ?? "";
  return bare === "" ? errorClass : bare;
}

function taskLabel(ti: Pick<AirflowTaskInstance, "task_id" | "map_index">): string {
  return ti.map_index >= 0 ? `${ti.task_id}[${ti.map_index}]` : ti.task_id;
}

/** A task instance whose retries are exhausted (state failed). `blocked`: its run's upstream_failed tasks. */
export function mapTaskFailure(
  ti: AirflowTaskInstance,
  ctx: MapContext & { logError: LogError | null; blocked: readonly string[]; now: Date },
): SignalInput {
  const details: JsonObject = {
    instance: ctx.instance,
    dag_id: ti.dag_id,
    dag_run_id: ti.dag_run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    try_number: ti.try_number,
    max_tries: ti.max_tries,
    hostname: ti.hostname,
    logical_date: ti.logical_date,
    log_found: ctx.logError !== null,
    ...(ctx.blocked.length > 0 ? { blocked_tasks: [...ctx.blocked] } : {}),
  };
  return {
    source: AIRFLOW_SOURCE,
    signal_type: "task_failed",
    severity: ctx.severities.task_failed,
    occurred_at: ti.end_date ?? ti.start_date ?? ctx.now.toISOString(),
    agency_id: ctx.agency.id,
    agency_slug: ctx.agency.slug,
    job_name: ti.dag_id,
    run_id: ti.dag_run_id,
    task_id: ti.task_id,
    stage: ti.operator,
    error_class: bareClassName(ctx.logError?.errorClass ?? null),
    error_message: excerpt(ctx.logError?.errorMessage ?? null),
    summary: `Task ${taskLabel(ti)} of DAG ${ti.dag_id} failed (try ${ti.try_number}${
      ti.max_tries !== null ? ` of ${ti.max_tries + 1}` : ""
    })${ctx.blocked.length > 0 ? `; ${ctx.blocked.length} downstream task(s) blocked` : ""}`,
    details,
    dedup_key: `${ctx.instance}|${ti.dag_id}|${ti.dag_run_id}|${ti.task_id}|${ti.map_index}|${ti.try_number}`,
  };
}

/** A failed DAG run in which no task failed: a dagrun_timeout, or a run marked failed by hand. */
export function mapDagRunFailure(
  run: AirflowDagRun,
  ctx: MapContext & { timeoutSeconds: number | null; blocked: readonly string[]; now: Date },
): SignalInput {
  const durationSeconds =
    run.start_date !== null && run.end_date !== null
      ? (Date.parse(run.end_date) - Date.parse(run.start_date)) / 1000
      : null;
  const timedOut =
    ctx.timeoutSeconds !== null && durationSeconds !== null && durationSeconds >= ctx.timeoutSeconds;
  return {
    source: AIRFLOW_SOURCE,
    signal_type: "dag_run_failed",
    severity: ctx.severities.dag_run_failed,
    occurred_at: run.end_date ?? run.start_date ?? ctx.now.toISOString(),
    agency_id: ctx.agency.id,
    agency_slug: ctx.agency.slug,
    job_name: run.dag_id,
    run_id: run.dag_run_id,
    task_id: null,
    stage: null,
    error_class: timedOut ? "DagRunTimeout" : "DagRunFailed",
    error_message: timedOut
      ? `DAG run exceeded its dagrun_timeout of ${ctx.timeoutSeconds} seconds`
      : "DAG run failed without a failed task (marked failed, or stopped by the scheduler)",
    summary: `DAG run ${run.dag_run_id} of ${run.dag_id} ${timedOut ? "timed out" : "failed"}`,
    details: {
      instance: ctx.instance,
      dag_id: run.dag_id,
      dag_run_id: run.dag_run_id,
      run_type: run.run_type,
      logical_date: run.logical_date,
      duration_seconds: durationSeconds,
      dagrun_timeout_seconds: ctx.timeoutSeconds,
      ...(ctx.blocked.length > 0 ? { blocked_tasks: [...ctx.blocked] } : {}),
    },
    // With the end: a run that is cleared and fails again is a new failure, not a duplicate.
    dedup_key: `${ctx.instance}|dag_run|${run.dag_id}|${run.dag_run_id}|${run.end_date ?? ""}`,
  };
}

/** An entry of the import-error snapshot. `key` identifies the error's content (see importErrorKey). */
export function mapImportError(
  error: AirflowImportError,
  ctx: MapContext & { key: string; summary: LogError; now: Date },
): SignalInput {
  return {
    source: AIRFLOW_SOURCE,
    signal_type: "dag_import_error",
    severity: ctx.severities.dag_import_error,
    occurred_at: error.timestamp ?? ctx.now.toISOString(),
    agency_id: ctx.agency.id,
    agency_slug: ctx.agency.slug,
    job_name: error.filename,
    run_id: null,
    task_id: null,
    stage: "import",
    error_class: bareClassName(ctx.summary.errorClass),
    error_message: excerpt(ctx.summary.errorMessage),
    summary: `DAG file ${error.filename} fails to import: no DAG in it runs`,
    details: {
      instance: ctx.instance,
      filename: error.filename,
      import_key: ctx.key,
      bundle_name: error.bundle_name,
      import_error_id: error.import_error_id,
      stack_trace: excerpt(error.stack_trace),
    },
    // Airflow keeps an import error's id while the file keeps failing and issues a new one when a fixed file
    // breaks again: with it, a recurrence is a new signal (and reopens or opens a group), not a duplicate.
    dedup_key: `${ctx.instance}|import_error|${error.filename}|${error.import_error_id}|${ctx.key}`,
  };
}

/** An SLA miss carried by a task instance (Airflow 2). */
export function mapSlaMiss(ti: AirflowTaskInstance, ctx: MapContext & { now: Date }): SignalInput | null {
  const miss = ti.sla_miss;
  if (miss === null) return null;
  return {
    source: AIRFLOW_SOURCE,
    signal_type: "sla_miss",
    severity: ctx.severities.sla_miss,
    occurred_at: miss.timestamp ?? ti.end_date ?? ctx.now.toISOString(),
    agency_id: ctx.agency.id,
    agency_slug: ctx.agency.slug,
    job_name: ti.dag_id,
    run_id: ti.dag_run_id,
    task_id: ti.task_id,
    stage: ti.operator,
    error_class: "SlaMiss",
    error_message: miss.description ?? `task ${ti.task_id} missed its SLA`,
    summary: `Task ${taskLabel(ti)} of DAG ${ti.dag_id} missed its SLA`,
    details: {
      instance: ctx.instance,
      dag_id: ti.dag_id,
      dag_run_id: ti.dag_run_id,
      task_id: ti.task_id,
      execution_date: miss.execution_date,
    },
    dedup_key: `${ctx.instance}|sla_miss|${ti.dag_id}|${ti.dag_run_id}|${ti.task_id}`,
  };
}
