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
       CASE WHEN g.status = 'closed' THEN (
         SELECT a.metadata_json->>'reason' FROM ${ACTIVITY} a
         WHERE a.signal_group_id = g.id AND a.action = 'closed'
         ORDER BY a.created_at DESC, a.id DESC LIMIT 1
       ) END AS closed_reason
     FROM ${TABLE} g
     LEFT JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     WHERE ($2::uuid[] IS NULL OR g.id = ANY($2::uuid[]))
       AND ($3::boolean OR g.status IN (${ACTIVE_SQL})
            OR (g.closed_at >= $1::timestamptz - interval '${CLOSED_SYNC_DAYS} days'
                AND (g.slack_root_ts IS NOT NULL OR g.slack_post_started_at IS NOT NULL)))
     ORDER BY g.first_seen_at, g.id`,
    [options.now.toISOString(), options.ids ? [...options.ids] : null, options.anyStatus === true],
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

/**
 * Stores routes for groups starting an open period (owner not notified yet) or never routed. A group whose
 * owner was already notified keeps its assignment: a person (or the UI) may have reassigned it since.
 */
export async function saveRoutes(db: Queryable, routes: readonly RouteWrite[]): Promise<void> {
  if (routes.length === 0) return;
  await db.query(
    `UPDATE ${TABLE} AS g
     SET assigned_to_user_id = r.user_id, assigned_team_id = r.team_id, assignment_rule = r.rule
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id text, team_id text, rule text)
     WHERE g.id = r.id AND (g.opened_notified_at IS NULL OR g.assignment_rule IS NULL)
       AND (g.assigned_to_user_id IS DISTINCT FROM r.user_id OR g.assigned_team_id IS DISTINCT FROM r.team_id
            OR g.assignment_rule IS DISTINCT FROM r.rule)`,
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

/** Records the intent to post a root (committed before the post). False if a root appeared meanwhile. */
export async function markRootIntent(db: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE} SET slack_post_started_at = $2::timestamptz
     WHERE id = $1::uuid AND slack_root_ts IS NULL RETURNING id`,
    [id, now.toISOString()],
  );
  return rows.length > 0;
}

/** The newest activity id of a group: a fresh root shows everything up to it, so the thread starts after. */
export async function latestActivityId(db: Queryable, id: string): Promise<string | null> {
  const rows = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM ${ACTIVITY} WHERE signal_group_id = $1::uuid ORDER BY id DESC LIMIT 1`,
    [id],
  );
  return rows[0]?.id ?? null;
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

/** Whether the group was ever reopened: then its current open period began with a reopen. */
export async function hasReopenedActivity(db: Queryable, id: string): Promise<boolean> {
  const rows = await db.query<{ reopened: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${ACTIVITY} WHERE signal_group_id = $1::uuid AND action = 'reopened') AS reopened`,
    [id],
  );
  return rows[0]?.reopened === true;
}
