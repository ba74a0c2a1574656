/** When each configured source last ingested successfully (for the digest's warning and `doctor`). */
import type { Config } from "../config.js";
import type { SourceHealth } from "../core/staleness.js";
import type { Queryable } from "../db/db.js";
import { lastSuccessfulRuns } from "../db/job-runs.js";

/** The ingest jobs whose source is configured. */
export function configuredSourceJobs(config: Config): string[] {
  const dq = config.dq;
  return [
    ...(config.airflow.baseUrl !== undefined ? ["ingest_airflow"] : []),
    ...(config.cloverdx.baseUrl !== undefined ? ["ingest_cloverdx"] : []),
    ...((dq.dbtArtifactsDir ?? dq.gxResultsDir ?? dq.sodaResultsDir ?? dq.resultsDatabaseUrl)
      ? ["ingest_dq"]
      : []),
  ];
}

export async function loadSourceHealth(db: Queryable, config: Config, now: Date): Promise<SourceHealth[]> {
  const out: SourceHealth[] = [];
  for (const job of configuredSourceJobs(config)) {
    const runs = await lastSuccessfulRuns(db, job, { now });
    if (runs.length === 0) out.push({ source: job, lastSuccessAt: null });
    else out.push(...runs.map((r) => ({ source: r.job_id, lastSuccessAt: r.finished_at })));
  }
  return out;
}
