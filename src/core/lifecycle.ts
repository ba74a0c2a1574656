/**
 * Lifecycle decisions: which group a batch of new signals belongs to, and what a user action does to a
 * group. Pure: no I/O, no clock (`now` comes in), no randomness (`newId` comes in).
 */
import {
  type ActivityAction,
  type ActivityRow,
  type ActorType,
  type GroupRow,
  isActiveStatus,
  type JsonObject,
  type Severity,
  severityRank,
} from "./types.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** What the grouping engine needs of a freshly inserted signal. */
export interface GroupingSignal {
  id: string;
  occurred_at: string;
  severity: Severity;
  agency_id: string | null;
  agency_slug: string | null;
  job_name: string | null;
  signal_type: string;
  fingerprint: string;
}

export interface GroupingContext {
  now: Date;
  reopenWindowHours: number;
  appBaseUrl: string | undefined;
  newId: () => string;
}

/**
 * A count the database must finish before count_24h is exact: `recount` replaces count_24h with the number
 * of the group's signals after `after` (now - 24h); `decay` subtracts the signals that left the window
 * since count_24h_as_of, i.e. those in (after, until]. A group's signals are its key's signals not before
 * its first_seen_at and, while it is closed, before its closed_at (`closedAt`).
 */
export type CountAdjustment =
  | { groupId: string; kind: "recount"; after: string; minOccurredAt: string; closedAt: string | null }
  | {
      groupId: string;
      kind: "decay";
      after: string;
      until: string;
      minOccurredAt: string;
      closedAt: string | null;
    };

export interface KeyDecision {
  /** Groups to insert (new) and to update (existing, full new state). */
  inserts: GroupRow[];
  updates: GroupRow[];
  /** opened / reopened / escalated, each caused by one signal; every other new signal attached. */
  activities: ActivityRow[];
  countAdjustments: CountAdjustment[];
}

/** The UI page of a group: APP_BASE_URL + /signal-groups/<id>, or null without a base URL. */
export function groupUiUrl(appBaseUrl: string | undefined, groupId: string): string | null {
  return appBaseUrl === undefined ? null : `${appBaseUrl}/signal-groups/${groupId}`;
}

export function maxSeverity(severities: Iterable<Severity>): Severity | undefined {
  let best: Severity | undefined;
  for (const s of severities) if (best === undefined || severityRank(s) > severityRank(best)) best = s;
  return best;
}

function byOccurrence(a: GroupingSignal, b: GroupingSignal): number {
  return Date.parse(a.occurred_at) - Date.parse(b.occurred_at);
}

/**
 * Decides where the new signals of one (agency_id, fingerprint) key go.
 *
 * `existing` is the key's active group if it has one, else its most recently closed group, else null.
 * - active group: every signal attaches (a snoozed or acknowledged group keeps its status);
 * - closed group: a signal that occurred before `closed_at` attaches to it without reopening; the first
 *   signal at or after `closed_at` reopens it if it occurred less than the reopen window after the close,
 *   otherwise the later signals open a new group;
 * - no group: a new group opens.
 */
export function decideGrouping(
  existing: GroupRow | null,
  newSignals: readonly GroupingSignal[],
  ctx: GroupingContext,
): KeyDecision {
  const decision: KeyDecision = {
    inserts: [],
    updates: [],
    activities: [],
    countAdjustments: [],
  };
  const signals = [...newSignals].sort(byOccurrence);
  const first = signals[0];
  if (first === undefined) return decision;

  if (existing === null) {
    openGroup(decision, signals, ctx);
    return decision;
  }
  if (isActiveStatus(existing.status)) {
    decision.updates.push(attach(decision, existing, signals, ctx));
    return decision;
  }

  const closedAt = Date.parse(existing.closed_at ?? existing.last_seen_at);
  const late = signals.filter((s) => Date.parse(s.occurred_at) < closedAt);
  const recurring = signals.filter((s) => Date.parse(s.occurred_at) >= closedAt);
  const firstRecurring = recurring[0];
  if (firstRecurring === undefined) {
    decision.updates.push(attach(decision, existing, late, ctx));
    return decision;
  }
  const withinWindow = Date.parse(firstRecurring.occurred_at) - closedAt < ctx.reopenWindowHours * HOUR_MS;
  if (withinWindow) {
    const withLate = late.length > 0 ? attach(decision, existing, late, ctx) : existing;
    decision.updates.push(reopen(decision, withLate, recurring, ctx));
    return decision;
  }
  if (late.length > 0) decision.updates.push(attach(decision, existing, late, ctx));
  openGroup(decision, recurring, ctx);
  return decision;
}

function openGroup(decision: KeyDecision, signals: GroupingSignal[], ctx: GroupingContext): void {
  const first = signals[0];
  if (first === undefined) return;
  const id = ctx.newId();
  const severity = maxSeverity(signals.map((s) => s.severity)) ?? first.severity;
  const blank: GroupRow = {
    id,
    fingerprint: first.fingerprint,
    current_severity: severity,
    agency_id: first.agency_id,
    agency_slug: null,
    job_name: first.job_name,
    signal_type: first.signal_type,
    first_seen_at: first.occurred_at,
    last_seen_at: first.occurred_at,
    count_total: 0,
    count_24h: 0,
    last_signal_id: null,
    assigned_to_user_id: null,
    assigned_team_id: null,
    slack_channel_id: null,
    slack_root_ts: null,
    ui_url: groupUiUrl(ctx.appBaseUrl, id),
    last_slack_updated_at: null,
    slack_message_hash: null,
    ...NEW_OPEN_PERIOD,
    open_since: ctx.now.toISOString(),
  };
  const group = attach(decision, blank, signals, ctx);
  decision.inserts.push(group);
  decision.activities.push(
    activity(ctx, group.id, "opened", { signal_id: first.id, severity, occurred_at: first.occurred_at }),
  );
}

function reopen(
  decision: KeyDecision,
  closed: GroupRow,
  signals: GroupingSignal[],
  ctx: GroupingContext,
): GroupRow {
  const first = signals[0];
  if (first === undefined) return closed;
  // A new open period: severity starts from this period's signals, the notification ladder restarts.
  const severity = maxSeverity(signals.map((s) => s.severity)) ?? first.severity;
  const reopened = attach(
    decision,
    { ...reopenedState(closed, ctx.now), current_severity: severity },
    signals,
    ctx,
  );
  decision.activities.push(
    activity(ctx, closed.id, "reopened", {
      signal_id: first.id,
      severity,
      occurred_at: first.occurred_at,
      previous_closed_at: closed.closed_at,
    }),
  );
  return reopened;
}

/** The state of a group entering a new open period (system or user reopen) at `now`. */
export function reopenedState(group: GroupRow, now: Date): GroupRow {
  return { ...group, ...NEW_OPEN_PERIOD, open_since: now.toISOString() };
}

/**
 * What starts afresh with every open period, new or reopened: no acknowledgement or snooze, the owner
 * notification and reminder ladder from the start, and count_24h recounted (a close no longer bounds the
 * group's signals).
 */
const NEW_OPEN_PERIOD = {
  status: "open",
  closed_at: null,
  acknowledged_at: null,
  acknowledged_by_user_id: null,
  snoozed_until: null,
  opened_notified_at: null,
  last_reminded_at: null,
  last_daily_reminder_date: null,
  last_escalated_at: null,
  count_24h_as_of: null,
} as const satisfies Partial<GroupRow>;

/**
 * Adds signals to a group: counts, first/last seen, last signal, a missing agency slug, and severity.
 * Severity only ratchets up; on an active group an upward change writes an `escalated` activity (a late
 * signal of a closed period updates the record silently).
 */
function attach(
  decision: KeyDecision,
  group: GroupRow,
  signals: GroupingSignal[],
  ctx: GroupingContext,
): GroupRow {
  let next = { ...group, count_total: group.count_total + signals.length };
  let lastSeen = group.last_signal_id === null ? Number.NEGATIVE_INFINITY : Date.parse(group.last_seen_at);
  let firstSeen = group.count_total === 0 ? Number.POSITIVE_INFINITY : Date.parse(group.first_seen_at);
  for (const s of signals) {
    const at = Date.parse(s.occurred_at);
    if (at >= lastSeen) {
      lastSeen = at;
      next.last_seen_at = s.occurred_at;
      next.last_signal_id = s.id;
    }
    if (at < firstSeen) {
      firstSeen = at;
      next.first_seen_at = s.occurred_at;
    }
    if (next.agency_slug === null && s.agency_slug !== null) next.agency_slug = s.agency_slug;
  }
  const top = maxSeverity(signals.map((s) => s.severity));
  if (top !== undefined && severityRank(top) > severityRank(next.current_severity)) {
    if (isActiveStatus(group.status)) {
      const cause = signals.find((s) => s.severity === top);
      decision.activities.push(
        activity(ctx, group.id, "escalated", {
          from: next.current_severity,
          to: top,
          signal_id: cause?.id ?? null,
        }),
      );
    }
    next = { ...next, current_severity: top };
  }
  return withCount24h(decision, group, next, signals, ctx.now);
}

/**
 * count_24h = the group's signals (see CountAdjustment) that occurred after `now` - 24h. Kept exact
 * without recounting everything: from the previous value and the `now` it was computed for, plus the new
 * signals, minus (in the database) the signals that left the window since. A group entering a new open
 * period (reopenedState) has no count_24h_as_of, so it is recounted.
 */
function withCount24h(
  decision: KeyDecision,
  before: GroupRow,
  after: GroupRow,
  added: readonly GroupingSignal[],
  now: Date,
): GroupRow {
  const nowMs = now.getTime();
  const windowStart = nowMs - DAY_MS;
  const asOf = before.count_24h_as_of === null ? null : Date.parse(before.count_24h_as_of);
  const next = { ...after, count_24h_as_of: now.toISOString() };
  const countAfter = (from: number) => added.filter((s) => Date.parse(s.occurred_at) > from).length;
  if (before.count_total === 0) return { ...next, count_24h: countAfter(windowStart) };
  const firstSeenMovedBack = Date.parse(after.first_seen_at) < Date.parse(before.first_seen_at);
  if (asOf === null || asOf > nowMs || firstSeenMovedBack) {
    decision.countAdjustments.push({
      groupId: after.id,
      kind: "recount",
      after: new Date(windowStart).toISOString(),
      minOccurredAt: after.first_seen_at,
      closedAt: after.closed_at,
    });
    return next;
  }
  if (asOf === nowMs) return { ...next, count_24h: before.count_24h + countAfter(windowStart) };
  decision.countAdjustments.push({
    groupId: after.id,
    kind: "decay",
    after: new Date(asOf - DAY_MS).toISOString(),
    until: new Date(windowStart).toISOString(),
    minOccurredAt: after.first_seen_at,
    closedAt: after.closed_at,
  });
  return { ...next, count_24h: before.count_24h + countAfter(asOf - DAY_MS) };
}

function activity(
  ctx: Pick<GroupingContext, "now" | "newId">,
  groupId: string,
  action: ActivityAction,
  metadata: JsonObject | null,
  actor: { type: ActorType; userId: string | null } = { type: "system", userId: null },
): ActivityRow {
  return {
    id: ctx.newId(),
    signal_group_id: groupId,
    created_at: ctx.now.toISOString(),
    actor_type: actor.type,
    actor_user_id: actor.userId,
    action,
    metadata_json: metadata,
  };
}

// ---------------------------------------------------------------------------------------------------
// User actions

export type UserAction =
  | { kind: "acknowledge" }
  | { kind: "snooze"; until: Date }
  | { kind: "close"; reason?: string }
  | { kind: "reopen" };

export type UserActionResult =
  | { ok: true; group: GroupRow; activity: ActivityRow }
  | { ok: false; reason: string };

/**
 * Applies a person's action to a group, or refuses it with a reason a person can act on. Reopening a
 * closed group while another group of the same key is active is checked by the caller (it needs the
 * database); everything else is decided here.
 */
export function decideUserAction(
  group: GroupRow,
  action: UserAction,
  ctx: { now: Date; userId: string; newId: () => string },
): UserActionResult {
  const actor = { type: "user" as const, userId: ctx.userId };
  const refuse = (reason: string): UserActionResult => ({ ok: false, reason });
  const now = ctx.now.toISOString();
  switch (action.kind) {
    case "acknowledge": {
      if (group.status === "closed") return refuse(`group ${group.id} is closed; reopen it first`);
      if (group.status === "acknowledged") {
        return refuse(
          `group ${group.id} is already acknowledged by ${group.acknowledged_by_user_id ?? "someone"} at ${group.acknowledged_at ?? "an unknown time"}`,
        );
      }
      const next: GroupRow = {
        ...group,
        status: "acknowledged",
        acknowledged_at: now,
        acknowledged_by_user_id: ctx.userId,
        snoozed_until: null,
      };
      return ok(next, activity(ctx, group.id, "acknowledged", { from: group.status }, actor));
    }
    case "snooze": {
      if (group.status === "closed") return refuse(`group ${group.id} is closed; reopen it first`);
      if (!(action.until.getTime() > ctx.now.getTime())) {
        return refuse(`snooze time ${action.until.toISOString()} is not in the future (now ${now})`);
      }
      const until = action.until.toISOString();
      const next: GroupRow = { ...group, status: "snoozed", snoozed_until: until };
      return ok(next, activity(ctx, group.id, "snoozed", { from: group.status, until }, actor));
    }
    case "close": {
      if (group.status === "closed") {
        return refuse(`group ${group.id} is already closed (at ${group.closed_at ?? "an unknown time"})`);
      }
      // count_24h_as_of: the close now bounds which signals are the group's, so the next count starts afresh.
      const next: GroupRow = {
        ...group,
        status: "closed",
        closed_at: now,
        snoozed_until: null,
        count_24h_as_of: null,
      };
      return ok(
        next,
        activity(ctx, group.id, "closed", { from: group.status, reason: action.reason ?? "manual" }, actor),
      );
    }
    case "reopen": {
      if (group.status !== "closed") return refuse(`group ${group.id} is ${group.status}, not closed`);
      const next = reopenedState(group, ctx.now);
      return ok(
        next,
        activity(ctx, group.id, "reopened", { from: "closed", previous_closed_at: group.closed_at }, actor),
      );
    }
  }
}

function ok(group: GroupRow, activityRow: ActivityRow): UserActionResult {
  return { ok: true, group, activity: activityRow };
}

/**
 * The system closes a group because its problem went away (a pipeline recovered, an import error left the
 * snapshot). Refused when the group is already closed, or when it saw a signal at or after `resolvedAt`
 * (the recovery is older than the latest failure, so it proves nothing).
 */
export function decideSystemClose(
  group: GroupRow,
  close: { reason: string; resolvedAt: string; metadata?: JsonObject },
  ctx: { now: Date; newId: () => string },
): UserActionResult {
  if (!isActiveStatus(group.status)) return { ok: false, reason: `group ${group.id} is already closed` };
  if (Date.parse(group.last_seen_at) >= Date.parse(close.resolvedAt)) {
    return {
      ok: false,
      reason: `group ${group.id} failed again at ${group.last_seen_at}, after the recovery at ${close.resolvedAt}`,
    };
  }
  const next: GroupRow = {
    ...group,
    status: "closed",
    closed_at: ctx.now.toISOString(),
    snoozed_until: null,
    count_24h_as_of: null,
  };
  return ok(
    next,
    activity(ctx, group.id, "closed", {
      from: group.status,
      reason: close.reason,
      resolved_at: close.resolvedAt,
      ...(close.metadata ?? {}),
    }),
  );
}

/**
 * A snoozed group whose snooze ran out returns to `open` as of `snoozed_until` (not as of the run that
 * noticed), and its reminder ladder starts again from then. Recorded as `reopened` from `snoozed`.
 */
export function decideSnoozeExpiry(
  group: GroupRow,
  ctx: { now: Date; newId: () => string; maxBackdateMs?: number },
): UserActionResult {
  if (group.status !== "snoozed" || group.snoozed_until === null) {
    return { ok: false, reason: `group ${group.id} is ${group.status}, not snoozed` };
  }
  if (Date.parse(group.snoozed_until) > ctx.now.getTime()) {
    return { ok: false, reason: `group ${group.id} is snoozed until ${group.snoozed_until}` };
  }
  // As of the snooze's end, but not further back than maxBackdateMs: a dispatcher that was down for hours
  // must not turn a snooze's end into an immediate T8 escalation.
  const earliest = ctx.now.getTime() - (ctx.maxBackdateMs ?? Number.POSITIVE_INFINITY);
  const openSince = new Date(Math.max(Date.parse(group.snoozed_until), earliest)).toISOString();
  const next: GroupRow = {
    ...group,
    status: "open",
    snoozed_until: null,
    open_since: openSince,
    last_reminded_at: null,
    last_daily_reminder_date: null,
    last_escalated_at: null,
  };
  return ok(
    next,
    activity(ctx, group.id, "reopened", {
      from: "snoozed",
      reason: "snooze expired",
      snoozed_until: group.snoozed_until,
    }),
  );
}
