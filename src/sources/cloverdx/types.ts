/** One execution (run record) of a CloverDX job, as both APIs are normalised to. Times are ISO UTC. */
export interface CloverdxExecution {
  runId: string;
  /** Upper-case CloverDX status: FINISHED_OK, ERROR, TIMEOUT, ABORTED, UNKNOWN, N_A, RUNNING, ... */
  status: string;
  sandbox: string | null;
  /** Path of the job file relative to the sandbox root, e.g. graph/orders/load.grf */
  jobFile: string | null;
  /** STANDALONE, JOBFLOW, MASTER, PARTITION_WORKER (REST only). */
  executionType: string | null;
  parentRunId: string | null;
  rootRunId: string | null;
  submitTime: string | null;
  startTime: string | null;
  stopTime: string | null;
  errorMessage: string | null;
  exception: string | null;
  errorComponentId: string | null;
  errorComponentType: string | null;
  executedBy: string | null;
  clusterNode: string | null;
}

/** What a run log says about the failure (see log.ts). */
export interface CloverdxLogError {
  errorClass: string | null;
  errorMessage: string | null;
  componentId: string | null;
  componentType: string | null;
}
