import type { ActivityRow } from "../core/types.js";
import { iso, type Queryable } from "./db.js";

export async function insertActivities(tx: Queryable, rows: readonly ActivityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO reporting.notification_signal_group_activity
       (id, signal_group_id, created_at, actor_type, actor_user_id, action, metadata_json)
     SELECT id, signal_group_id, created_at, actor_type, actor_user_id, action, metadata_json
     FROM jsonb_populate_recordset(NULL::reporting.notification_signal_group_activity, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
}

export async function listActivity(db: Queryable, groupId: string): Promise<ActivityRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id, signal_group_id, created_at, actor_type, actor_user_id, action, metadata_json
     FROM reporting.notification_signal_group_activity
     WHERE signal_group_id = $1::uuid
     ORDER BY created_at, id`,
    [groupId],
  );
  return rows.map((r) => ({ ...r, created_at: iso(r.created_at) }) as unknown as ActivityRow);
}
