/** Retention: deleting old signals and processed inbox rows in bounded batches. */
import { ACTIVE_STATUSES } from "../core/types.js";
import type { Queryable } from "./db.js";

const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * Deletes up to `limit` signals that occurred before `cutoff`, oldest first, except any signal an active group
 * points to (its last signal, which the Slack message and the UI show). Returns how many went.
 */
export async function deleteOldSignals(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH doomed AS (
       SELECT s.id FROM reporting.notification_signal s
       WHERE s.occurred_at < $1::timestamptz
         AND s.id NOT IN (
           SELECT g.last_signal_id FROM reporting.notification_signal_group g
           WHERE g.status IN (${ACTIVE_SQL}) AND g.last_signal_id IS NOT NULL)
       ORDER BY s.occurred_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM reporting.notification_signal s USING doomed WHERE s.id = doomed.id RETURNING 1
     )
     SELECT count(*)::int AS n FROM gone`,
    [cutoff.toISOString(), limit],
  );
  return rows[0]?.n ?? 0;
}

/** Deletes up to `limit` inbox rows processed before `cutoff` (pending rows are never touched). */
export async function deleteOldInboxRows(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH doomed AS (
       SELECT id FROM reporting.notification_signal_inbox
       WHERE processed_at IS NOT NULL AND processed_at < $1::timestamptz
       ORDER BY id LIMIT $2
     ), gone AS (
       DELETE FROM reporting.notification_signal_inbox i USING doomed WHERE i.id = doomed.id RETURNING 1
     )
     SELECT count(*)::int AS n FROM gone`,
    [cutoff.toISOString(), limit],
  );
  return rows[0]?.n ?? 0;
}
