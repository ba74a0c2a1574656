/**
 * The daily digest's reads and writes: the durable per-date record (claimed before the post, deleted if the
 * post fails), and the groups the digest describes.
 */
import type { DigestGroup } from "../core/digest.js";
import { ACTIVE_STATUSES, type JsonObject } from "../core/types.js";
import type { Queryable } from "./db.js";

const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * A timestamp as ISO 8601 UTC text made by the server: 100,000 rows then cost one string per value instead of
 * a Date object and a string (the digest's memory budget is 200 MB).
 */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Claims the digest of a local date; false when a digest for that date was already sent or is being sent. */
export async function claimDigest(
  db: Queryable,
  digest: { localDate: string; timeZone: string; now: Date },
): Promise<boolean> {
  const rows = await db.query<{ local_date: string }>(
    `INSERT INTO reporting.notification_digest (local_date, time_zone, claimed_at)
     VALUES ($1::date, $2, $3::timestamptz)
     ON CONFLICT (local_date) DO NOTHING
     RETURNING local_date`,
    [digest.localDate, digest.timeZone, digest.now.toISOString()],
  );
  return rows.length > 0;
}

export type DigestState = { kind: "none" } | { kind: "sent" } | { kind: "claimed"; claimedAt: string };

/** Whether a date's digest was sent, is claimed (being sent, or its run died mid-post), or not started. */
export async function readDigestState(db: Queryable, localDate: string): Promise<DigestState> {
  const rows = await db.query<{ sent_at: Date | null; claimed_at: Date }>(
    "SELECT sent_at, claimed_at FROM reporting.notification_digest WHERE local_date = $1::date",
    [localDate],
  );
  const row = rows[0];
  if (row === undefined) return { kind: "none" };
  if (row.sent_at !== null) return { kind: "sent" };
  return { kind: "claimed", claimedAt: new Date(row.claimed_at).toISOString() };
}

/** Takes over a claim left by a run that died or could not tell whether its post arrived. */
export async function takeOverDigestClaim(
  db: Queryable,
  digest: { localDate: string; claimedAt: string; now: Date },
): Promise<boolean> {
  const rows = await db.query<{ local_date: string }>(
    `UPDATE reporting.notification_digest SET claimed_at = $3::timestamptz
     WHERE local_date = $1::date AND sent_at IS NULL AND claimed_at = $2::timestamptz
     RETURNING local_date`,
    [digest.localDate, digest.claimedAt, digest.now.toISOString()],
  );
  return rows.length > 0;
}

export async function completeDigest(
  db: Queryable,
  digest: { localDate: string; now: Date; channel: string; ts: string; summary: JsonObject },
): Promise<void> {
  await db.query(
    `UPDATE reporting.notification_digest
     SET sent_at = $2::timestamptz, channel_id = $3, slack_ts = $4, summary_json = $5::jsonb
     WHERE local_date = $1::date`,
    [digest.localDate, digest.now.toISOString(), digest.channel, digest.ts, JSON.stringify(digest.summary)],
  );
}

/** Gives the date back (the post failed), so the next run sends it. */
export async function releaseDigest(db: Queryable, localDate: string): Promise<void> {
  await db.query(
    "DELETE FROM reporting.notification_digest WHERE local_date = $1::date AND sent_at IS NULL",
    [localDate],
  );
}

/** A group as the digest reads it: exactly what the pure renderer takes. */
export type DigestGroupRow = DigestGroup;

/**
 * Every active group and every group closed in the 24 hours before `now`, with what happened to it in those
 * 24 hours. Activity is aggregated in one pass per kind (not per group), so 100,000 open groups stay cheap.
 */
export async function loadDigestGroups(db: Queryable, now: Date): Promise<DigestGroupRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `WITH since AS (SELECT $1::timestamptz - interval '24 hours' AS t),
     recent AS (
       SELECT a.signal_group_id,
         bool_or(a.action = 'opened') AS opened_24h,
         bool_or(a.action = 'reopened' AND COALESCE(a.metadata_json->>'from', 'closed') = 'closed') AS reopened_24h,
         bool_or(false) AS unused
       FROM reporting.notification_signal_group_activity a, since
       WHERE a.created_at >= since.t AND a.created_at <= $1::timestamptz
         AND a.action IN ('opened', 'reopened', 'closed')
       GROUP BY a.signal_group_id
     ),
     touched AS (
       -- Only acknowledged groups need it ("acknowledged but untouched"): one indexed probe each.
       SELECT g.id AS signal_group_id,
         (SELECT max(a.created_at) FROM reporting.notification_signal_group_activity a
          WHERE a.signal_group_id = g.id AND a.actor_type = 'user' AND a.created_at <= $1::timestamptz)
           AS last_user_activity_at
       FROM reporting.notification_signal_group g WHERE g.status = 'acknowledged'
     )
     SELECT g.id::text AS id, g.status, g.current_severity, g.agency_id, g.agency_slug, g.job_name, g.signal_type,
       s.error_class, ${iso("g.first_seen_at")} AS first_seen_at, ${iso("g.last_seen_at")} AS last_seen_at,
       g.count_total, g.count_24h, g.assigned_to_user_id, g.assigned_team_id,
       ${iso("g.acknowledged_at")} AS acknowledged_at, g.acknowledged_by_user_id,
       ${iso("g.snoozed_until")} AS snoozed_until, ${iso("g.closed_at")} AS closed_at,
       ${iso("g.open_since")} AS open_since, g.ui_url,
       COALESCE(r.opened_24h, false) AS opened_24h,
       COALESCE(r.reopened_24h, false) AS reopened_24h,
       (g.status = 'closed') AS closed_24h,
       -- Auto-closed: the close that closed it (the last one) was the system's.
       (g.status = 'closed' AND (
          SELECT a.actor_type FROM reporting.notification_signal_group_activity a
          WHERE a.signal_group_id = g.id AND a.action = 'closed'
          ORDER BY a.created_at DESC, a.id DESC LIMIT 1) = 'system') AS auto_closed_24h,
       ${iso("t.last_user_activity_at")} AS last_user_activity_at
     FROM reporting.notification_signal_group g
     CROSS JOIN since
     LEFT JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     LEFT JOIN recent r ON r.signal_group_id = g.id
     LEFT JOIN touched t ON t.signal_group_id = g.id
     WHERE g.status IN (${ACTIVE_SQL})
        OR (g.status = 'closed' AND g.closed_at >= since.t AND g.closed_at <= $1::timestamptz)
     ORDER BY g.id`,
    [now.toISOString()],
  );
  return rows as unknown as DigestGroupRow[];
}

/** One `digest_sent` activity per group the digest listed, in one statement. */
export async function insertDigestActivities(
  db: Queryable,
  rows: { groupIds: readonly string[]; localDate: string; ts: string; now: Date; newId: () => string },
): Promise<void> {
  if (rows.groupIds.length === 0) return;
  await db.query(
    `INSERT INTO reporting.notification_signal_group_activity
       (id, signal_group_id, created_at, actor_type, actor_user_id, action, metadata_json)
     SELECT x.id, x.group_id, $2::timestamptz, 'system', NULL, 'digest_sent',
            jsonb_build_object('digest_date', $3::text, 'ts', $4::text)
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, group_id uuid)`,
    [
      JSON.stringify(rows.groupIds.map((id) => ({ id: rows.newId(), group_id: id }))),
      rows.now.toISOString(),
      rows.localDate,
      rows.ts,
    ],
  );
}
