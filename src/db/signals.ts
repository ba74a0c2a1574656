import type { SignalRow } from "../core/types.js";
import type { Queryable } from "./db.js";

/**
 * Inserts a batch of signals as one JSON parameter. Rows whose id already exists are skipped; the ids
 * actually inserted come back (concurrent inserts of the same id: exactly one wins).
 */
export async function insertSignals(tx: Queryable, rows: readonly SignalRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  // One array per column: cheaper for the server to unpack than a JSON document of objects.
  const column = <K extends keyof SignalRow>(k: K) => rows.map((r) => r[k] as string | null);
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO reporting.notification_signal
       (id, occurred_at, source, signal_type, severity, agency_id, agency_slug, job_name, run_id, task_id,
        stage, error_class, error_message, fingerprint, summary, details_json)
     SELECT * FROM unnest(
       $1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::jsonb[])
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      column("id"),
      column("occurred_at"),
      column("source"),
      column("signal_type"),
      column("severity"),
      column("agency_id"),
      column("agency_slug"),
      column("job_name"),
      column("run_id"),
      column("task_id"),
      column("stage"),
      column("error_class"),
      column("error_message"),
      column("fingerprint"),
      column("summary"),
      rows.map((r) => (r.details_json === null ? null : JSON.stringify(r.details_json))),
    ],
  );
  return new Set(inserted.map((r) => r.id));
}

/** Which of these signal ids already exist (a source skips work, such as reading logs, for known events). */
export async function findExistingSignalIds(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(
    "SELECT id::text AS id FROM reporting.notification_signal WHERE id = ANY($1::uuid[])",
    [[...ids]],
  );
  return new Set(rows.map((r) => r.id));
}
