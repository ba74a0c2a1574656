/**
 * ingest_dq's own tables and reads: the ledger of processed artifacts, and the (read-only) results table of a
 * data-quality tool in another database (Elementary's elementary_test_results, or a generic shape).
 */
import type { Queryable } from "./db.js";

/** Content hashes of the artifacts already processed, by artifact key. */
export async function readLedger(db: Queryable, sourceInstance: string): Promise<Map<string, string>> {
  const rows = await db.query<{ artifact: string; content_hash: string }>(
    "SELECT artifact, content_hash FROM reporting.notification_dq_ledger WHERE source_instance = $1",
    [sourceInstance],
  );
  return new Map(rows.map((r) => [r.artifact, r.content_hash]));
}

/** Records a processed artifact (in the transaction that ingested its signals). */
export async function recordLedger(
  tx: Queryable,
  entry: {
    sourceInstance: string;
    artifact: string;
    contentHash: string;
    invocationId: string | null;
    results: number;
    now: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO reporting.notification_dq_ledger
       (source_instance, artifact, content_hash, invocation_id, results, processed_at)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
     ON CONFLICT (source_instance, artifact) DO UPDATE
       SET content_hash = EXCLUDED.content_hash, invocation_id = EXCLUDED.invocation_id,
           results = EXCLUDED.results, processed_at = EXCLUDED.processed_at`,
    [
      entry.sourceInstance,
      entry.artifact,
      entry.contentHash,
      entry.invocationId,
      entry.results,
      entry.now.toISOString(),
    ],
  );
}

/** "schema.table" or "table" as a quoted identifier (the name was validated by the configuration). */
function quoteTable(name: string): string {
  return name
    .split(".")
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join(".");
}

/** A row of a test-results table, in the columns ingest_dq reads (see README: results table). */
export interface ResultsTableRow {
  id: string;
  test_id: string;
  test_name: string | null;
  test_type: string | null;
  status: string | null;
  model: string | null;
  column_name: string | null;
  message: string | null;
  failures: number | null;
  created_at: string;
  run_id: string | null;
  meta: Record<string, unknown> | null;
}

/**
 * The columns read per preset, and the time column rows are read incrementally on. Elementary's package
 * writes `detected_at` when a result is recorded; `owners` and `tags` are JSON text there.
 */
const PRESETS = {
  elementary: {
    time: "detected_at",
    columns: `id::text AS id, test_unique_id AS test_id, test_name, test_type, lower(status) AS status,
      COALESCE(NULLIF(concat_ws('.', schema_name, table_name), ''), model_unique_id) AS model, column_name,
      test_results_description AS message, failures::bigint AS failures, detected_at AS created_at,
      test_execution_id AS run_id,
      jsonb_build_object('owners', owners, 'tags', tags, 'severity', severity, 'model_unique_id', model_unique_id) AS meta`,
  },
  generic: {
    time: "created_at",
    columns: `id::text AS id, test_id, test_name, test_type, lower(status) AS status, model, column_name, message,
      failures::bigint AS failures, created_at, run_id, meta::jsonb AS meta`,
  },
} as const;

/** Rows recorded at or after `since`, oldest first, at most `limit`. */
export async function readResultsTable(
  db: Queryable,
  options: { preset: keyof typeof PRESETS; table: string; since: string; limit: number },
): Promise<ResultsTableRow[]> {
  const preset = PRESETS[options.preset];
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${preset.columns} FROM ${quoteTable(options.table)}
     WHERE ${preset.time} >= $1::timestamptz
     ORDER BY ${preset.time}, id
     LIMIT $2`,
    [options.since, options.limit],
  );
  return rows.map((r) => ({
    ...(r as unknown as ResultsTableRow),
    created_at: new Date(r.created_at as string | Date).toISOString(),
    failures: r.failures === null || r.failures === undefined ? null : Number(r.failures),
  }));
}
