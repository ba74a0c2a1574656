/**
 * The notifier watching itself: a configured source whose ingest has not succeeded for longer than the
 * threshold is stale (the digest says so, `doctor` fails). Pure.
 */
export interface SourceHealth {
  /** The job (`ingest_airflow`) or run name (`ingest_airflow:prod`). */
  source: string;
  lastSuccessAt: string | null;
}

export function findStaleSources(
  health: readonly SourceHealth[],
  now: Date,
  thresholdHours: number,
): SourceHealth[] {
  const limit = now.getTime() - thresholdHours * 3_600_000;
  return health.filter((h) => h.lastSuccessAt === null || Date.parse(h.lastSuccessAt) < limit);
}
