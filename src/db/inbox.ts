import type { Queryable } from "./db.js";

export interface InboxRow {
  id: number;
  source: string;
  payload: unknown;
}

/**
 * Claims the oldest unprocessed inbox rows inside the caller's transaction. SKIP LOCKED lets concurrent
 * drains take disjoint rows instead of waiting on each other.
 */
export async function claimInboxRows(
  tx: Queryable,
  options: { limit: number; sources?: readonly string[]; excludeSourcePrefixes?: readonly string[] },
): Promise<InboxRow[]> {
  return tx.query<InboxRow>(
    `SELECT id, source, payload FROM reporting.notification_signal_inbox
     WHERE processed_at IS NULL AND ($2::text[] IS NULL OR source = ANY($2::text[]))
       AND NOT (split_part(source, ':', 1) = ANY($3::text[]))
     ORDER BY id
     LIMIT $1
     FOR UPDATE SKIP LOCKED`,
    [
      options.limit,
      options.sources ? [...options.sources] : null,
      [...(options.excludeSourcePrefixes ?? [])],
    ],
  );
}

/** Marks claimed rows processed; rejected ones keep their reason in `error` (nothing is deleted). */
export async function markInboxRowsProcessed(
  tx: Queryable,
  rows: readonly { id: number; error: string | null }[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE reporting.notification_signal_inbox AS i SET processed_at = $2::timestamptz, error = r.error
     FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, error text)
     WHERE i.id = r.id`,
    [JSON.stringify(rows), now.toISOString()],
  );
}

export async function insertInboxRows(
  db: Queryable,
  rows: readonly { source: string; payload: unknown }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO reporting.notification_signal_inbox (source, payload)
     SELECT source, payload FROM jsonb_to_recordset($1::jsonb) AS r(source text, payload jsonb)`,
    [JSON.stringify(rows)],
  );
}

/** The job names of pending inbox rows of these sources (a source job looks their details up before draining). */
export async function listPendingInboxJobNames(db: Queryable, sources: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ job_name: string }>(
    `SELECT DISTINCT payload->>'job_name' AS job_name FROM reporting.notification_signal_inbox
     WHERE processed_at IS NULL AND source = ANY($1::text[]) AND payload->>'job_name' IS NOT NULL
     ORDER BY 1 LIMIT 1000`,
    [[...sources]],
  );
  return rows.map((r) => r.job_name);
}
