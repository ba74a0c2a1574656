import { ACTIVE_STATUSES, type GroupRow, type GroupStatus } from "../core/types.js";
import { isoOrNull, type Queryable } from "./db.js";
import { advisoryLockSql, sortedBuckets } from "./locks.js";

const TABLE = "reporting.notification_signal_group";
const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * Columns the grouping engine and user actions write, with their SQL types; Slack and reminder
 * bookkeeping is left alone.
 */
const LIFECYCLE_COLUMN_TYPES = {
  status: "text",
  current_severity: "text",
  agency_slug: "text",
  first_seen_at: "timestamptz",
  last_seen_at: "timestamptz",
  count_total: "integer",
  count_24h: "integer",
  count_24h_as_of: "timestamptz",
  last_signal_id: "uuid",
  acknowledged_at: "timestamptz",
  acknowledged_by_user_id: "text",
  snoozed_until: "timestamptz",
  opened_notified_at: "timestamptz",
  last_reminded_at: "timestamptz",
  last_daily_reminder_date: "date",
  last_escalated_at: "timestamptz",
  closed_at: "timestamptz",
  open_since: "timestamptz",
} as const satisfies Partial<Record<keyof GroupRow, string>>;
type LifecycleColumn = keyof typeof LIFECYCLE_COLUMN_TYPES;
const LIFECYCLE_COLUMNS = Object.keys(LIFECYCLE_COLUMN_TYPES) as LifecycleColumn[];

const TIMESTAMP_COLUMNS = [
  "first_seen_at",
  "last_seen_at",
  "acknowledged_at",
  "snoozed_until",
  "opened_notified_at",
  "last_reminded_at",
  "last_escalated_at",
  "last_slack_updated_at",
  "closed_at",
  "count_24h_as_of",
  "open_since",
] as const;

/** A database row (Dates) as a GroupRow (ISO text). */
export function toGroupRow(raw: Record<string, unknown>): GroupRow {
  const row = { ...raw } as Record<string, unknown>;
  for (const c of TIMESTAMP_COLUMNS) row[c] = isoOrNull(row[c]);
  return row as unknown as GroupRow;
}

/**
 * Takes the transaction-level grouping locks for these keys, in ascending bucket order. Every writer of
 * group status takes them first, so two batches can never both open (or reopen) a group for one key.
 */
export async function lockGroupKeys(tx: Queryable, fingerprints: Iterable<string>): Promise<void> {
  const buckets = sortedBuckets(fingerprints);
  if (buckets.length > 0) await tx.query(advisoryLockSql.lockGroupBuckets, [buckets]);
}

/**
 * For each fingerprint: its active group if there is one, else its most recently closed group. Rows
 * are locked FOR UPDATE. The fingerprint encodes the agency id, so agency is matched by the caller.
 */
export async function loadGroupsForUpdate(
  tx: Queryable,
  fingerprints: readonly string[],
): Promise<GroupRow[]> {
  if (fingerprints.length === 0) return [];
  const rows = await tx.query<Record<string, unknown>>(
    `SELECT * FROM ${TABLE}
     WHERE id IN (
       SELECT DISTINCT ON (agency_id, fingerprint) id FROM ${TABLE}
       WHERE fingerprint = ANY($1::text[])
       ORDER BY agency_id, fingerprint, (status IN (${ACTIVE_SQL})) DESC, closed_at DESC NULLS LAST, first_seen_at DESC
     )
     FOR UPDATE`,
    [fingerprints],
  );
  return rows.map(toGroupRow);
}

/** Every column of GroupRow, in one place for inserts. */
const GROUP_COLUMNS = [
  "id",
  "fingerprint",
  "agency_id",
  "job_name",
  "signal_type",
  "assigned_to_user_id",
  "assigned_team_id",
  "slack_channel_id",
  "slack_root_ts",
  "ui_url",
  "last_slack_updated_at",
  "slack_message_hash",
  ...LIFECYCLE_COLUMNS,
] as const satisfies readonly (keyof GroupRow)[];

export async function insertGroups(tx: Queryable, groups: readonly GroupRow[]): Promise<void> {
  if (groups.length === 0) return;
  const columns = GROUP_COLUMNS.join(", ");
  await tx.query(
    `INSERT INTO ${TABLE} (${columns})
     SELECT ${columns} FROM jsonb_populate_recordset(NULL::${TABLE}, $1::jsonb)`,
    [JSON.stringify(groups)],
  );
}

/**
 * Writes the lifecycle columns of existing groups (callers hold their row locks). Given the rows as they
 * were read, only the columns that changed in some group are sent: a plain attach then writes a handful of
 * columns instead of all of them, which halves the statement's cost on busy batches.
 */
export async function updateGroupLifecycle(
  tx: Queryable,
  groups: readonly GroupRow[],
  before?: ReadonlyMap<string, GroupRow>,
): Promise<void> {
  if (groups.length === 0) return;
  const changed = new Set<LifecycleColumn>();
  for (const g of groups) {
    const old = before?.get(g.id);
    for (const c of LIFECYCLE_COLUMNS) if (old === undefined || old[c] !== g[c]) changed.add(c);
  }
  if (changed.size === 0) return;
  const columns = [...changed];
  const sets = columns.map((c) => `${c} = r.${c}`).join(", ");
  const types = columns.map((c) => `${c} ${LIFECYCLE_COLUMN_TYPES[c]}`).join(", ");
  const rows = groups.map((g) => Object.fromEntries([["id", g.id], ...columns.map((c) => [c, g[c]])]));
  await tx.query(
    `UPDATE ${TABLE} AS g SET ${sets}
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, ${types})
     WHERE g.id = r.id`,
    [JSON.stringify(rows)],
  );
}

export interface SignalRangeCount {
  fingerprint: string;
  agency_id: string | null;
  /**
   * Count signals with after < occurred_at <= until (until null: no upper bound), occurred_at >=
   * minOccurredAt and, with closedAt, occurred_at < closedAt.
   */
  after: string;
  until: string | null;
  minOccurredAt: string;
  closedAt: string | null;
}

/** Counts the signals of each group's key in a time range, for all ranges in one statement, in order. */
export async function countSignalsInRanges(
  tx: Queryable,
  ranges: readonly SignalRangeCount[],
): Promise<number[]> {
  if (ranges.length === 0) return [];
  const rows = await tx.query<{ n: number }>(
    `SELECT (
       SELECT count(*)::int FROM reporting.notification_signal s
       WHERE s.fingerprint = r.fingerprint
         AND s.agency_id IS NOT DISTINCT FROM r.agency_id
         AND s.occurred_at > r.after
         AND (r.until IS NULL OR s.occurred_at <= r.until)
         AND s.occurred_at >= r.min_occurred_at
         AND (r.closed_at IS NULL OR s.occurred_at < r.closed_at)
     ) AS n
     FROM ROWS FROM (
       jsonb_to_recordset($1::jsonb) AS (fingerprint text, agency_id text, after timestamptz, until timestamptz,
                                         min_occurred_at timestamptz, closed_at timestamptz)
     ) WITH ORDINALITY AS r(fingerprint, agency_id, after, until, min_occurred_at, closed_at, i)
     ORDER BY r.i`,
    [
      JSON.stringify(
        ranges.map((r) => ({
          fingerprint: r.fingerprint,
          agency_id: r.agency_id,
          after: r.after,
          until: r.until,
          min_occurred_at: r.minOccurredAt,
          closed_at: r.closedAt,
        })),
      ),
    ],
  );
  return rows.map((r) => r.n);
}

export async function findGroup(db: Queryable, id: string, forUpdate = false): Promise<GroupRow | null> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM ${TABLE} WHERE id = $1::uuid${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ? toGroupRow(rows[0]) : null;
}

export async function findActiveGroupId(
  db: Queryable,
  key: { agency_id: string | null; fingerprint: string },
): Promise<string | null> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM ${TABLE}
     WHERE fingerprint = $1 AND agency_id IS NOT DISTINCT FROM $2 AND status IN (${ACTIVE_SQL})`,
    [key.fingerprint, key.agency_id],
  );
  return rows[0]?.id ?? null;
}

export async function listGroups(
  db: Queryable,
  filter: { statuses?: readonly GroupStatus[]; limit?: number },
): Promise<GroupRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM ${TABLE}
     WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
     ORDER BY last_seen_at DESC, id
     LIMIT $2`,
    [filter.statuses && filter.statuses.length > 0 ? [...filter.statuses] : null, filter.limit ?? 1000],
  );
  return rows.map(toGroupRow);
}

/** Groups by id (in id order, so concurrent lockers take row locks in one order), optionally FOR UPDATE. */
export async function loadGroupsByIdForUpdate(
  db: Queryable,
  ids: readonly string[],
  forUpdate: boolean,
): Promise<GroupRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM ${TABLE} WHERE id = ANY($1::uuid[]) ORDER BY id${forUpdate ? " FOR UPDATE" : ""}`,
    [[...ids]],
  );
  return rows.map(toGroupRow);
}
