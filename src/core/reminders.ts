/**
 * The owner-reminder ladder: which reminder, if any, an open group is due at `now`, and which ladder columns
 * record that it was sent. Pure: no I/O, no clock (`now` comes in); local dates and times are computed with
 * Intl in one configured IANA time zone.
 *
 * Semantics:
 * - Only groups with status `open` are ever due; acknowledged, snoozed and closed groups never are.
 * - The ladder counts from the start of the current open period, `open_since` (falling back to
 *   `first_seen_at` for rows from before that column existed). Elapsed time is absolute: T2 and T8 are hours
 *   of real time, so a DST change never moves them.
 * - Ladder columns dated before that start were written in an earlier open period and count as unset, so a
 *   reopened group (or one back from a snooze) starts its ladder again even if the columns were not reset.
 *   An escalation in this period also counts as a reminder in it (T8 implies the first reminder).
 * - At most one tier is due at a time, checked in this order:
 *   1. `t8`: elapsed >= T8 and not escalated in this period. A dispatcher that was down past T8 sends this
 *      one only, never T2 followed by T8.
 *   2. `t2`: elapsed >= T2 and not reminded in this period.
 *   3. `daily`: escalated in this period, the local date of `now` is after the date of the last daily
 *      reminder (a missing or older date counts as the escalation's own local date, so T8 is that date's
 *      reminder), and the local wall-clock time of `now` has reached `dailyTime`. So at most one per local
 *      date, at the configured time rather than at midnight. A local date whose `dailyTime` passed with no
 *      run is skipped, not caught up at midnight (the next reminder goes out at the following `dailyTime`);
 *      consequently a `dailyTime` later than the last run of the day (after 23:45 with a 15-minute
 *      schedule) never fires.
 * - Around DST: a `dailyTime` that does not exist on a spring-forward date is reached at the first instant
 *   after the gap; one that occurs twice on a fall-back date fires at its first occurrence only.
 */
import type { GroupStatus } from "./types.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface ReminderSettings {
  t2Hours: number;
  t8Hours: number;
  /** IANA time zone of local dates and of `dailyTime` (NOTIFICATION_TIMEZONE). */
  timeZone: string;
  /** "HH:MM" local: daily reminders go out at or after it. */
  dailyTime: string;
}

/** The columns of a group the ladder reads. */
export interface LadderState {
  status: GroupStatus;
  /** When the group last became open (ISO). */
  open_since: string | null;
  /** Fallback when open_since is null. */
  first_seen_at: string;
  last_reminded_at: string | null;
  last_escalated_at: string | null;
  /** YYYY-MM-DD, local to settings.timeZone. */
  last_daily_reminder_date: string | null;
}

export const REMINDER_TIERS = ["t2", "t8", "daily"] as const;
export type ReminderTier = (typeof REMINDER_TIERS)[number];

/** The ladder columns a sent reminder writes (same shape as db/reminders' LadderWrite). */
export interface LadderWrite {
  last_reminded_at: string;
  last_escalated_at?: string;
  last_daily_reminder_date?: string;
}

/** The one reminder due now, or null. See the file header for the rules. */
export function dueReminder(group: LadderState, now: Date, s: ReminderSettings): ReminderTier | null {
  const period = readPeriod(group);
  if (period === null) return null;
  const elapsed = now.getTime() - period.start;
  if (period.escalatedAt === null) {
    if (elapsed >= s.t8Hours * HOUR_MS) return "t8";
    if (elapsed >= s.t2Hours * HOUR_MS && !period.reminded) return "t2";
    return null;
  }
  // Cheapest checks first: most escalated groups are not due, and `now` is the same for the whole run.
  if (!localTimeReached(now, s.timeZone, s.dailyTime)) return null;
  const today = localDate(now, s.timeZone);
  const recorded = group.last_daily_reminder_date;
  if (recorded !== null && LOCAL_DATE.test(recorded) && recorded >= today) return null;
  return today > lastDailyDate(group, period.escalatedAt, s.timeZone) ? "daily" : null;
}

/** The ladder columns to write when `tier` is sent at `now`. */
export function ladderAfter(tier: ReminderTier, now: Date, s: ReminderSettings): LadderWrite {
  const at = now.toISOString();
  switch (tier) {
    case "t2":
      return { last_reminded_at: at };
    case "t8":
      // The escalation is its own date's reminder: the first daily one goes out on a later local date.
      return {
        last_reminded_at: at,
        last_escalated_at: at,
        last_daily_reminder_date: localDate(now, s.timeZone),
      };
    case "daily":
      return { last_reminded_at: at, last_daily_reminder_date: localDate(now, s.timeZone) };
  }
}

/**
 * The reminder that becomes due first if the group stays open, and the earliest instant it is due (which
 * may be in the past for a group that is due now), or null for a group that is not open. For a group past
 * both T2 and T8 with neither sent this is T2 at start + T2, although dueReminder would now send T8.
 */
export function nextReminder(
  group: LadderState,
  s: ReminderSettings,
): { tier: ReminderTier; at: Date } | null {
  const period = readPeriod(group);
  if (period === null) return null;
  if (period.escalatedAt === null) {
    const t8 = period.start + s.t8Hours * HOUR_MS;
    const t2 = period.start + s.t2Hours * HOUR_MS;
    return !period.reminded && t2 < t8 ? { tier: "t2", at: new Date(t2) } : { tier: "t8", at: new Date(t8) };
  }
  const next = addDays(lastDailyDate(group, period.escalatedAt, s.timeZone), 1);
  return { tier: "daily", at: firstLocalInstant(next, s.dailyTime, s.timeZone) };
}

/** The local calendar date of `at` in `timeZone`, as YYYY-MM-DD. */
export function localDate(at: Date, timeZone: string): string {
  const p = localParts(at.getTime(), timeZone);
  return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
}

/** Whether the local wall-clock time of `at` in `timeZone` is at or after `hhmm` ("HH:MM", 24 h). */
export function localTimeReached(at: Date, timeZone: string, hhmm: string): boolean {
  const p = localParts(at.getTime(), timeZone);
  return p.hour * 60 + p.minute >= minutesOfDay(hhmm);
}

// ---------------------------------------------------------------------------------------------------------

interface Period {
  start: number;
  reminded: boolean;
  /** When the group was escalated in this period (ms), else null. */
  escalatedAt: number | null;
}

/** The current open period's start and what of the ladder happened in it; null if the group is not open. */
function readPeriod(group: LadderState): Period | null {
  if (group.status !== "open") return null;
  const start = Date.parse(group.open_since ?? group.first_seen_at);
  // An unreadable start cannot be measured from; reminding on a guess would be worse than not reminding.
  if (!Number.isFinite(start)) return null;
  const inPeriod = (iso: string | null): number | null => {
    const at = iso === null ? Number.NaN : Date.parse(iso);
    return Number.isFinite(at) && at >= start ? at : null;
  };
  const escalatedAt = inPeriod(group.last_escalated_at);
  return { start, escalatedAt, reminded: escalatedAt !== null || inPeriod(group.last_reminded_at) !== null };
}

/**
 * The local date that already had its daily reminder: the later of last_daily_reminder_date and the
 * escalation's own date. Taking the later one also discards a date left over from an earlier open period,
 * which can be no later than this period's escalation date.
 */
function lastDailyDate(group: LadderState, escalatedAt: number, timeZone: string): string {
  const escalationDate = localDate(new Date(escalatedAt), timeZone);
  const recorded = group.last_daily_reminder_date;
  // YYYY-MM-DD strings compare like the dates they name.
  return recorded !== null && LOCAL_DATE.test(recorded) && recorded > escalationDate
    ? recorded
    : escalationDate;
}

function minutesOfDay(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  // Config validates DAILY_DIGEST_TIME; a bad value here is a programming error, not a reason to guess.
  if (m === null) throw new RangeError(`not a time HH:MM: ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function addDays(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * DAY_MS;
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The earliest instant whose local date is `date` and local time is at or after `hhmm`: the first of two
 * when a fall-back repeats that time, the end of the gap when a spring-forward skips it.
 */
function firstLocalInstant(date: string, hhmm: string, timeZone: string): Date {
  const minutes = minutesOfDay(hhmm);
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  // A day either side of the target lies outside any transition near it (offsets stay within ±14 h).
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const exact = [wall - before, wall - after].filter((t) => t + offsetAt(t, timeZone) === wall);
  if (exact.length > 0) return new Date(Math.min(...exact));
  // Skipped wall time: clocks jump forward somewhere in (wall - after, wall - before]; find the jump.
  let lo = Math.floor((wall - after) / 1000);
  let hi = Math.ceil((wall - before) / 1000);
  if (!(lo < hi)) return new Date(wall - before);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid * 1000 + offsetAt(mid * 1000, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return new Date(hi * 1000);
}

/** Local wall-clock time minus UTC at instant `ms`, in ms (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// Building a DateTimeFormat is far costlier than using one; a run asks for the same zone many times.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

// A run evaluates every candidate at the same `now`; a few remembered answers save most Intl calls.
const PARTS_CACHE_MAX = 64;
const partsCache = new Map<string, Readonly<LocalParts>>();

function localParts(ms: number, timeZone: string): Readonly<LocalParts> {
  const key = `${ms}|${timeZone}`;
  const cached = partsCache.get(key);
  if (cached !== undefined) return cached;
  const parts = computeLocalParts(ms, timeZone);
  if (partsCache.size >= PARTS_CACHE_MAX) partsCache.clear();
  partsCache.set(key, parts);
  return parts;
}

function computeLocalParts(ms: number, timeZone: string): LocalParts {
  const parts: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    switch (part.type) {
      case "year":
      case "month":
      case "day":
      case "minute":
      case "second":
        parts[part.type] = Number(part.value);
        break;
      case "hour":
        // Some ICU versions write midnight as 24 even with h23.
        parts.hour = Number(part.value) % 24;
        break;
      default:
        break;
    }
  }
  return parts;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}
