import type { SignalRow } from "../core/types.js";
import type { Queryable } from "./db.js";

/**
 * Inserts a batch of signals as one JSON parameter. Rows whose id already exists are skipped; the ids
 * actually inserted come back (concurrent inserts of the same id: exactly one wins).
 */
export async function insertSignals(tx: Queryable, rows: readonly SignalRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO reporting.notification_signal
       (id, occurred_at, source, signal_type, severity, agency_id, agency_slug, job_name, run_id, task_id,
        stage, error_class, error_message, fingerprint, summary, details_json)
     SELECT id, occurred_at, source, signal_type, severity, agency_id, agency_slug, job_name, run_id, task_id,
            stage, error_class, error_message, fingerprint, summary, details_json
     FROM jsonb_populate_recordset(NULL::reporting.notification_signal, $1::jsonb)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [JSON.stringify(rows)],
  );
  return new Set(inserted.map((r) => r.id));
}
