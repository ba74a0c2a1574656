/**
 * The reminder dispatcher's reads and writes: snoozes that ran out, groups whose reminder may be due, the
 * compare-and-set claim of a reminder, and the count_24h refresh.
 */
import { v7 as uuidv7 } from "uuid";
import { decideSnoozeExpiry } from "../core/lifecycle.js";
import { ACTIVE_STATUSES, type GroupRow } from "../core/types.js";
import type { Db, Queryable } from "./db.js";
import { applyLockedDecision } from "./group-actions.js";
import {
  countSignalsInRanges,
  loadGroupsByIdForUpdate,
  lockGroupKeys,
  toGroupRow,
  updateGroupLifecycle,
} from "./groups.js";
import { transactionWithRetry } from "./ingest.js";

const TABLE = "reporting.notification_signal_group";
const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A snooze's end counts as the group's return to open at most this far back (one missed hour of runs). */
const SNOOZE_BACKDATE_MAX_MS = HOUR_MS;

/** Ids of snoozed groups whose snooze has run out, oldest expiry first. */
export async function listExpiredSnoozes(
  db: Queryable,
  now: Date,
): Promise<{ id: string; snoozed_until: string }[]> {
  const rows = await db.query<{ id: string; snoozed_until: Date }>(
    `SELECT id::text AS id, snoozed_until FROM ${TABLE}
     WHERE status = 'snoozed' AND snoozed_until <= $1::timestamptz
     ORDER BY snoozed_until, id`,
    [now.toISOString()],
  );
  return rows.map((r) => ({ id: r.id, snoozed_until: new Date(r.snoozed_until).toISOString() }));
}

/** Returns one group to open (under its key lock); false if it was no longer snoozed or not yet due. */
export async function expireSnooze(db: Db, id: string, now: Date): Promise<boolean> {
  const done = await applyLockedDecision(db, id, (group) =>
    decideSnoozeExpiry(group, { now, newId: () => uuidv7(), maxBackdateMs: SNOOZE_BACKDATE_MAX_MS }),
  );
  return done !== null;
}

/** A group whose reminder may be due, with what the DM shows of its last signal. */
export interface ReminderCandidate extends GroupRow {
  slack_thread_cursor: string | null;
  last_error_message: string | null;
  last_stage: string | null;
  last_error_class: string | null;
}

/**
 * Open groups for which some tier may be due: older than T2 and not reminded in this open period, older than
 * T8 and not escalated, or (when the local daily time has passed) escalated and not reminded on `localDate`.
 * The pure ladder (core/reminders) decides exactly; this only narrows the scan.
 */
export async function loadReminderCandidates(
  db: Queryable,
  options: { now: Date; t2Hours: number; t8Hours: number; localDate: string; dailyTimeReached: boolean },
): Promise<ReminderCandidate[]> {
  const nowMs = options.now.getTime();
  const rows = await db.query<Record<string, unknown>>(
    `SELECT g.*, s.error_message AS last_error_message, s.stage AS last_stage, s.error_class AS last_error_class
     FROM ${TABLE} g
     LEFT JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     WHERE g.status = 'open'
       AND (g.open_since <= $1::timestamptz OR (g.open_since IS NULL AND g.first_seen_at <= $1::timestamptz))
       AND (
         (g.last_reminded_at IS NULL OR g.last_reminded_at < COALESCE(g.open_since, g.first_seen_at))
         OR (COALESCE(g.open_since, g.first_seen_at) <= $2::timestamptz
             AND (g.last_escalated_at IS NULL OR g.last_escalated_at < COALESCE(g.open_since, g.first_seen_at)))
         OR ($4::boolean AND g.last_escalated_at >= COALESCE(g.open_since, g.first_seen_at)
             AND (g.last_daily_reminder_date IS NULL OR g.last_daily_reminder_date < $3::date))
       )
     ORDER BY COALESCE(g.open_since, g.first_seen_at), g.id`,
    [
      new Date(nowMs - options.t2Hours * HOUR_MS).toISOString(),
      new Date(nowMs - options.t8Hours * HOUR_MS).toISOString(),
      options.localDate,
      options.dailyTimeReached,
    ],
  );
  return rows.map((r) => toGroupRow(r) as ReminderCandidate);
}

export interface LadderWrite {
  last_reminded_at: string;
  last_escalated_at?: string;
  last_daily_reminder_date?: string;
}

/**
 * Claims a reminder: writes the ladder columns only if they still hold what this run read and the group is
 * still open. Of two overlapping runs, exactly one gets true.
 */
export async function claimReminder(
  db: Queryable,
  group: Pick<
    GroupRow,
    "id" | "last_reminded_at" | "last_escalated_at" | "last_daily_reminder_date" | "open_since"
  >,
  write: LadderWrite,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE ${TABLE}
     SET last_reminded_at = $5::timestamptz,
         last_escalated_at = COALESCE($6::timestamptz, last_escalated_at),
         last_daily_reminder_date = COALESCE($7::date, last_daily_reminder_date)
     WHERE id = $1::uuid AND status = 'open'
       AND last_reminded_at IS NOT DISTINCT FROM $2::timestamptz
       AND last_escalated_at IS NOT DISTINCT FROM $3::timestamptz
       AND last_daily_reminder_date IS NOT DISTINCT FROM $4::date
       AND open_since IS NOT DISTINCT FROM $8::timestamptz
     RETURNING id`,
    [
      group.id,
      group.last_reminded_at,
      group.last_escalated_at,
      group.last_daily_reminder_date,
      write.last_reminded_at,
      write.last_escalated_at ?? null,
      write.last_daily_reminder_date ?? null,
      group.open_since,
    ],
  );
  return rows.length > 0;
}

/**
 * Gives a claim back (the reminder was certainly not sent), if nothing changed the row since, and removes the
 * escalation recorded with it.
 */
export async function releaseReminder(
  db: Db,
  group: Pick<GroupRow, "id" | "last_reminded_at" | "last_escalated_at" | "last_daily_reminder_date">,
  write: LadderWrite,
  escalationActivityId: string | null,
): Promise<void> {
  if (escalationActivityId !== null) {
    await db.query("DELETE FROM reporting.notification_signal_group_activity WHERE id = $1::uuid", [
      escalationActivityId,
    ]);
  }
  await db.query(
    `UPDATE ${TABLE}
     SET last_reminded_at = $2::timestamptz, last_escalated_at = $3::timestamptz, last_daily_reminder_date = $4::date
     WHERE id = $1::uuid AND last_reminded_at = $5::timestamptz`,
    [
      group.id,
      group.last_reminded_at,
      group.last_escalated_at,
      group.last_daily_reminder_date,
      write.last_reminded_at,
    ],
  );
}

/**
 * Brings count_24h of active groups up to `now` when time passing may have changed it (signals leaving the
 * 24-hour window), under the grouping key locks like every other writer of the counts. Groups whose last
 * signal is older than the window drop to 0 without counting. Returns how many groups changed.
 */
export async function refreshCount24h(db: Db, now: Date, batchSize = 1000): Promise<number> {
  // Only groups from whose count a signal can have left the window since it was computed: a signal of the
  // key in (count_24h_as_of - 24h, now - 24h] (one index probe per group), or a count never dated.
  const candidates = await db.query<{ id: string }>(
    `SELECT g.id::text AS id FROM ${TABLE} g
     WHERE g.status IN (${ACTIVE_SQL}) AND g.count_24h > 0
       AND (g.count_24h_as_of IS NULL OR (g.count_24h_as_of < $1::timestamptz AND EXISTS (
         SELECT 1 FROM reporting.notification_signal s
         WHERE s.fingerprint = g.fingerprint AND s.agency_id IS NOT DISTINCT FROM g.agency_id
           AND s.occurred_at > g.count_24h_as_of - interval '24 hours'
           AND s.occurred_at <= $1::timestamptz - interval '24 hours')))
     ORDER BY g.id`,
    [now.toISOString()],
  );
  const windowStart = new Date(now.getTime() - DAY_MS).toISOString();
  let changed = 0;
  for (let i = 0; i < candidates.length; i += batchSize) {
    const ids = candidates.slice(i, i + batchSize).map((c) => c.id);
    changed += await transactionWithRetry(db, async (tx) => {
      const unlocked = await loadGroupsByIdForUpdate(tx, ids, false);
      await lockGroupKeys(
        tx,
        unlocked.map((g) => g.fingerprint),
      );
      const groups = (await loadGroupsByIdForUpdate(tx, ids, true)).filter(
        (g) =>
          g.count_24h > 0 && (g.count_24h_as_of === null || Date.parse(g.count_24h_as_of) < now.getTime()),
      );
      const toCount = groups.filter((g) => Date.parse(g.last_seen_at) > Date.parse(windowStart));
      const counts = await countSignalsInRanges(
        tx,
        toCount.map((g) => ({
          fingerprint: g.fingerprint,
          agency_id: g.agency_id,
          after: windowStart,
          until: null,
          minOccurredAt: g.first_seen_at,
          closedAt: null,
        })),
      );
      const countOf = new Map(toCount.map((g, k) => [g.id, counts[k] ?? 0]));
      // Every recounted group is dated `now` (so it is not recounted again until another signal leaves).
      const updates = groups.map((g) => ({
        ...g,
        count_24h: countOf.get(g.id) ?? 0,
        count_24h_as_of: now.toISOString(),
      }));
      await updateGroupLifecycle(tx, updates, new Map(groups.map((g) => [g.id, g])));
      return updates.filter((u, k) => u.count_24h !== groups[k]?.count_24h).length;
    });
  }
  return changed;
}
