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
      test_results_description AS message, failures::bigint AS failures,
      test_execution_id AS run_id,
      jsonb_build_object('owners', owners, 'tags', tags, 'severity', severity, 'model_unique_id', model_unique_id) AS meta`,
  },
  generic: {
    time: "created_at",
    columns: `id::text AS id, test_id, test_name, test_type, lower(status) AS status, model, column_name, message,
      failures::bigint AS failures, run_id, meta::jsonb AS meta`,
  },
} as const;

/** Where a page of the results table starts: at a time (inclusive), or after a (time, id) already read. */
export type ResultsPosition = { since: string } | { afterTime: string; afterId: string };

/**
 * One page of rows in (time, id) order, at most `limit`. The session runs in UTC, so a `timestamp` column
 * without a zone (Elementary's) is read as UTC, and times come back as ISO text made by the server.
 */
export async function readResultsTable(
  db: Queryable,
  options: { preset: keyof typeof PRESETS; table: string; position: ResultsPosition; limit: number },
): Promise<ResultsTableRow[]> {
  const preset = PRESETS[options.preset];
  const t = preset.time;
  const where =
    "since" in options.position
      ? `${t} >= $1::timestamptz`
      : `(${t} > $1::timestamptz OR (${t} = $1::timestamptz AND id::text > $3))`;
  const params =
    "since" in options.position
      ? [options.position.since, options.limit]
      : [options.position.afterTime, options.limit, options.position.afterId];
  await db.query("SET TIME ZONE 'UTC'");
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${preset.columns}, to_char(${t}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
     FROM ${quoteTable(options.table)}
     WHERE ${where}
     ORDER BY ${t}, id::text
     LIMIT $2`,
    params,
  );
  return rows.map((r) => ({
    ...(r as unknown as ResultsTableRow),
    failures: r.failures === null || r.failures === undefined ? null : Number(r.failures),
  }));
}

export interface TestPass {
  agencyId: string | null;
  testId: string;
  passedAt: string;
  invocationId: string;
  tool: string;
}

/** Keeps the latest pass of each test (in the caller's transaction); an older pass never replaces a newer. */
export async function recordTestPasses(
  tx: Queryable,
  sourceInstance: string,
  passes: readonly TestPass[],
): Promise<void> {
  if (passes.length === 0) return;
  await tx.query(
    `INSERT INTO reporting.notification_dq_test_pass AS p
       (source_instance, agency_key, test_id, passed_at, invocation_id, tool)
     SELECT DISTINCT ON (x.agency_key, x.test_id) $1, x.agency_key, x.test_id, x.passed_at, x.invocation_id, x.tool
     FROM jsonb_to_recordset($2::jsonb) AS x(agency_key text, test_id text, passed_at timestamptz, invocation_id text, tool text)
     ORDER BY x.agency_key, x.test_id, x.passed_at DESC
     ON CONFLICT (source_instance, agency_key, test_id) DO UPDATE
       SET passed_at = EXCLUDED.passed_at, invocation_id = EXCLUDED.invocation_id, tool = EXCLUDED.tool
       WHERE p.passed_at < EXCLUDED.passed_at`,
    [
      sourceInstance,
      JSON.stringify(
        passes.map((p) => ({
          agency_key: p.agencyId ?? "",
          test_id: p.testId,
          passed_at: p.passedAt,
          invocation_id: p.invocationId,
          tool: p.tool,
        })),
      ),
    ],
  );
}

/** The latest recorded pass of these tests, by `${agencyId ?? ""}|${testId}`. */
export async function readTestPasses(
  db: Queryable,
  sourceInstance: string,
  testIds: readonly string[],
): Promise<Map<string, TestPass>> {
  if (testIds.length === 0) return new Map();
  const rows = await db.query<{
    agency_key: string;
    test_id: string;
    passed_at: Date;
    invocation_id: string;
    tool: string;
  }>(
    `SELECT agency_key, test_id, passed_at, invocation_id, tool FROM reporting.notification_dq_test_pass
     WHERE source_instance = $1 AND test_id = ANY($2::text[])`,
    [sourceInstance, [...new Set(testIds)]],
  );
  return new Map(
    rows.map((r) => [
      `${r.agency_key}|${r.test_id}`,
      {
        agencyId: r.agency_key === "" ? null : r.agency_key,
        testId: r.test_id,
        passedAt: new Date(r.passed_at).toISOString(),
        invocationId: r.invocation_id,
        tool: r.tool,
      },
    ]),
  );
}
