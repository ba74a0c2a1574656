import type { JsonObject } from "../core/types.js";
import type { Runtime } from "../runtime.js";

/** A job is a composition root: it gets a runtime, does one batch of work and returns its summary. */
export interface JobDefinition {
  id: string;
  description: string;
  /** Suggested CronJob schedule (cron syntax) and what it means. */
  schedule: string;
  /** False for jobs that are the Slack sync themselves; every other job ends with a Slack sync. */
  syncsSlack?: boolean;
  /** Whether `observability run <job> --dry-run` applies: the job then reports what it would do, writing nothing. */
  supportsDryRun?: boolean;
  /** Whether `observability run <job> --since <time>` (backfill) applies. */
  acceptsSince?: boolean;
  /**
   * The name runs of this job lock and record under, when it is not just the id: a job with several source
   * instances (one CronJob per Airflow deployment) runs once per instance, in parallel with the others.
   */
  runName?(runtime: Runtime): string;
  run(runtime: Runtime): Promise<JobResult>;
}

export interface JobResult {
  /** "failed" when the job did its work but some of it could not be done (counted in the summary). */
  outcome: "succeeded" | "failed";
  summary: JsonObject;
}
