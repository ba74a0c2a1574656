import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dueReminder,
  type LadderState,
  ladderAfter,
  localDate,
  localTimeReached,
  nextReminder,
  type ReminderSettings,
  type ReminderTier,
} from "./reminders.js";
import { GROUP_STATUSES, type GroupStatus } from "./types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEP = 15 * MINUTE;

function settings(timeZone: string, over: Partial<ReminderSettings> = {}): ReminderSettings {
  return { t2Hours: 2, t8Hours: 8, timeZone, dailyTime: "09:00", ...over };
}

function openGroup(openSince: string, over: Partial<LadderState> = {}): LadderState {
  return {
    status: "open",
    open_since: openSince,
    first_seen_at: openSince,
    last_reminded_at: null,
    last_escalated_at: null,
    last_daily_reminder_date: null,
    ...over,
  };
}

/** Local "YYYY-MM-DD HH:MM" of an instant, for readable expectations. */
function localStamp(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

interface Sent {
  tier: ReminderTier;
  at: string;
  /** nextReminder(state before) — when the ladder itself said this tier would be due. */
  expectedAt: string | null;
}

/**
 * Runs the dispatcher every `step` from `from` until `until`, applying ladderAfter whenever a reminder is due,
 * the way the job does. `statusAt` may change the status (or start a new open period) between steps.
 */
function simulate(
  initial: LadderState,
  s: ReminderSettings,
  from: string,
  until: string,
  options: { step?: number; before?: (state: LadderState, now: Date) => LadderState } = {},
): { sent: Sent[]; state: LadderState } {
  let state = initial;
  const sent: Sent[] = [];
  const step = options.step ?? STEP;
  for (let t = Date.parse(from); t <= Date.parse(until); t += step) {
    const now = new Date(t);
    if (options.before !== undefined) state = options.before(state, now);
    const tier = dueReminder(state, now, s);
    if (tier === null) continue;
    const next = nextReminder(state, s);
    sent.push({ tier, at: now.toISOString(), expectedAt: next === null ? null : next.at.toISOString() });
    state = { ...state, ...ladderAfter(tier, now, s) };
    // Never two reminders in one run.
    expect(dueReminder(state, now, s)).toBeNull();
  }
  return { sent, state };
}

const brief = (sent: readonly Sent[]) => sent.map((x) => `${x.tier} ${x.at}`);

describe("localDate and localTimeReached", () => {
  it("read the wall clock of the configured zone", () => {
    expect(localDate(new Date("2024-03-31T00:30:00Z"), "Europe/Berlin")).toBe("2024-03-31");
    expect(localDate(new Date("2024-03-30T22:59:59Z"), "Europe/Berlin")).toBe("2024-03-30");
    expect(localDate(new Date("2024-11-03T03:59:00Z"), "America/New_York")).toBe("2024-11-02");
    expect(localDate(new Date("2024-11-03T04:00:00Z"), "America/New_York")).toBe("2024-11-03");
    expect(localDate(new Date("2024-05-01T23:59:59Z"), "UTC")).toBe("2024-05-01");
    expect(localDate(new Date("0999-01-01T00:00:00Z"), "UTC")).toBe("0999-01-01");
  });

  it("compare local time with HH:MM, midnight as 00:00", () => {
    const berlinMidnight = new Date("2024-05-01T22:00:00Z");
    expect(localTimeReached(berlinMidnight, "Europe/Berlin", "00:00")).toBe(true);
    expect(localTimeReached(berlinMidnight, "Europe/Berlin", "00:01")).toBe(false);
    expect(localTimeReached(berlinMidnight, "Europe/Berlin", "23:59")).toBe(false);
    expect(localTimeReached(new Date("2024-05-01T08:59:59Z"), "UTC", "09:00")).toBe(false);
    expect(localTimeReached(new Date("2024-05-01T09:00:00Z"), "UTC", "09:00")).toBe(true);
    expect(localTimeReached(new Date("2024-05-01T09:00:00Z"), "UTC", "9:00")).toBe(true);
    // New York 09:00 is 14:00Z in winter and 13:00Z in summer.
    expect(localTimeReached(new Date("2024-03-09T13:30:00Z"), "America/New_York", "09:00")).toBe(false);
    expect(localTimeReached(new Date("2024-03-11T13:30:00Z"), "America/New_York", "09:00")).toBe(true);
  });

  it("refuse a time that is not HH:MM instead of guessing", () => {
    for (const bad of ["9", "24:00", "09:60", "0900", "", " 09:00"]) {
      expect(() => localTimeReached(new Date(0), "UTC", bad)).toThrow(RangeError);
    }
  });
});

describe("dueReminder: one simulated week, every 15 minutes", () => {
  it("UTC: one T2, one T8, then one daily reminder per later date at the daily time", () => {
    const s = settings("UTC");
    const { sent } = simulate(
      openGroup("2024-05-01T10:07:00.000Z"),
      s,
      "2024-05-01T10:00:00Z",
      "2024-05-05T23:45:00Z",
    );
    expect(brief(sent)).toEqual([
      "t2 2024-05-01T12:15:00.000Z",
      "t8 2024-05-01T18:15:00.000Z",
      "daily 2024-05-02T09:00:00.000Z",
      "daily 2024-05-03T09:00:00.000Z",
      "daily 2024-05-04T09:00:00.000Z",
      "daily 2024-05-05T09:00:00.000Z",
    ]);
  });

  it("counts T2 and T8 in absolute hours across a DST change (Europe/Berlin, 2024-03-31)", () => {
    // Opened at 01:00 CET; at 02:00 clocks jump to 03:00, so T2 is at 04:00 CEST and T8 at 10:00 CEST.
    const s = settings("Europe/Berlin");
    const { sent } = simulate(
      openGroup("2024-03-31T00:00:00.000Z"),
      s,
      "2024-03-30T23:00:00Z",
      "2024-04-02T22:00:00Z",
    );
    expect(brief(sent)).toEqual([
      "t2 2024-03-31T02:00:00.000Z",
      "t8 2024-03-31T08:00:00.000Z",
      // The T8 was 2024-03-31's reminder; dailies at 09:00 CEST (07:00Z) from the next date.
      "daily 2024-04-01T07:00:00.000Z",
      "daily 2024-04-02T07:00:00.000Z",
    ]);
    expect(sent.map((x) => localStamp(new Date(x.at), s.timeZone))).toEqual([
      "2024-03-31 04:00",
      "2024-03-31 10:00",
      "2024-04-01 09:00",
      "2024-04-02 09:00",
    ]);
  });

  it("sends the daily reminder at 09:00 local on both sides of a DST change (Europe/Berlin)", () => {
    const s = settings("Europe/Berlin");
    const { sent } = simulate(
      openGroup("2024-03-28T12:00:00.000Z"),
      s,
      "2024-03-28T12:00:00Z",
      "2024-04-02T12:00:00Z",
    );
    expect(brief(sent.filter((x) => x.tier === "daily"))).toEqual([
      "daily 2024-03-29T08:00:00.000Z",
      "daily 2024-03-30T08:00:00.000Z",
      "daily 2024-03-31T07:00:00.000Z",
      "daily 2024-04-01T07:00:00.000Z",
      "daily 2024-04-02T07:00:00.000Z",
    ]);
  });

  it("sends a daily time skipped by spring-forward at the end of the gap (Europe/Berlin 02:30)", () => {
    const s = settings("Europe/Berlin", { dailyTime: "02:30" });
    const { sent } = simulate(
      openGroup("2024-03-29T12:00:00.000Z"),
      s,
      "2024-03-29T12:00:00Z",
      "2024-04-01T12:00:00Z",
    );
    expect(brief(sent)).toEqual([
      "t2 2024-03-29T14:00:00.000Z",
      "t8 2024-03-29T20:00:00.000Z",
      "daily 2024-03-30T01:30:00.000Z", // 02:30 CET
      "daily 2024-03-31T01:00:00.000Z", // 03:00 CEST: 02:30 does not exist that night
      "daily 2024-04-01T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("America/New_York, spring-forward 2024-03-10: 09:00 local every day, 02:30 at the end of the gap", () => {
    const nine = simulate(
      openGroup("2024-03-08T15:00:00.000Z"),
      settings("America/New_York"),
      "2024-03-08T15:00:00Z",
      "2024-03-12T03:00:00Z",
    );
    expect(brief(nine.sent)).toEqual([
      "t2 2024-03-08T17:00:00.000Z",
      "t8 2024-03-08T23:00:00.000Z",
      "daily 2024-03-09T14:00:00.000Z", // 09:00 EST
      "daily 2024-03-10T13:00:00.000Z", // 09:00 EDT
      "daily 2024-03-11T13:00:00.000Z",
    ]);
    const gap = simulate(
      openGroup("2024-03-08T15:00:00.000Z"),
      settings("America/New_York", { dailyTime: "02:30" }),
      "2024-03-08T15:00:00Z",
      "2024-03-12T03:00:00Z",
    );
    expect(brief(gap.sent.filter((x) => x.tier === "daily"))).toEqual([
      "daily 2024-03-09T07:30:00.000Z", // 02:30 EST
      "daily 2024-03-10T07:00:00.000Z", // 03:00 EDT
      "daily 2024-03-11T06:30:00.000Z", // 02:30 EDT
    ]);
  });

  it("America/New_York, fall-back 2024-11-03: a repeated daily time fires once, at its first occurrence", () => {
    const s = settings("America/New_York", { dailyTime: "01:30" });
    const { sent } = simulate(
      openGroup("2024-11-01T12:00:00.000Z"),
      s,
      "2024-11-01T12:00:00Z",
      "2024-11-05T12:00:00Z",
    );
    expect(brief(sent.filter((x) => x.tier === "daily"))).toEqual([
      "daily 2024-11-02T05:30:00.000Z", // 01:30 EDT
      "daily 2024-11-03T05:30:00.000Z", // 01:30 EDT, not again at 01:30 EST (06:30Z)
      "daily 2024-11-04T06:30:00.000Z", // 01:30 EST
      "daily 2024-11-05T06:30:00.000Z",
    ]);
    const nine = simulate(
      openGroup("2024-11-01T12:00:00.000Z"),
      settings("America/New_York"),
      "2024-11-01T12:00:00Z",
      "2024-11-05T15:00:00Z",
    );
    expect(brief(nine.sent.filter((x) => x.tier === "daily"))).toEqual([
      "daily 2024-11-02T13:00:00.000Z", // 09:00 EDT
      "daily 2024-11-03T14:00:00.000Z", // 09:00 EST
      "daily 2024-11-04T14:00:00.000Z",
      "daily 2024-11-05T14:00:00.000Z",
    ]);
  });

  it("counts the T8 reminder as its own local date's, even just before midnight", () => {
    // T8 at 23:45 New York time on 2024-05-01 (03:45Z on the 2nd): the first daily is 2024-05-02 09:00.
    const s = settings("America/New_York");
    const { sent } = simulate(
      openGroup("2024-05-01T19:45:00.000Z"),
      s,
      "2024-05-01T19:45:00Z",
      "2024-05-03T04:00:00Z",
    );
    expect(sent.map((x) => `${x.tier} ${localStamp(new Date(x.at), s.timeZone)}`)).toEqual([
      "t2 2024-05-01 17:45",
      "t8 2024-05-01 23:45",
      "daily 2024-05-02 09:00",
    ]);
  });

  it("waits for the daily time on the next date when the T8 fires early in the morning", () => {
    const s = settings("UTC");
    const { sent } = simulate(
      openGroup("2024-05-01T18:00:00.000Z"),
      s,
      "2024-05-01T18:00:00Z",
      "2024-05-03T12:00:00Z",
    );
    expect(brief(sent)).toEqual([
      "t2 2024-05-01T20:00:00.000Z",
      "t8 2024-05-02T02:00:00.000Z",
      "daily 2024-05-03T09:00:00.000Z",
    ]);
  });

  it("agrees with nextReminder: every reminder goes out at the first run at or after the instant it predicted", () => {
    for (const timeZone of ["UTC", "Europe/Berlin", "America/New_York"]) {
      for (const dailyTime of ["00:00", "01:30", "02:30", "09:00", "23:45"]) {
        const s = settings(timeZone, { dailyTime });
        for (const open of ["2024-03-08T15:07:00Z", "2024-03-29T12:00:00Z", "2024-11-01T12:00:00Z"]) {
          const { sent } = simulate(
            openGroup(new Date(open).toISOString()),
            s,
            new Date(Math.floor(Date.parse(open) / STEP) * STEP).toISOString(),
            new Date(Date.parse(open) + 6 * DAY).toISOString(),
          );
          expect(
            sent.length,
            `${timeZone} ${dailyTime} ${open} ${brief(sent).join()}`,
          ).toBeGreaterThanOrEqual(6);
          for (const x of sent) {
            const predicted = Date.parse(x.expectedAt ?? "");
            expect(Date.parse(x.at)).toBeGreaterThanOrEqual(predicted);
            expect(Date.parse(x.at) - STEP).toBeLessThan(predicted);
          }
        }
      }
    }
  });
});

describe("dueReminder: status and open periods", () => {
  const s = settings("Europe/Berlin");

  it("is never due for a group that is not open", () => {
    const statuses = GROUP_STATUSES.filter((status) => status !== "open");
    const iso = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true });
    fc.assert(
      fc.property(
        fc.constantFrom(...statuses),
        iso,
        fc.option(iso, { nil: null }),
        fc.option(iso, { nil: null }),
        iso,
        (status, since, reminded, escalated, now) => {
          const g = openGroup(since.toISOString(), {
            status,
            last_reminded_at: reminded?.toISOString() ?? null,
            last_escalated_at: escalated?.toISOString() ?? null,
          });
          expect(dueReminder(g, now, s)).toBeNull();
          expect(nextReminder(g, s)).toBeNull();
        },
      ),
    );
  });

  it("stops when the group is acknowledged, whatever tier it had reached", () => {
    for (const ackAfterHours of [1, 3, 9, 40]) {
      const ackAt = Date.parse("2024-05-01T10:00:00Z") + ackAfterHours * HOUR;
      const { sent } = simulate(
        openGroup("2024-05-01T10:00:00.000Z"),
        s,
        "2024-05-01T10:00:00Z",
        "2024-05-08T10:00:00Z",
        {
          before: (state, now) =>
            now.getTime() >= ackAt ? { ...state, status: "acknowledged" as GroupStatus } : state,
        },
      );
      expect(sent.every((x) => Date.parse(x.at) < ackAt)).toBe(true);
      expect(sent.length).toBe(ackAfterHours < 2 ? 0 : ackAfterHours < 8 ? 1 : ackAfterHours < 24 ? 2 : 3);
    }
  });

  it("restarts the ladder in a new open period, even when the old ladder columns were left behind", () => {
    // Reminded, escalated and daily-reminded in the first period; closed; reopened two days later.
    const first = simulate(
      openGroup("2024-05-01T10:00:00.000Z"),
      s,
      "2024-05-01T10:00:00Z",
      "2024-05-03T10:00:00Z",
    );
    expect(first.sent.map((x) => x.tier)).toEqual(["t2", "t8", "daily", "daily"]);
    const reopenedAt = "2024-05-05T06:10:00.000Z";
    const reopened: LadderState = { ...first.state, status: "open", open_since: reopenedAt };
    const second = simulate(reopened, s, "2024-05-05T06:00:00Z", "2024-05-07T10:00:00Z");
    expect(brief(second.sent)).toEqual([
      "t2 2024-05-05T08:15:00.000Z",
      "t8 2024-05-05T14:15:00.000Z",
      "daily 2024-05-06T07:00:00.000Z",
      "daily 2024-05-07T07:00:00.000Z",
    ]);
  });

  it("treats ladder columns at or after open_since as this period's", () => {
    const since = "2024-05-01T10:00:00.000Z";
    const now = new Date("2024-05-01T13:00:00Z");
    expect(dueReminder(openGroup(since, { last_reminded_at: since }), now, s)).toBeNull();
    expect(dueReminder(openGroup(since, { last_reminded_at: "2024-05-01T09:59:59.999Z" }), now, s)).toBe(
      "t2",
    );
  });

  it("falls back to first_seen_at when open_since is null", () => {
    const g = openGroup("2024-05-01T10:00:00.000Z", { open_since: null });
    expect(dueReminder(g, new Date("2024-05-01T11:59:00Z"), s)).toBeNull();
    expect(dueReminder(g, new Date("2024-05-01T12:00:00Z"), s)).toBe("t2");
  });

  it("sends only the T8 reminder to a group first seen by a run 10 hours late", () => {
    const { sent } = simulate(
      openGroup("2024-05-01T00:00:00.000Z"),
      s,
      "2024-05-01T10:00:00Z",
      "2024-05-02T06:00:00Z",
    );
    expect(brief(sent)).toEqual(["t8 2024-05-01T10:00:00.000Z"]);
  });

  it("skips a daily time missed while the dispatcher was down, then resumes at the daily time", () => {
    const escalated = openGroup("2024-05-01T00:00:00.000Z", {
      last_reminded_at: "2024-05-01T08:00:00.000Z",
      last_escalated_at: "2024-05-01T08:00:00.000Z",
      last_daily_reminder_date: "2024-05-01",
    });
    // Down from 2024-05-01 12:00 to 2024-05-03 00:30 (Berlin 02:30): no catch-up at night.
    expect(dueReminder(escalated, new Date("2024-05-03T00:30:00Z"), s)).toBeNull();
    expect(dueReminder(escalated, new Date("2024-05-03T06:59:00Z"), s)).toBeNull();
    expect(dueReminder(escalated, new Date("2024-05-03T07:00:00Z"), s)).toBe("daily");
  });

  it("takes a missing daily date as the escalation's local date, and ignores one older than it", () => {
    const base = openGroup("2024-05-01T00:00:00.000Z", {
      last_reminded_at: "2024-05-01T21:30:00.000Z",
      last_escalated_at: "2024-05-01T21:30:00.000Z", // 23:30 in Berlin on 2024-05-01
    });
    for (const last_daily_reminder_date of [null, "2024-04-20", "not a date"]) {
      const g = { ...base, last_daily_reminder_date };
      expect(dueReminder(g, new Date("2024-05-01T21:45:00Z"), s)).toBeNull();
      expect(dueReminder(g, new Date("2024-05-02T07:00:00Z"), s)).toBe("daily");
    }
    // A daily reminder already recorded for 2024-05-02 holds off until 2024-05-03.
    const done = { ...base, last_daily_reminder_date: "2024-05-02" };
    expect(dueReminder(done, new Date("2024-05-02T07:00:00Z"), s)).toBeNull();
    expect(dueReminder(done, new Date("2024-05-03T07:00:00Z"), s)).toBe("daily");
  });

  it("never sends T2 after an escalation in the same period", () => {
    const g = openGroup("2024-05-01T00:00:00.000Z", { last_escalated_at: "2024-05-01T08:00:00.000Z" });
    expect(dueReminder(g, new Date("2024-05-01T09:00:00Z"), s)).toBeNull();
  });

  it("is never due for an unreadable start", () => {
    const g = openGroup("yesterday");
    expect(dueReminder(g, new Date("2024-05-01T00:00:00Z"), s)).toBeNull();
    expect(nextReminder(g, s)).toBeNull();
  });
});

describe("ladderAfter", () => {
  const now = new Date("2024-03-31T22:30:00Z"); // 2024-04-01 00:30 in Berlin
  const s = settings("Europe/Berlin");

  it("writes what each tier claims", () => {
    expect(ladderAfter("t2", now, s)).toEqual({ last_reminded_at: "2024-03-31T22:30:00.000Z" });
    expect(ladderAfter("t8", now, s)).toEqual({
      last_reminded_at: "2024-03-31T22:30:00.000Z",
      last_escalated_at: "2024-03-31T22:30:00.000Z",
      last_daily_reminder_date: "2024-04-01",
    });
    expect(ladderAfter("daily", now, s)).toEqual({
      last_reminded_at: "2024-03-31T22:30:00.000Z",
      last_daily_reminder_date: "2024-04-01",
    });
  });
});

describe("nextReminder", () => {
  it("predicts T2, then T8, then the next local date's daily time", () => {
    const s = settings("Europe/Berlin", { dailyTime: "02:30" });
    const g = openGroup("2024-03-29T12:00:00.000Z");
    expect(nextReminder(g, s)).toEqual({ tier: "t2", at: new Date("2024-03-29T14:00:00Z") });
    const reminded = { ...g, ...ladderAfter("t2", new Date("2024-03-29T14:00:00Z"), s) };
    expect(nextReminder(reminded, s)).toEqual({ tier: "t8", at: new Date("2024-03-29T20:00:00Z") });
    const escalated = { ...reminded, ...ladderAfter("t8", new Date("2024-03-30T10:00:00Z"), s) };
    // 2024-03-31 02:30 does not exist in Berlin: the first instant at or after it is 03:00 CEST.
    expect(nextReminder(escalated, s)).toEqual({ tier: "daily", at: new Date("2024-03-31T01:00:00Z") });
  });

  it("finds the first of a repeated local time and the end of a gap in other zones", () => {
    const escalatedOn = (iso: string, timeZone: string, dailyTime: string) =>
      nextReminder(
        openGroup("2000-01-01T00:00:00.000Z", { last_reminded_at: iso, last_escalated_at: iso }),
        settings(timeZone, { dailyTime }),
      )?.at.toISOString();
    expect(escalatedOn("2024-11-02T12:00:00Z", "America/New_York", "01:30")).toBe("2024-11-03T05:30:00.000Z");
    expect(escalatedOn("2024-03-09T12:00:00Z", "America/New_York", "02:00")).toBe("2024-03-10T07:00:00.000Z");
    // Santiago skips midnight to 01:00 on 2024-09-08.
    expect(escalatedOn("2024-09-07T12:00:00Z", "America/Santiago", "00:00")).toBe("2024-09-08T04:00:00.000Z");
    // Lord Howe Island moves by half an hour (02:00 -> 02:30 on 2024-10-06).
    expect(escalatedOn("2024-10-05T00:00:00Z", "Australia/Lord_Howe", "02:15")).toBe(
      "2024-10-05T15:30:00.000Z",
    );
    expect(escalatedOn("2024-05-01T12:00:00Z", "Asia/Kathmandu", "09:00")).toBe("2024-05-02T03:15:00.000Z");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "America/Santiago",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
] as const;

const settingsArb = fc
  .record({
    t2Quarter: fc.integer({ min: 1, max: 48 }),
    extraQuarter: fc.integer({ min: 1, max: 96 }),
    timeZone: fc.constantFrom(...ZONES),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
  })
  .map(
    (r): ReminderSettings => ({
      t2Hours: r.t2Quarter / 4,
      t8Hours: (r.t2Quarter + r.extraQuarter) / 4,
      timeZone: r.timeZone,
      dailyTime: `${String(r.hour).padStart(2, "0")}:${String(r.minute).padStart(2, "0")}`,
    }),
  );

/** A start somewhere in 2024 (every DST change of the zones above is in range). */
const startArb = fc.integer({
  min: Date.parse("2024-01-01T00:00:00Z"),
  max: Date.parse("2024-12-20T00:00:00Z"),
});

/** A schedule: runs every 1 to 60 minutes, with the odd outage of up to two days. */
const runsArb = fc.array(
  fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 60 }).map((m) => m * MINUTE) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 48 * 60 }).map((m) => m * MINUTE) },
  ),
  { minLength: 1, maxLength: 700 },
);

/** Status changes between runs: none, leave `open` (acknowledged; snoozed or closed act alike), or a new open period. */
const eventArb = fc.constantFrom("none", "none", "none", "none", "none", "none", "none", "ack", "reopen");

describe("properties", () => {
  it("within an open period the tiers are a prefix of [t2?, t8, daily, daily, …], one daily per local date", () => {
    fc.assert(
      fc.property(
        settingsArb,
        startArb,
        runsArb,
        fc.array(eventArb, { maxLength: 700 }),
        (s, start, gaps, events) => {
          let state = openGroup(new Date(start).toISOString());
          let period: { tier: ReminderTier; at: number }[] = [];
          const check = () => {
            expect(period.map((x) => x.tier).join(" ")).toMatch(/^(t2)?( ?t8( daily)*)?$/);
            const dates = period
              .filter((x) => x.tier !== "t2")
              .map((x) => localDate(new Date(x.at), s.timeZone));
            expect(new Set(dates).size).toBe(dates.length);
            for (const x of period) {
              if (x.tier === "daily")
                expect(localTimeReached(new Date(x.at), s.timeZone, s.dailyTime)).toBe(true);
              const elapsed = x.at - Date.parse(state.open_since ?? "");
              if (x.tier === "t2") expect(elapsed).toBeGreaterThanOrEqual(s.t2Hours * HOUR);
              if (x.tier !== "t2") expect(elapsed).toBeGreaterThanOrEqual(s.t8Hours * HOUR);
            }
          };
          let now = start;
          for (const [index, gap] of gaps.entries()) {
            now += gap;
            const event = events[index] ?? "none";
            if (event === "ack" && state.status === "open") state = { ...state, status: "acknowledged" };
            else if (event === "reopen") {
              check();
              period = [];
              // Left-over ladder columns on purpose: a new open_since alone must restart the ladder.
              state = { ...state, status: "open", open_since: new Date(now).toISOString() };
            }
            const at = new Date(now);
            const tier = dueReminder(state, at, s);
            if (tier === null) continue;
            expect(state.status).toBe("open");
            period.push({ tier, at: now });
            state = { ...state, ...ladderAfter(tier, at, s) };
            expect(dueReminder(state, at, s)).toBeNull();
          }
          check();
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sends T2 exactly when a run falls between T2 and T8, and T8 at the first run after T8", () => {
    fc.assert(
      fc.property(settingsArb, startArb, runsArb, (s, start, gaps) => {
        let state = openGroup(new Date(start).toISOString());
        let now = start;
        const runs: number[] = [];
        const sent: { tier: ReminderTier; at: number }[] = [];
        for (const gap of gaps) {
          now += gap;
          runs.push(now);
          const tier = dueReminder(state, new Date(now), s);
          if (tier === null) continue;
          sent.push({ tier, at: now });
          state = { ...state, ...ladderAfter(tier, new Date(now), s) };
        }
        const t2 = start + s.t2Hours * HOUR;
        const t8 = start + s.t8Hours * HOUR;
        const firstT2Run = runs.find((r) => r >= t2 && r < t8);
        const firstT8Run = runs.find((r) => r >= t8);
        expect(sent.find((x) => x.tier === "t2")?.at).toBe(firstT2Run);
        expect(sent.find((x) => x.tier === "t8")?.at).toBe(firstT8Run);
      }),
      { numRuns: 200 },
    );
  });
});
