/**
 * The Slack sync's reads and writes. Every send is bracketed here: claim or mark intent first (committed),
 * then the caller talks to Slack, then records the result with its activity row in one transaction.
 */
import type { RouteRule } from "../core/routing.js";
import { ACTIVE_STATUSES, type ActivityRow, type GroupRow, type JsonObject } from "../core/types.js";
import { insertActivities } from "./activity.js";
import { type Db, iso, isoOrNull, type Queryable } from "./db.js";
import { toGroupRow } from "./groups.js";

const TABLE = "reporting.notification_signal_group";
const ACTIVITY = "reporting.notification_signal_group_activity";
const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

/** A group with its Slack bookkeeping and what its message shows of the last signal. */
export interface SyncGroup extends GroupRow {
  slack_post_started_at: string | null;
  slack_thread_cursor: string | null;
  slack_last_error: string | null;
  assignment_rule: string | null;
  last_error_message: string | null;
  last_stage: string | null;
  last_error_class: string | null;
  closed_reason: string | null;
  /** The owner the last signal's source named (details_json.owner), for routing. */
  owner_hint: string | null;
  /** The newest activity id when this row was read: a root rendered from this row shows everything up to it. */
  latest_activity_id: string | null;
  /** Lifecycle events after slack_thread_cursor wait for a thread reply. */
  has_thread_events: boolean;
  /** The group was ever reopened (its current open period began with a reopen). */
  was_reopened: boolean;
  /**
   * The owner notification was claimed (opened_notified_at) but no owner-DM outcome was recorded after the
   * claim: the claiming run died in between. The sync sends it again rather than lose it.
   */
  owner_dm_unrecorded: boolean;
}

/** How long after its close a group's root message is still kept up to date (late signals, reopen). */
export const CLOSED_SYNC_DAYS = 7;

/**
 * Groups whose Slack message may need work: every active group, and groups closed in the last
 * CLOSED_SYNC_DAYS that have (or may have) a root message. `ids` narrows the set (interactions, tests).
 */
export async function loadSyncCandidates(
  db: Queryable,
  options: { now: Date; ids?: readonly string[]; anyStatus?: boolean },
): Promise<SyncGroup[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT g.*,
       s.error_message AS last_error_message, s.stage AS last_stage, s.error_class AS last_error_class,
       s.details_json->>'owner' AS owner_hint,
       CASE WHEN g.status = 'closed' THEN (
         SELECT a.metadata_json->>'reason' FROM ${ACTIVITY} a
         WHERE a.signal_group_id = g.id AND a.action = 'closed'
         ORDER BY a.created_at DESC, a.id DESC LIMIT 1
       ) END AS closed_reason,
       (SELECT a.id::text FROM ${ACTIVITY} a WHERE a.signal_group_id = g.id
        ORDER BY a.id DESC LIMIT 1) AS latest_activity_id,
       EXISTS (SELECT 1 FROM ${ACTIVITY} a WHERE a.signal_group_id = g.id AND a.action = ANY($4::text[])
               AND (g.slack_thread_cursor IS NULL OR a.id > g.slack_thread_cursor)) AS has_thread_events,
       EXISTS (SELECT 1 FROM ${ACTIVITY} a WHERE a.signal_group_id = g.id AND a.action = 'reopened'
               AND COALESCE(a.metadata_json->>'from', 'closed') = 'closed') AS was_reopened,
       (g.status = 'open' AND g.opened_notified_at IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM ${ACTIVITY} a WHERE a.signal_group_id = g.id AND a.action = 'slack_posted'
            AND a.metadata_json->>'kind' = 'owner_dm' AND a.created_at >= g.opened_notified_at
       )) AS owner_dm_unrecorded
     FROM ${TABLE} g
     LEFT JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     WHERE ($2::uuid[] IS NULL OR g.id = ANY($2::uuid[]))
       AND ($3::boolean OR g.status IN (${ACTIVE_SQL})
            OR (g.closed_at >= $1::timestamptz - interval '${CLOSED_SYNC_DAYS} days'
                AND (g.slack_root_ts IS NOT NULL OR g.slack_post_started_at IS NOT NULL)))
     ORDER BY g.first_seen_at, g.id`,
    [
      options.now.toISOString(),
      options.ids ? [...options.ids] : null,
      options.anyStatus === true,
      [...THREAD_EVENT_ACTIONS],
    ],
  );
  return rows.map((r) => {
    const g = toGroupRow(r) as SyncGroup;
    g.slack_post_started_at = isoOrNull(r.slack_post_started_at);
    g.slack_thread_cursor = (r.slack_thread_cursor as string | null) ?? null;
    return g;
  });
}

export interface RouteWrite {
  id: string;
  userId: string | null;
  teamId: string | null;
  rule: RouteRule;
}

export interface StoredRoute {
  id: string;
  assigned_to_user_id: string | null;
  assigned_team_id: string | null;
  assignment_rule: string;
}

/**
 * Stores the routes of groups never routed before. A group someone already assigned (assignee set, no rule)
 * keeps that assignment, recorded as rule `manual`. Returns what each group ends up with.
 */
export async function saveRoutes(db: Queryable, routes: readonly RouteWrite[]): Promise<StoredRoute[]> {
  if (routes.length === 0) return [];
  return db.query<StoredRoute>(
    `UPDATE ${TABLE} AS g
     SET assigned_to_user_id = CASE WHEN g.assigned_to_user_id IS NULL AND g.assigned_team_id IS NULL
                                    THEN r.user_id ELSE g.assigned_to_user_id END,
         assigned_team_id = CASE WHEN g.assigned_to_user_id IS NULL AND g.assigned_team_id IS NULL
                                 THEN r.team_id ELSE g.assigned_team_id END,
         assignment_rule = CASE WHEN g.assigned_to_user_id IS NULL AND g.assigned_team_id IS NULL
                                THEN r.rule ELSE 'manual' END
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id text, team_id text, rule text)
     WHERE g.id = r.id AND g.assignment_rule IS NULL
     RETURNING g.id::text AS id, g.assigned_to_user_id, g.assigned_team_id, g.assignment_rule`,
    [JSON.stringify(routes.map((r) => ({ id: r.id, user_id: r.userId, team_id: r.teamId, rule: r.rule })))],
  );
}

/**
 * Claims the owner notification of an open group not yet notified in its current open period. Only the run
 * whose UPDATE changed the row sends it; a send that fails gives the claim back.
 */
export async function claimOpenNotification(db: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE} SET opened_notified_at = $2::timestamptz
     WHERE id = $1::uuid AND status = 'open' AND opened_notified_at IS NULL
     RETURNING id`,
    [id, now.toISOString()],
  );
  return rows.length > 0;
}

export async function releaseOpenNotification(db: Queryable, id: string, claimedAt: Date): Promise<void> {
  await db.query(
    `UPDATE ${TABLE} SET opened_notified_at = NULL WHERE id = $1::uuid AND opened_notified_at = $2::timestamptz`,
    [id, claimedAt.toISOString()],
  );
}

/**
 * Records the intent to post a root (committed before the post), compare-and-set on what this run read:
 * false when another run posted a root or marked its own intent meanwhile.
 */
export async function markRootIntent(
  db: Queryable,
  id: string,
  now: Date,
  seenIntent: string | null,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE} SET slack_post_started_at = $2::timestamptz
     WHERE id = $1::uuid AND slack_root_ts IS NULL
       AND slack_post_started_at IS NOT DISTINCT FROM $3::timestamptz
     RETURNING id`,
    [id, now.toISOString(), seenIntent],
  );
  return rows.length > 0;
}

/** The same for replacing a root that is gone (or unusable): only while the old ts is still the stored one. */
export async function markRepostIntent(
  db: Queryable,
  id: string,
  oldTs: string,
  now: Date,
  seenIntent: string | null,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE} SET slack_post_started_at = $3::timestamptz
     WHERE id = $1::uuid AND slack_root_ts = $2
       AND slack_post_started_at IS NOT DISTINCT FROM $4::timestamptz
     RETURNING id`,
    [id, oldTs, now.toISOString(), seenIntent],
  );
  return rows.length > 0;
}

/** Stores a posted (or found again) root message, with its activity, in one transaction. */
export async function storeRoot(
  db: Db,
  root: {
    id: string;
    channel: string;
    ts: string;
    hash: string | null;
    now: Date;
    threadCursor: string | null;
    activity: ActivityRow | null;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE ${TABLE}
       SET slack_channel_id = $2, slack_root_ts = $3, slack_message_hash = $4, last_slack_updated_at = $5::timestamptz,
           slack_post_started_at = NULL, slack_last_error = NULL, slack_last_error_at = NULL,
           slack_thread_cursor = COALESCE($6::uuid, slack_thread_cursor)
       WHERE id = $1::uuid`,
      [root.id, root.channel, root.ts, root.hash, root.now.toISOString(), root.threadCursor],
    );
    if (root.activity) await insertActivities(tx, [root.activity]);
  });
}

/** Stores the hash of an updated root message, with its activity. */
export async function storeUpdate(
  db: Db,
  update: { id: string; hash: string; now: Date; activity: ActivityRow },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE ${TABLE}
       SET slack_message_hash = $2, last_slack_updated_at = $3::timestamptz,
           slack_last_error = NULL, slack_last_error_at = NULL
       WHERE id = $1::uuid`,
      [update.id, update.hash, update.now.toISOString()],
    );
    await insertActivities(tx, [update.activity]);
  });
}

export async function recordSlackError(db: Queryable, id: string, error: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE ${TABLE} SET slack_last_error = $2, slack_last_error_at = $3::timestamptz WHERE id = $1::uuid`,
    [id, error, now.toISOString()],
  );
}

export const THREAD_EVENT_ACTIONS = ["reopened", "escalated", "closed", "acknowledged", "snoozed"] as const;

export interface ThreadActivity {
  id: string;
  action: (typeof THREAD_EVENT_ACTIONS)[number];
  actor_user_id: string | null;
  created_at: string;
  metadata_json: JsonObject | null;
}

/** Lifecycle events after the group's thread cursor, oldest first. */
export async function listThreadEvents(
  db: Queryable,
  id: string,
  after: string | null,
): Promise<ThreadActivity[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id::text AS id, action, actor_user_id, created_at, metadata_json FROM ${ACTIVITY}
     WHERE signal_group_id = $1::uuid AND action = ANY($2::text[]) AND ($3::uuid IS NULL OR id > $3::uuid)
     ORDER BY id`,
    [id, [...THREAD_EVENT_ACTIONS], after],
  );
  return rows.map((r) => ({ ...r, created_at: iso(r.created_at) }) as unknown as ThreadActivity);
}

/**
 * Moves the thread cursor from `from` to `to` if no other run moved it; true when this run claimed it.
 * Moving it back (to the previous value) returns unsent events to the next run.
 */
export async function moveThreadCursor(
  db: Queryable,
  id: string,
  from: string | null,
  to: string | null,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE} SET slack_thread_cursor = $3::uuid
     WHERE id = $1::uuid AND slack_thread_cursor IS NOT DISTINCT FROM $2::uuid RETURNING id`,
    [id, from, to],
  );
  return rows.length > 0;
}

export async function insertActivity(db: Queryable, activity: ActivityRow): Promise<void> {
  await insertActivities(db, [activity]);
}
