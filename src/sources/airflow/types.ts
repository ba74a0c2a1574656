/**
 * Airflow records as this backend uses them, the same for both REST API versions (v1 = Airflow 2.x stable
 * API, v2 = Airflow 3.x). The client maps each version's payloads onto these; everything after the client
 * (mapping to signals, recovery) never sees a version difference. Timestamps are ISO 8601 text in UTC.
 */

export const AIRFLOW_API_VERSIONS = ["v1", "v2"] as const;
export type AirflowApiVersion = (typeof AIRFLOW_API_VERSIONS)[number];

export interface AirflowTaskInstance {
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  /** -1 for an unmapped task. */
  map_index: number;
  try_number: number;
  max_tries: number | null;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
  /** The operator's class name (v2: `operator`, falling back to `operator_name`). */
  operator: string | null;
  logical_date: string | null;
  hostname: string | null;
  /** v1 only: the SLA miss recorded for this task instance, if any. */
  sla_miss: AirflowSlaMiss | null;
}

export interface AirflowSlaMiss {
  task_id: string;
  dag_id: string;
  execution_date: string | null;
  timestamp: string | null;
  description: string | null;
}

export interface AirflowDagRun {
  dag_id: string;
  dag_run_id: string;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
  logical_date: string | null;
  run_type: string | null;
}

export interface AirflowImportError {
  import_error_id: number;
  filename: string;
  stack_trace: string;
  timestamp: string | null;
  /** v2 only (DAG bundles). */
  bundle_name: string | null;
}

export interface AirflowDag {
  dag_id: string;
  tags: string[];
  owners: string[];
  /** dagrun_timeout in seconds, when the DAG has one (tells a DAG-run timeout from another failure). */
  dagrun_timeout_seconds: number | null;
}

/** The error a task's log names for one try. */
export interface LogError {
  errorClass: string | null;
  errorMessage: string | null;
}
