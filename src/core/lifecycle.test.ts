import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideGrouping,
  decideSnoozeExpiry,
  decideSystemClose,
  decideUserAction,
  type GroupingSignal,
  reopenedState,
  type UserAction,
} from "./lifecycle.js";
import {
  GROUP_STATUSES,
  type GroupRow,
  type GroupStatus,
  SEVERITIES,
  type Severity,
  severityRank,
} from "./types.js";

const T0 = Date.parse("2024-05-01T10:00:00.000Z");
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function ids() {
  let n = 0;
  return () => `00000000-0000-7000-8000-${String(++n).padStart(12, "0")}`;
}

function ctx(extra: Partial<{ reopenWindowHours: number; now: number }> = {}) {
  return {
    now: new Date(extra.now ?? T0 + 100 * HOUR),
    reopenWindowHours: extra.reopenWindowHours ?? 24,
    appBaseUrl: "https://ops.example.com",
    newId: ids(),
  };
}

let signalCounter = 0;
function sig(at: number, severity: Severity = "error"): GroupingSignal {
  signalCounter += 1;
  return {
    id: `sig-${signalCounter}`,
    occurred_at: iso(at),
    severity,
    agency_id: "a1",
    agency_slug: "acme",
    job_name: "job",
    signal_type: "task_failed",
    fingerprint: "f".repeat(64),
  };
}

function group(overrides: Partial<GroupRow> = {}): GroupRow {
  return {
    id: "g-1",
    fingerprint: "f".repeat(64),
    status: "open",
    current_severity: "error",
    agency_id: "a1",
    agency_slug: "acme",
    job_name: "job",
    signal_type: "task_failed",
    first_seen_at: iso(T0),
    last_seen_at: iso(T0),
    count_total: 1,
    count_24h: 1,
    count_24h_as_of: null,
    open_since: "2024-05-01T10:00:00.000Z",
    last_signal_id: "sig-0",
    assigned_to_user_id: null,
    assigned_team_id: null,
    acknowledged_at: null,
    acknowledged_by_user_id: null,
    snoozed_until: null,
    opened_notified_at: null,
    last_reminded_at: null,
    last_daily_reminder_date: null,
    last_escalated_at: null,
    slack_channel_id: null,
    slack_root_ts: null,
    ui_url: null,
    closed_at: null,
    last_slack_updated_at: null,
    slack_message_hash: null,
    ...overrides,
  };
}

const severityArb = fc.constantFrom(...SEVERITIES);
const signalsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 48 * HOUR }), severityArb), {
  minLength: 1,
  maxLength: 30,
});

describe("decideGrouping", () => {
  it("opens one group for a new key: first/last seen, last signal, max severity, ui url, one opened activity", () => {
    fc.assert(
      fc.property(signalsArb, (spec) => {
        const signals = spec.map(([at, s]) => sig(T0 + at, s));
        const d = decideGrouping(null, signals, ctx());
        expect(d.updates).toEqual([]);
        expect(d.inserts).toHaveLength(1);
        const g = d.inserts[0] as GroupRow;
        const times = spec.map(([at]) => T0 + at);
        expect(g.count_total).toBe(signals.length);
        expect(Date.parse(g.first_seen_at)).toBe(Math.min(...times));
        expect(Date.parse(g.last_seen_at)).toBe(Math.max(...times));
        expect(signals.find((s) => s.id === g.last_signal_id)?.occurred_at).toBe(g.last_seen_at);
        expect(severityRank(g.current_severity)).toBe(Math.max(...spec.map(([, s]) => severityRank(s))));
        expect(g.status).toBe("open");
        expect(g.ui_url).toBe(`https://ops.example.com/signal-groups/${g.id}`);
        expect(d.activities.map((a) => a.action)).toEqual(["opened"]);
        expect(d.activities[0]?.metadata_json?.signal_id).toBe(
          signals.slice().sort((a, b) => a.occurred_at.localeCompare(b.occurred_at))[0]?.id,
        );
      }),
    );
  });

  it("gives the same group whatever the order of the signals in the batch", () => {
    fc.assert(
      fc.property(signalsArb, fc.integer(), (spec, seed) => {
        const signals = spec.map(([at, s]) => sig(T0 + at, s));
        const shuffled =
          fc.sample(fc.shuffledSubarray(signals, { minLength: signals.length }), { seed, numRuns: 1 })[0] ??
          signals;
        const a = decideGrouping(null, signals, ctx()).inserts[0];
        const b = decideGrouping(null, shuffled, ctx()).inserts[0];
        expect({ ...b, last_signal_id: null }).toEqual({ ...a, last_signal_id: null });
        expect(b?.last_seen_at).toBe(a?.last_seen_at);
      }),
    );
  });

  it("attaches to an active group; severity only ratchets up and an upward change is one escalated activity", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<GroupStatus>("open", "acknowledged", "snoozed"),
        severityArb,
        signalsArb,
        (status, current, spec) => {
          const existing = group({ status, current_severity: current, count_total: 5 });
          const signals = spec.map(([at, s]) => sig(T0 + at, s));
          const d = decideGrouping(existing, signals, ctx());
          expect(d.inserts).toEqual([]);
          const g = d.updates[0] as GroupRow;
          expect(g.status).toBe(status);
          expect(g.count_total).toBe(5 + signals.length);
          const top = Math.max(...spec.map(([, s]) => severityRank(s)));
          expect(severityRank(g.current_severity)).toBe(Math.max(top, severityRank(current)));
          const escalated = d.activities.filter((a) => a.action === "escalated");
          expect(escalated).toHaveLength(top > severityRank(current) ? 1 : 0);
          expect(d.activities.length).toBe(escalated.length);
          if (escalated[0])
            expect(escalated[0].metadata_json).toMatchObject({ from: current, to: g.current_severity });
        },
      ),
    );
  });

  it("a closed group: late signals attach, the first recurrence reopens inside the window or opens a new group", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 72 }),
        fc.array(fc.integer({ min: -10 * HOUR, max: 100 * HOUR }), { minLength: 1, maxLength: 20 }),
        (windowHours, offsets) => {
          const closedAt = T0 + 2 * HOUR;
          const closed = group({
            status: "closed",
            closed_at: iso(closedAt),
            current_severity: "critical",
            acknowledged_at: iso(T0),
            acknowledged_by_user_id: "u",
          });
          const signals = offsets.map((o) => sig(closedAt + o, "warning"));
          const d = decideGrouping(closed, signals, ctx({ reopenWindowHours: windowHours }));
          const late = offsets.filter((o) => o < 0);
          const recurring = offsets.filter((o) => o >= 0);
          const actions = d.activities.map((a) => a.action);
          if (recurring.length === 0) {
            expect(actions).toEqual([]);
            expect(d.updates).toHaveLength(1);
            expect(d.updates[0]).toMatchObject({
              status: "closed",
              count_total: 1 + late.length,
              current_severity: "critical",
            });
          } else if (Math.min(...recurring) < windowHours * HOUR) {
            expect(actions).toEqual(["reopened"]);
            expect(d.inserts).toEqual([]);
            expect(d.updates).toHaveLength(1);
            expect(d.updates[0]).toMatchObject({
              id: closed.id,
              status: "open",
              closed_at: null,
              acknowledged_at: null,
              acknowledged_by_user_id: null,
              current_severity: "warning",
              count_total: 1 + offsets.length,
            });
          } else {
            expect(actions).toEqual(["opened"]);
            expect(d.inserts[0]).toMatchObject({ status: "open", count_total: recurring.length });
            expect(d.updates).toHaveLength(late.length > 0 ? 1 : 0);
            if (late.length > 0)
              expect(d.updates[0]).toMatchObject({ status: "closed", count_total: 1 + late.length });
          }
        },
      ),
    );
  });

  it("treats the window's edge as outside: exactly REOPEN_WINDOW_HOURS after the close opens a new group", () => {
    const closed = group({ status: "closed", closed_at: iso(T0) });
    expect(decideGrouping(closed, [sig(T0 + 24 * HOUR - 1)], ctx()).activities.map((a) => a.action)).toEqual([
      "reopened",
    ]);
    expect(decideGrouping(closed, [sig(T0 + 24 * HOUR)], ctx()).activities.map((a) => a.action)).toEqual([
      "opened",
    ]);
    expect(decideGrouping(closed, [sig(T0)], ctx()).activities.map((a) => a.action)).toEqual(["reopened"]);
    expect(decideGrouping(closed, [sig(T0 - 1)], ctx()).activities.map((a) => a.action)).toEqual([]);
  });

  it("reopening restarts the notification ladder", () => {
    const closed = group({
      status: "closed",
      closed_at: iso(T0),
      opened_notified_at: iso(T0),
      last_reminded_at: iso(T0),
      last_daily_reminder_date: "2024-05-01",
      last_escalated_at: iso(T0),
      snoozed_until: null,
      slack_root_ts: "1714557600.000100",
    });
    const [g] = decideGrouping(closed, [sig(T0 + HOUR)], ctx()).updates;
    expect(g).toMatchObject({
      opened_notified_at: null,
      last_reminded_at: null,
      last_daily_reminder_date: null,
      last_escalated_at: null,
      slack_root_ts: "1714557600.000100",
    });
  });

  describe("count_24h", () => {
    const now = T0 + 30 * HOUR;
    const nowIso = iso(now);

    it("a new group counts its signals of the last 24 hours", () => {
      const d = decideGrouping(
        null,
        [sig(now - 25 * HOUR), sig(now - 24 * HOUR), sig(now - 23 * HOUR), sig(now)],
        ctx({ now }),
      );
      expect(d.inserts[0]).toMatchObject({ count_24h: 2, count_24h_as_of: nowIso, count_total: 4 });
      expect(d.countAdjustments).toEqual([]);
    });

    it("adds exactly when the previous count is for the same now", () => {
      const g = group({ count_24h: 7, count_24h_as_of: nowIso, count_total: 9 });
      const d = decideGrouping(g, [sig(now - 25 * HOUR), sig(now - HOUR)], ctx({ now }));
      expect(d.updates[0]).toMatchObject({ count_24h: 8, count_24h_as_of: nowIso });
      expect(d.countAdjustments).toEqual([]);
    });

    it("asks the database for the signals that left the window since the previous count", () => {
      const asOf = now - 3 * HOUR;
      const g = group({ count_24h: 7, count_24h_as_of: iso(asOf), count_total: 9 });
      // In the old window but not the new one: counted now, subtracted by the decay count.
      const d = decideGrouping(
        g,
        [sig(now - 26 * HOUR), sig(now - HOUR), sig(now - 28 * HOUR)],
        ctx({ now }),
      );
      expect(d.updates[0]).toMatchObject({ count_24h: 9, count_24h_as_of: nowIso });
      expect(d.countAdjustments).toEqual([
        {
          groupId: g.id,
          kind: "decay",
          after: iso(asOf - 24 * HOUR),
          until: iso(now - 24 * HOUR),
          minOccurredAt: g.first_seen_at,
          closedAt: null,
        },
      ]);
    });

    it.each([
      ["unknown", null],
      ["in the future (a replay going back in time)", iso(T0 + 40 * HOUR)],
    ])("recounts when the previous count's time is %s", (_label, asOf) => {
      const g = group({ count_24h: 7, count_24h_as_of: asOf, count_total: 9 });
      const d = decideGrouping(g, [sig(now - HOUR)], ctx({ now }));
      expect(d.countAdjustments).toEqual([
        {
          groupId: g.id,
          kind: "recount",
          after: iso(now - 24 * HOUR),
          minOccurredAt: g.first_seen_at,
          closedAt: null,
        },
      ]);
    });

    it("bounds a closed group's counts by its close, and recounts a group entering a new open period", () => {
      const closed = group({
        status: "closed",
        closed_at: iso(now - 2 * HOUR),
        count_24h: 3,
        count_24h_as_of: iso(now - HOUR),
      });
      const late = decideGrouping(closed, [sig(now - 3 * HOUR)], ctx({ now }));
      expect(late.countAdjustments).toMatchObject([{ kind: "decay", closedAt: iso(now - 2 * HOUR) }]);
      const reopened = decideGrouping(closed, [sig(now - HOUR)], ctx({ now }));
      expect(reopened.countAdjustments).toMatchObject([{ kind: "recount", closedAt: null }]);
    });

    it("recounts when a late signal moves first_seen_at back", () => {
      const g = group({ count_24h: 1, count_24h_as_of: nowIso, first_seen_at: iso(now - HOUR) });
      const d = decideGrouping(g, [sig(now - 2 * HOUR)], ctx({ now }));
      expect(d.countAdjustments).toMatchObject([{ kind: "recount", minOccurredAt: iso(now - 2 * HOUR) }]);
    });
  });

  it("does nothing for an empty batch", () => {
    expect(decideGrouping(null, [], ctx())).toEqual({
      inserts: [],
      updates: [],
      activities: [],
      countAdjustments: [],
    });
  });
});

describe("decideUserAction", () => {
  const now = new Date(T0 + HOUR);
  const actions: UserAction[] = [
    { kind: "acknowledge" },
    { kind: "snooze", until: new Date(T0 + 5 * HOUR) },
    { kind: "close" },
    { kind: "reopen" },
  ];
  // status -> action -> resulting status (null = refused)
  const table: Record<GroupStatus, Record<UserAction["kind"], GroupStatus | null>> = {
    open: { acknowledge: "acknowledged", snooze: "snoozed", close: "closed", reopen: null },
    acknowledged: { acknowledge: null, snooze: "snoozed", close: "closed", reopen: null },
    snoozed: { acknowledge: "acknowledged", snooze: "snoozed", close: "closed", reopen: null },
    closed: { acknowledge: null, snooze: null, close: null, reopen: "open" },
  };

  for (const status of GROUP_STATUSES) {
    for (const action of actions) {
      const expected = table[status][action.kind];
      it(`${action.kind} on ${status} ${expected === null ? "is refused" : `gives ${expected}`}`, () => {
        const g = group({
          status,
          closed_at: status === "closed" ? iso(T0) : null,
          snoozed_until: status === "snoozed" ? iso(T0 + 2 * HOUR) : null,
        });
        const r = decideUserAction(g, action, { now, userId: "alice", newId: ids() });
        if (expected === null) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.reason).toContain(g.id);
          return;
        }
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.group.status).toBe(expected);
        expect(r.activity).toMatchObject({
          signal_group_id: g.id,
          actor_type: "user",
          actor_user_id: "alice",
          created_at: now.toISOString(),
        });
        expect(r.activity.action).toBe(
          { acknowledge: "acknowledged", snooze: "snoozed", close: "closed", reopen: "reopened" }[
            action.kind
          ],
        );
        if (expected === "acknowledged")
          expect(r.group).toMatchObject({ acknowledged_by_user_id: "alice", snoozed_until: null });
        if (expected === "closed") expect(r.group.closed_at).toBe(now.toISOString());
        if (expected === "open") expect(r.group).toEqual({ ...reopenedState(g, now) });
      });
    }
  }

  it("refuses a snooze that does not end in the future", () => {
    const r = decideUserAction(group(), { kind: "snooze", until: now }, { now, userId: "u", newId: ids() });
    expect(r).toEqual({ ok: false, reason: expect.stringContaining("not in the future") });
  });
});

describe("decideSystemClose", () => {
  const base = (over: Partial<GroupRow> = {}): GroupRow => group(over);
  const ctx = { now: new Date("2024-05-01T12:00:00Z"), newId: () => "act-1" };

  it("closes an active group whose last signal is older than the recovery", () => {
    for (const status of ["open", "acknowledged", "snoozed"] as const) {
      const r = decideSystemClose(
        base({
          status,
          last_seen_at: "2024-05-01T10:00:00.000Z",
          snoozed_until: status === "snoozed" ? "2024-05-02T00:00:00.000Z" : null,
        }),
        { reason: "recovered", resolvedAt: "2024-05-01T11:00:00Z", metadata: { run_id: "r2" } },
        ctx,
      );
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.group).toMatchObject({
        status: "closed",
        closed_at: "2024-05-01T12:00:00.000Z",
        snoozed_until: null,
        count_24h_as_of: null,
      });
      expect(r.activity).toMatchObject({ action: "closed", actor_type: "system", actor_user_id: null });
      expect(r.activity.metadata_json).toMatchObject({
        from: status,
        reason: "recovered",
        run_id: "r2",
        resolved_at: "2024-05-01T11:00:00Z",
      });
    }
  });

  it("refuses when the group failed again at or after the recovery, or is closed", () => {
    const late = decideSystemClose(
      base({ last_seen_at: "2024-05-01T11:00:00.000Z" }),
      { reason: "recovered", resolvedAt: "2024-05-01T11:00:00Z" },
      ctx,
    );
    expect(late.ok).toBe(false);
    const closed = decideSystemClose(
      base({ status: "closed", closed_at: "2024-05-01T10:30:00.000Z" }),
      { reason: "recovered", resolvedAt: "2024-05-01T11:00:00Z" },
      ctx,
    );
    expect(closed.ok).toBe(false);
  });
});

describe("decideSnoozeExpiry", () => {
  const until = "2024-05-01T16:00:00.000Z";
  const snoozed = (over: Partial<GroupRow> = {}): GroupRow =>
    group({
      status: "snoozed",
      snoozed_until: until,
      open_since: "2024-05-01T10:00:00.000Z",
      opened_notified_at: "2024-05-01T10:00:05.000Z",
      last_reminded_at: "2024-05-01T12:00:00.000Z",
      last_escalated_at: null,
      last_daily_reminder_date: null,
      ...over,
    });
  const at = (iso: string) => ({ now: new Date(iso), newId: () => "act-1" });

  it("refuses a group that is not snoozed", () => {
    for (const status of GROUP_STATUSES.filter((s) => s !== "snoozed")) {
      const r = decideSnoozeExpiry(snoozed({ status }), at("2024-05-02T00:00:00Z"));
      expect(r).toEqual({ ok: false, reason: expect.stringContaining("not snoozed") });
    }
    // A snoozed row without an end cannot expire (and is not guessed at).
    expect(decideSnoozeExpiry(snoozed({ snoozed_until: null }), at("2024-05-02T00:00:00Z")).ok).toBe(false);
  });

  it("refuses a snooze that has not run out yet", () => {
    const r = decideSnoozeExpiry(snoozed(), at("2024-05-01T15:59:59.999Z"));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining(`snoozed until ${until}`) });
  });

  it("at or after the end, reopens as of snoozed_until with a fresh reminder ladder", () => {
    for (const now of [until, "2024-05-01T16:14:00.000Z", "2024-05-03T00:00:00.000Z"]) {
      const before = snoozed({
        last_escalated_at: "2024-05-01T13:00:00.000Z",
        last_daily_reminder_date: "2024-05-01",
      });
      const r = decideSnoozeExpiry(before, at(now));
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.group).toEqual({
        ...before,
        status: "open",
        snoozed_until: null,
        // The ladder counts from when the snooze ended, not from when a run noticed.
        open_since: until,
        last_reminded_at: null,
        last_escalated_at: null,
        last_daily_reminder_date: null,
      });
      expect(r.activity).toEqual({
        id: "act-1",
        signal_group_id: before.id,
        created_at: new Date(now).toISOString(),
        actor_type: "system",
        actor_user_id: null,
        action: "reopened",
        metadata_json: { from: "snoozed", reason: "snooze expired", snoozed_until: until },
      });
    }
  });

  it("keeps the group's Slack root, owner and counts", () => {
    const before = snoozed({
      slack_root_ts: "1714557605.000100",
      assigned_to_user_id: "alice",
      count_total: 7,
    });
    const r = decideSnoozeExpiry(before, at("2024-05-01T17:00:00Z"));
    expect(r.ok && r.group).toMatchObject({
      slack_root_ts: "1714557605.000100",
      assigned_to_user_id: "alice",
      count_total: 7,
      opened_notified_at: before.opened_notified_at,
    });
  });
});
