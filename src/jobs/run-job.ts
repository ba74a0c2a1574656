import { redactSecrets } from "../config.js";
import type { JsonObject } from "../core/types.js";
import { finishJobRun, insertJobRun, markAbandonedRuns } from "../db/job-runs.js";
import { JOB_LOCK_NAMESPACE } from "../db/locks.js";
import { ObservabilityError } from "../errors.js";
import { pushRunMetrics } from "../metrics.js";
import type { Runtime } from "../runtime.js";
import { createSlackTarget, runSlackSync } from "../slack/index.js";
import type { JobDefinition } from "./job.js";

export interface JobRunOutcome {
  job: string;
  run_id: string;
  status: "succeeded" | "failed" | "skipped" | "dry_run";
  now: string;
  summary: JsonObject;
}

/**
 * Runs one job under its advisory lock and records the run. A second concurrent run of the same job
 * finds the lock taken, records itself as skipped and returns. An exception is recorded, then rethrown
 * for the CLI to report.
 */
export async function runJob(job: JobDefinition, runtime: Runtime): Promise<JobRunOutcome> {
  const { db, log, now, runId } = runtime;
  const base = { job: job.id, run_id: runId, now: now.toISOString() };
  // The run's end is its `now` plus the time it took, so replays with --now keep sensible durations.
  const t0 = performance.now();
  const finishedAt = () => new Date(now.getTime() + Math.round(performance.now() - t0));
  if (runtime.jobOptions?.dryRun === true) {
    // Nothing is locked, recorded or sent: the job only reports what it would do.
    const result = await job.run(runtime);
    return { ...base, status: "dry_run", summary: result.summary };
  }
  const runName = job.runName?.(runtime) ?? job.id;
  const release = await db.tryAdvisoryLock(`${JOB_LOCK_NAMESPACE}${runName}`);
  if (release === null) {
    log.info({ run_name: runName }, "another run of this job holds its lock; skipped");
    await insertJobRun(db, { id: runId, jobId: runName, startedAt: now, status: "skipped" });
    return { ...base, status: "skipped", summary: { reason: "another run of this job is in progress" } };
  }
  try {
    const abandoned = await markAbandonedRuns(db, runName, now);
    if (abandoned > 0)
      log.warn({ runs: abandoned }, "earlier runs of this job ended without an outcome; marked interrupted");
    await insertJobRun(db, { id: runId, jobId: runName, startedAt: now, status: "running" });
    let result: Awaited<ReturnType<JobDefinition["run"]>>;
    try {
      // Built before the job's work, so a Slack misconfiguration stops the run before anything is written.
      const target = runtime.slack !== undefined ? runtime.slack : createSlackTarget(runtime);
      result = await job.run({ ...runtime, slack: target });
      // Every job ends by bringing Slack up to date, so a change made anywhere shows after any run. What the
      // job itself wrote is committed already: a Slack failure below never loses it.
      if (job.syncsSlack !== false) {
        const slack = await runSlackSync(runtime, { target });
        result = {
          outcome: result.outcome === "failed" || slack.failed > 0 ? "failed" : "succeeded",
          summary: { ...result.summary, slack: { ...slack } },
        };
      }
    } catch (error) {
      const message = redactSecrets(
        error instanceof Error ? error.message : String(error),
        runtime.config.secrets,
      );
      const interrupted = error instanceof ObservabilityError && error.code === "interrupted";
      const end = finishedAt();
      await pushRunMetrics(runtime.config.pushgatewayUrl, log, {
        runName,
        status: interrupted ? "interrupted" : "failed",
        durationSeconds: (end.getTime() - now.getTime()) / 1000,
        finishedAt: end,
        summary: {},
      });
      await finishJobRun(db, {
        id: runId,
        finishedAt: end,
        status: interrupted ? "interrupted" : "failed",
        summary: null,
        error: message,
      }).catch((recordError: unknown) =>
        log.error({ err: String(recordError) }, "could not record the failed run"),
      );
      throw error;
    }
    // Outside the catch above: failing to record a successful run must not record it as failed.
    const end = finishedAt();
    await finishJobRun(db, {
      id: runId,
      finishedAt: end,
      status: result.outcome,
      summary: result.summary,
      error: null,
    });
    await pushRunMetrics(runtime.config.pushgatewayUrl, log, {
      runName,
      status: result.outcome,
      durationSeconds: (end.getTime() - now.getTime()) / 1000,
      finishedAt: end,
      summary: result.summary,
    });
    return { ...base, status: result.outcome, summary: result.summary };
  } finally {
    // A failing release must not hide the run's own outcome or error; the lock dies with the session anyway.
    await release().catch((error: unknown) =>
      log.warn({ err: String(error) }, "could not release the job lock"),
    );
  }
}
