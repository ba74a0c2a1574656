import type { Queryable } from "./db.js";

/** Where a source instance has read up to (e.g. "airflow:prod" -> the highest end_date seen), or null. */
export async function readCursor(db: Queryable, sourceInstance: string): Promise<string | null> {
  const rows = await db.query<{ cursor_value: string }>(
    "SELECT cursor_value FROM reporting.notification_ingest_cursor WHERE source_instance = $1",
    [sourceInstance],
  );
  return rows[0]?.cursor_value ?? null;
}

/**
 * Advances a time cursor (ISO text) in the caller's transaction; never moves it back, so a backfill of an
 * older range leaves the live cursor where it was.
 */
export async function advanceTimeCursor(
  tx: Queryable,
  sourceInstance: string,
  value: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO reporting.notification_ingest_cursor AS c (source_instance, cursor_value, updated_at)
     VALUES ($1, $2, $3::timestamptz)
     ON CONFLICT (source_instance) DO UPDATE
       SET cursor_value = CASE WHEN c.cursor_value::timestamptz >= EXCLUDED.cursor_value::timestamptz
                               THEN c.cursor_value ELSE EXCLUDED.cursor_value END,
           updated_at = EXCLUDED.updated_at`,
    [sourceInstance, value, now.toISOString()],
  );
}
