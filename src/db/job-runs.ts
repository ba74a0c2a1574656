import { isoOrNull, type Queryable } from "./db.js";

export type JobRunStatus = "running" | "succeeded" | "failed" | "skipped" | "interrupted";

export interface JobRunRow {
  id: string;
  job_id: string;
  started_at: string;
  finished_at: string | null;
  status: JobRunStatus;
  summary_json: unknown;
  error: string | null;
}

export async function insertJobRun(
  db: Queryable,
  run: { id: string; jobId: string; startedAt: Date; status: JobRunStatus },
): Promise<void> {
  await db.query(
    `INSERT INTO reporting.notification_job_run (id, job_id, started_at, status)
     VALUES ($1::uuid, $2, $3::timestamptz, $4)`,
    [run.id, run.jobId, run.startedAt.toISOString(), run.status],
  );
}

export async function finishJobRun(
  db: Queryable,
  run: { id: string; finishedAt: Date; status: JobRunStatus; summary: unknown; error: string | null },
): Promise<void> {
  await db.query(
    `UPDATE reporting.notification_job_run
     SET finished_at = $2::timestamptz, status = $3, summary_json = $4::jsonb, error = $5
     WHERE id = $1::uuid`,
    [run.id, run.finishedAt.toISOString(), run.status, JSON.stringify(run.summary ?? null), run.error],
  );
}

export async function listJobRuns(
  db: Queryable,
  options: { jobId?: string; limit?: number },
): Promise<JobRunRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id, job_id, started_at, finished_at, status, summary_json, error
     FROM reporting.notification_job_run
     WHERE ($1::text IS NULL OR job_id = $1 OR job_id LIKE $1 || ':%')
     ORDER BY started_at DESC, id
     LIMIT $2`,
    [options.jobId ?? null, options.limit ?? 50],
  );
  return rows.map(
    (r) =>
      ({ ...r, started_at: isoOrNull(r.started_at), finished_at: isoOrNull(r.finished_at) }) as JobRunRow,
  );
}

/**
 * Marks this job's runs still recorded as `running` as `interrupted`. Called by the holder of the job's
 * lock: no such run can still be alive, so each was killed (eviction, deadline) before it could record.
 */
export async function markAbandonedRuns(db: Queryable, jobId: string, now: Date): Promise<number> {
  const rows = await db.query<{ id: string }>(
    `UPDATE reporting.notification_job_run
     SET status = 'interrupted', finished_at = $2::timestamptz,
         error = 'the run ended without recording an outcome (killed or evicted)'
     WHERE job_id = $1 AND status = 'running'
     RETURNING id`,
    [jobId, now.toISOString()],
  );
  return rows.length;
}

/**
 * When each run name of a job (`ingest_airflow`, `ingest_airflow:<instance>`) last ingested: a run that
 * succeeded, or one that did its work but reported problems (failed with a summary, e.g. one bad file among
 * many). Only run names active in the last `activeDays` count, so a decommissioned instance drops out.
 */
export async function lastSuccessfulRuns(
  db: Queryable,
  jobId: string,
  options: { now: Date; activeDays?: number },
): Promise<{ job_id: string; finished_at: string | null }[]> {
  const rows = await db.query<{ job_id: string; finished_at: Date | null }>(
    `SELECT job_id,
       max(finished_at) FILTER (WHERE status = 'succeeded' OR (status = 'failed' AND summary_json IS NOT NULL))
         AS finished_at
     FROM reporting.notification_job_run
     WHERE (job_id = $1 OR job_id LIKE $1 || ':%')
     GROUP BY job_id
     HAVING max(started_at) >= $2::timestamptz - make_interval(days => $3::int)
     ORDER BY job_id`,
    [jobId, options.now.toISOString(), options.activeDays ?? 7],
  );
  return rows.map((r) => ({
    job_id: r.job_id,
    finished_at: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
  }));
}
