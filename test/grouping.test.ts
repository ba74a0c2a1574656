import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupRow, SignalRow } from "../src/core/types.js";
import { listActivity } from "../src/db/activity.js";
import { applyUserAction } from "../src/db/group-actions.js";
import { findGroup, listGroups } from "../src/db/groups.js";
import { type IngestOptions, ingestSignalBatch } from "../src/db/ingest.js";
import { createTestDatabase, type TestDatabase } from "./support/db.js";
import { addHours, row } from "./support/signals.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const T0 = "2024-05-01T10:00:00.000Z";

function opts(now: string, extra: Partial<IngestOptions> = {}): IngestOptions {
  return { now: new Date(now), reopenWindowHours: 24, appBaseUrl: "https://ops.example.com", ...extra };
}

/** Each test uses its own job name, so keys never collide across tests sharing the database. */
let jobCounter = 0;
function job(): string {
  jobCounter += 1;
  return `job_${jobCounter}`;
}

async function groupsOf(jobName: string): Promise<GroupRow[]> {
  const all = await listGroups(t.db, { limit: 100_000 });
  return all
    .filter((g) => g.job_name === jobName)
    .sort((a, b) => a.first_seen_at.localeCompare(b.first_seen_at));
}

async function only(jobName: string): Promise<GroupRow> {
  const groups = await groupsOf(jobName);
  expect(groups).toHaveLength(1);
  return groups[0] as GroupRow;
}

async function actions(groupId: string): Promise<string[]> {
  return (await listActivity(t.db, groupId)).map((a) => a.action);
}

describe("ingestSignalBatch", () => {
  it("opens a group for a new key with every field of the spec", async () => {
    const j = job();
    const s = row({ job_name: j, occurred_at: T0, severity: "warning" });
    const result = await ingestSignalBatch(t.db, [s], opts(T0));
    expect(result).toMatchObject({
      received: 1,
      inserted: 1,
      duplicates: 0,
      opened: 1,
      attached: 0,
      reopened: 0,
    });
    const g = await only(j);
    expect(g).toMatchObject({
      fingerprint: s.fingerprint,
      status: "open",
      current_severity: "warning",
      agency_id: "agency-1",
      agency_slug: "acme",
      job_name: j,
      signal_type: "task_failed",
      first_seen_at: T0,
      last_seen_at: T0,
      count_total: 1,
      count_24h: 1,
      last_signal_id: s.id,
      closed_at: null,
      opened_notified_at: null,
      ui_url: `https://ops.example.com/signal-groups/${g.id}`,
    });
    const activity = await listActivity(t.db, g.id);
    expect(activity).toHaveLength(1);
    expect(activity[0]).toMatchObject({ action: "opened", actor_type: "system", actor_user_id: null });
    expect(activity[0]?.metadata_json).toMatchObject({ signal_id: s.id, severity: "warning" });
  });

  it("attaches later signals: counts, last seen, last signal, no new activity", async () => {
    const j = job();
    await ingestSignalBatch(t.db, [row({ job_name: j, occurred_at: T0 })], opts(T0));
    const later = row({
      job_name: j,
      occurred_at: addHours(T0, 1),
      error_message: "could not parse row 9123",
    });
    const result = await ingestSignalBatch(t.db, [later], opts(addHours(T0, 1)));
    expect(result).toMatchObject({ inserted: 1, opened: 0, attached: 1 });
    const g = await only(j);
    expect(g).toMatchObject({
      count_total: 2,
      count_24h: 2,
      last_seen_at: addHours(T0, 1),
      last_signal_id: later.id,
    });
    expect(g.first_seen_at).toBe(T0);
    expect(await actions(g.id)).toEqual(["opened"]);
  });

  it("is idempotent: re-ingesting the same signals inserts nothing and changes no group", async () => {
    const j = job();
    const batch = [0, 1, 2].map((i) =>
      row({ job_name: j, occurred_at: addHours(T0, i), dedup_key: `${j}-${i}` }),
    );
    await ingestSignalBatch(t.db, batch, opts(addHours(T0, 3)));
    const before = await only(j);
    const again = await ingestSignalBatch(t.db, batch, opts(addHours(T0, 3)));
    expect(again).toMatchObject({ received: 3, inserted: 0, duplicates: 3, opened: 0, attached: 0 });
    expect(await only(j)).toEqual(before);
    // The same signal twice in one batch counts once.
    const s = row({ job_name: j, occurred_at: addHours(T0, 4), dedup_key: `${j}-dup` });
    const dup = await ingestSignalBatch(t.db, [s, { ...s }], opts(addHours(T0, 4)));
    expect(dup).toMatchObject({ received: 2, inserted: 1, duplicates: 1 });
    expect((await only(j)).count_total).toBe(4);
  });

  it("groups by fingerprint: volatile message parts do not split, other errors do", async () => {
    const j = job();
    await ingestSignalBatch(
      t.db,
      [
        row({ job_name: j, error_message: "timeout after 30 seconds on run 8812" }),
        row({ job_name: j, error_message: "Timeout after 45 seconds on run 9001" }),
        row({ job_name: j, error_class: "KeyError", error_message: "missing key customer_id" }),
      ],
      opts(T0),
    );
    const groups = await groupsOf(j);
    expect(groups.map((g) => g.count_total).sort()).toEqual([1, 2]);
  });

  it("groups signals without an agency together, and keeps agencies apart", async () => {
    const j = job();
    await ingestSignalBatch(t.db, [row({ job_name: j, agency_id: null })], opts(T0));
    await ingestSignalBatch(t.db, [row({ job_name: j, agency_id: null })], opts(T0));
    await ingestSignalBatch(t.db, [row({ job_name: j, agency_id: "agency-2" })], opts(T0));
    const groups = await groupsOf(j);
    expect(groups).toHaveLength(2);
    expect(groups.find((g) => g.agency_id === null)?.count_total).toBe(2);
    expect(groups.find((g) => g.agency_id === "agency-2")?.count_total).toBe(1);
  });

  it("ratchets severity up with one escalated activity, never down", async () => {
    const j = job();
    await ingestSignalBatch(t.db, [row({ job_name: j, severity: "warning" })], opts(T0));
    const up = row({ job_name: j, severity: "critical", occurred_at: addHours(T0, 1) });
    const result = await ingestSignalBatch(
      t.db,
      [row({ job_name: j, severity: "error", occurred_at: addHours(T0, 1) }), up],
      opts(addHours(T0, 1)),
    );
    expect(result.escalated).toBe(1);
    let g = await only(j);
    expect(g.current_severity).toBe("critical");
    const activity = await listActivity(t.db, g.id);
    expect(activity.map((a) => a.action)).toEqual(["opened", "escalated"]);
    expect(activity[1]?.metadata_json).toMatchObject({ from: "warning", to: "critical", signal_id: up.id });
    const down = await ingestSignalBatch(
      t.db,
      [row({ job_name: j, severity: "info", occurred_at: addHours(T0, 2) })],
      opts(addHours(T0, 2)),
    );
    expect(down.escalated).toBe(0);
    g = await only(j);
    expect(g.current_severity).toBe("critical");
    expect(await actions(g.id)).toEqual(["opened", "escalated"]);
  });

  it("keeps a snoozed group snoozed and an acknowledged one acknowledged", async () => {
    for (const action of ["snooze", "acknowledge"] as const) {
      const j = job();
      await ingestSignalBatch(t.db, [row({ job_name: j })], opts(T0));
      const g0 = await only(j);
      await applyUserAction(
        t.db,
        g0.id,
        action === "snooze" ? { kind: "snooze", until: new Date(addHours(T0, 4)) } : { kind: "acknowledge" },
        { now: new Date(addHours(T0, 0.5)), userId: "u-1" },
      );
      await ingestSignalBatch(
        t.db,
        [row({ job_name: j, occurred_at: addHours(T0, 1) })],
        opts(addHours(T0, 1)),
      );
      const g = await only(j);
      expect(g.status).toBe(action === "snooze" ? "snoozed" : "acknowledged");
      expect(g.count_total).toBe(2);
    }
  });

  describe("after a close", () => {
    async function closedGroup(j: string, closedAt: string): Promise<GroupRow> {
      await ingestSignalBatch(t.db, [row({ job_name: j, occurred_at: T0, severity: "critical" })], opts(T0));
      const g = await only(j);
      await applyUserAction(
        t.db,
        g.id,
        { kind: "acknowledge" },
        { now: new Date(addHours(T0, 0.1)), userId: "u-1" },
      );
      return applyUserAction(t.db, g.id, { kind: "close" }, { now: new Date(closedAt), userId: "u-1" });
    }

    it("reopens the same group for a signal just inside the window, resetting the open period", async () => {
      const j = job();
      const closedAt = addHours(T0, 1);
      const closed = await closedGroup(j, closedAt);
      const justInside = new Date(Date.parse(closedAt) + 24 * 3_600_000 - 1).toISOString();
      const s = row({ job_name: j, occurred_at: justInside, severity: "warning" });
      const result = await ingestSignalBatch(t.db, [s], opts(justInside));
      expect(result).toMatchObject({ reopened: 1, opened: 0, attached: 0 });
      const g = await only(j);
      expect(g).toMatchObject({
        id: closed.id,
        status: "open",
        closed_at: null,
        acknowledged_at: null,
        acknowledged_by_user_id: null,
        current_severity: "warning",
        count_total: 2,
        last_signal_id: s.id,
      });
      const activity = await listActivity(t.db, g.id);
      expect(activity.map((a) => a.action)).toEqual(["opened", "acknowledged", "closed", "reopened"]);
      expect(activity[3]?.metadata_json).toMatchObject({ signal_id: s.id, previous_closed_at: closedAt });
    });

    it("opens a new group for a signal exactly at the window's edge", async () => {
      const j = job();
      const closedAt = addHours(T0, 1);
      const closed = await closedGroup(j, closedAt);
      const edge = addHours(closedAt, 24);
      const result = await ingestSignalBatch(t.db, [row({ job_name: j, occurred_at: edge })], opts(edge));
      expect(result).toMatchObject({ opened: 1, reopened: 0 });
      const groups = await groupsOf(j);
      expect(groups.map((g) => [g.id === closed.id, g.status])).toEqual([
        [true, "closed"],
        [false, "open"],
      ]);
      expect(groups[1]?.count_total).toBe(1);
    });

    it("honours REOPEN_WINDOW_HOURS", async () => {
      const j = job();
      const closedAt = addHours(T0, 1);
      await closedGroup(j, closedAt);
      const at = addHours(closedAt, 2);
      const result = await ingestSignalBatch(
        t.db,
        [row({ job_name: j, occurred_at: at })],
        opts(at, { reopenWindowHours: 2 }),
      );
      expect(result).toMatchObject({ opened: 1, reopened: 0 });
    });

    it("attaches a late signal that occurred before the close without reopening", async () => {
      const j = job();
      const closedAt = addHours(T0, 1);
      const closed = await closedGroup(j, closedAt);
      const late = row({ job_name: j, occurred_at: addHours(T0, 0.5) });
      const result = await ingestSignalBatch(t.db, [late], opts(addHours(T0, 3)));
      expect(result).toMatchObject({ attached: 1, reopened: 0, opened: 0 });
      const g = await only(j);
      expect(g).toMatchObject({ id: closed.id, status: "closed", count_total: 2, last_signal_id: late.id });
      expect(await actions(g.id)).toEqual(["opened", "acknowledged", "closed"]);
    });

    it("splits a batch: late signals join the closed group, recurrences outside the window open a new one", async () => {
      const j = job();
      const closedAt = addHours(T0, 1);
      const closed = await closedGroup(j, closedAt);
      const now = addHours(closedAt, 30);
      const result = await ingestSignalBatch(
        t.db,
        [
          row({ job_name: j, occurred_at: addHours(T0, 0.5) }),
          row({ job_name: j, occurred_at: addHours(closedAt, 29) }),
        ],
        opts(now),
      );
      expect(result).toMatchObject({ attached: 1, opened: 1 });
      const groups = await groupsOf(j);
      expect(groups.map((g) => [g.id === closed.id, g.status, g.count_total])).toEqual([
        [true, "closed", 2],
        [false, "open", 1],
      ]);
    });
  });

  it("recomputes count_24h from signal times: it counts only the last 24 hours and decays", async () => {
    const j = job();
    const now = addHours(T0, 30);
    const batch: SignalRow[] = [
      row({ job_name: j, occurred_at: T0 }), // 30 h before now: outside
      row({ job_name: j, occurred_at: addHours(T0, 6) }), // exactly 24 h before now: outside
      row({ job_name: j, occurred_at: addHours(T0, 7) }),
      row({ job_name: j, occurred_at: addHours(T0, 29) }),
    ];
    await ingestSignalBatch(t.db, batch, opts(now));
    let g = await only(j);
    expect(g).toMatchObject({ count_total: 4, count_24h: 2 });
    // A later batch recomputes: at now + 2 h only the newest of the old signals and the new one count.
    await ingestSignalBatch(
      t.db,
      [row({ job_name: j, occurred_at: addHours(T0, 31) })],
      opts(addHours(T0, 32)),
    );
    g = await only(j);
    expect(g).toMatchObject({ count_total: 5, count_24h: 2 });
  });

  it("keeps count_24h equal to a full recount over any sequence of batches and clocks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            nowHours: fc.integer({ min: 0, max: 96 }),
            signalHours: fc.array(fc.integer({ min: -30, max: 0 }), { minLength: 1, maxLength: 6 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (batches) => {
          const j = job();
          for (const b of batches) {
            const now = addHours(T0, b.nowHours);
            const rows = b.signalHours.map((h) => row({ job_name: j, occurred_at: addHours(now, h) }));
            await ingestSignalBatch(t.db, rows, opts(now, { reopenWindowHours: 1000 }));
            const g = await only(j);
            const [full] = await t.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM reporting.notification_signal
               WHERE job_name = $1 AND occurred_at > $2::timestamptz - interval '24 hours'
                 AND occurred_at >= $3::timestamptz`,
              [j, now, g.first_seen_at],
            );
            expect(g.count_24h).toBe(full?.n);
            expect(g.count_24h_as_of).toBe(new Date(now).toISOString());
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("stores hostile text: NUL bytes, lone surrogates, far-off years are cleaned or refused, never fail a batch", async () => {
    const j = job();
    const result = await ingestSignalBatch(
      t.db,
      [
        row({
          job_name: j,
          agency_slug: "a\ud800",
          error_message: "nul\u0000 and \udfff",
          details: { "k\ud801": "v\u0000" },
        }),
        row({ job_name: j, occurred_at: "9999-12-31T23:59:59Z" }),
      ],
      opts(T0),
    );
    expect(result.inserted).toBe(2);
    expect((await groupsOf(j)).map((g) => g.agency_slug)).toContain("a\ufffd");
  });

  /**
   * Every group a batch wrote must have the count of the definition, recounted from scratch. (Groups it did
   * not touch are not checked: a count is exact as of when it was written.)
   */
  async function expectCountsExact(j: string, now: string, written: readonly string[]): Promise<void> {
    for (const g of await groupsOf(j)) {
      if (!written.includes(g.id)) continue;
      expect(g.count_24h_as_of).toBe(new Date(now).toISOString());
      const [full] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM reporting.notification_signal
         WHERE job_name = $1 AND fingerprint = $2
           AND occurred_at > $3::timestamptz - interval '24 hours' AND occurred_at >= $4::timestamptz
           AND ($5::timestamptz IS NULL OR occurred_at < $5::timestamptz)`,
        [j, g.fingerprint, now, g.first_seen_at, g.closed_at],
      );
      expect({ id: g.id, count_24h: g.count_24h }).toEqual({ id: g.id, count_24h: full?.n });
    }
  }

  it("keeps count_24h exact when late signals and recurrences of a closed group arrive together", async () => {
    // Found in review: the late signals' decay also subtracted the recurrences it had not added.
    for (const recurrence of ["2024-05-01T20:00:00Z", "2024-05-02T14:00:00Z"]) {
      const j = job();
      await ingestSignalBatch(
        t.db,
        [row({ job_name: j, occurred_at: "2024-05-01T10:00:00Z" })],
        opts("2024-05-01T10:00:00Z"),
      );
      await applyUserAction(
        t.db,
        (await only(j)).id,
        { kind: "close" },
        { now: new Date("2024-05-01T12:00:00Z"), userId: "u" },
      );
      const now = "2024-05-04T12:00:00Z";
      const result = await ingestSignalBatch(
        t.db,
        [
          row({ job_name: j, occurred_at: "2024-05-01T11:00:00Z" }),
          row({ job_name: j, occurred_at: recurrence }),
        ],
        opts(now),
      );
      for (const g of await groupsOf(j)) expect(g.count_24h).toBeGreaterThanOrEqual(0);
      await expectCountsExact(j, now, result.groupIds);
    }
  });

  it("keeps count_24h exact over random batches, clocks and closes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            nowHours: fc.integer({ min: 0, max: 120 }),
            signalHours: fc.array(fc.integer({ min: -40, max: 0 }), { minLength: 1, maxLength: 5 }),
            closeAfter: fc.boolean(),
          }),
          { minLength: 1, maxLength: 7 },
        ),
        async (steps) => {
          const j = job();
          for (const step of steps) {
            const now = addHours(T0, step.nowHours);
            const rows = step.signalHours.map((h) => row({ job_name: j, occurred_at: addHours(now, h) }));
            const result = await ingestSignalBatch(t.db, rows, opts(now, { reopenWindowHours: 12 }));
            await expectCountsExact(j, now, result.groupIds);
            const open = (await groupsOf(j)).find((g) => g.status !== "closed");
            if (step.closeAfter && open) {
              // A close comes after the signals it closes (replays may move the ingest clock back, not this).
              const at = addHours(
                new Date(Math.max(Date.parse(open.last_seen_at), Date.parse(now))).toISOString(),
                0.5,
              );
              await applyUserAction(t.db, open.id, { kind: "close" }, { now: new Date(at), userId: "u" });
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("records user actions as user activity and refuses illegal transitions", async () => {
    const j = job();
    await ingestSignalBatch(t.db, [row({ job_name: j })], opts(T0));
    const g = await only(j);
    const ctx = { now: new Date(addHours(T0, 1)), userId: "alice" };
    const acked = await applyUserAction(t.db, g.id, { kind: "acknowledge" }, ctx);
    expect(acked).toMatchObject({
      status: "acknowledged",
      acknowledged_by_user_id: "alice",
      acknowledged_at: addHours(T0, 1),
    });
    await expect(applyUserAction(t.db, g.id, { kind: "acknowledge" }, ctx)).rejects.toThrow(
      /already acknowledged by alice/,
    );
    const snoozed = await applyUserAction(
      t.db,
      g.id,
      { kind: "snooze", until: new Date(addHours(T0, 5)) },
      ctx,
    );
    expect(snoozed).toMatchObject({ status: "snoozed", snoozed_until: addHours(T0, 5) });
    await expect(
      applyUserAction(t.db, g.id, { kind: "snooze", until: new Date(addHours(T0, 0.5)) }, ctx),
    ).rejects.toThrow(/not in the future/);
    const closed = await applyUserAction(t.db, g.id, { kind: "close", reason: "fixed upstream" }, ctx);
    expect(closed).toMatchObject({ status: "closed", closed_at: addHours(T0, 1), snoozed_until: null });
    await expect(applyUserAction(t.db, g.id, { kind: "acknowledge" }, ctx)).rejects.toThrow(
      /is closed; reopen it first/,
    );
    await expect(applyUserAction(t.db, g.id, { kind: "close" }, ctx)).rejects.toThrow(/already closed/);
    const reopened = await applyUserAction(t.db, g.id, { kind: "reopen" }, ctx);
    expect(reopened).toMatchObject({ status: "open", closed_at: null, acknowledged_at: null });
    await expect(applyUserAction(t.db, g.id, { kind: "reopen" }, ctx)).rejects.toThrow(/is open, not closed/);
    const activity = await listActivity(t.db, g.id);
    expect(activity.map((a) => [a.action, a.actor_type, a.actor_user_id])).toEqual([
      ["opened", "system", null],
      ["acknowledged", "user", "alice"],
      ["snoozed", "user", "alice"],
      ["closed", "user", "alice"],
      ["reopened", "user", "alice"],
    ]);
    expect(activity[3]?.metadata_json).toMatchObject({ reason: "fixed upstream" });
    expect(await findGroup(t.db, g.id)).toMatchObject({ status: "open" });
  });

  it("refuses to reopen a closed group while a newer group of the same key is active", async () => {
    const j = job();
    await ingestSignalBatch(t.db, [row({ job_name: j })], opts(T0));
    const first = await only(j);
    await applyUserAction(
      t.db,
      first.id,
      { kind: "close" },
      { now: new Date(addHours(T0, 1)), userId: "bob" },
    );
    const later = addHours(T0, 48);
    await ingestSignalBatch(t.db, [row({ job_name: j, occurred_at: later })], opts(later));
    expect(await groupsOf(j)).toHaveLength(2);
    await expect(
      applyUserAction(t.db, first.id, { kind: "reopen" }, { now: new Date(later), userId: "bob" }),
    ).rejects.toThrow(/already active for the same problem/);
  });
});
