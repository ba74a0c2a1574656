/**
 * reminder_dispatcher end to end: the real database, the real Slack client against the fake Slack, time
 * injected (never slept): a simulated day and a half across a DST change, overlapping runs, acknowledgement,
 * snooze expiry, escalation and the rolling-count refresh.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../src/config.js";
import { listActivity } from "../src/db/activity.js";
import type { Db } from "../src/db/db.js";
import { applyUserAction } from "../src/db/group-actions.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { dispatchReminders, reminderDispatcher } from "../src/jobs/reminder_dispatcher.js";
import { runJob } from "../src/jobs/run-job.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";
import { SlackCallError } from "../src/slack/errors.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";
import { row } from "./support/signals.js";

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";
const MIN = 60_000;

let t: TestDatabase;
let slack: FakeSlack;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  slack = await startFakeSlack({ tokens: [TOKEN] });
  await t.db.exec(`
    TRUNCATE reporting.notification_signal, reporting.notification_signal_group, reporting.notification_job_run CASCADE;
    TRUNCATE reporting.notification_agency_owner, reporting.notification_job_owner_override,
             reporting.notification_user_slack_map;
    INSERT INTO reporting.notification_agency_owner VALUES ('agency-1', 'acme', 'alice', 'bob', 'team-data');
    INSERT INTO reporting.notification_user_slack_map VALUES ('alice', 'UALICE'), ('bob', 'UBOB');
  `);
});
afterEach(async () => {
  await slack.close();
});

function config(extra: Record<string, string> = {}): Config {
  return loadConfig({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: slack.url,
    APP_BASE_URL: "https://ops.example.com",
    NOTIFICATION_TIMEZONE: "Europe/Berlin",
    DAILY_DIGEST_TIME: "09:00",
    ...extra,
  });
}

function runtimeAt(now: Date | string, cfg: Config = config(), db: Db = t.db): Runtime {
  const log = createLogger({ level: "silent", secrets: [] });
  return {
    db,
    config: cfg,
    log,
    now: new Date(now),
    runId: randomUUID(),
    slack: {
      api: createWebApiSlack({ token: TOKEN, apiUrl: slack.url, log, retryDelayMs: 5 }),
      channel: CHANNEL,
    },
    close: async () => undefined,
  };
}

async function openGroup(at: string, overrides: Parameters<typeof row>[0] = {}) {
  await ingestSignalBatch(t.db, [row({ occurred_at: at, ...overrides })], {
    now: new Date(at),
    reopenWindowHours: 24,
    appBaseUrl: "https://ops.example.com",
  });
  // The first sync routes the group and DMs the owner (the "opened" notification).
  await runJob(reminderDispatcher, runtimeAt(at));
  const rows = await t.db.query<{ id: string }>(
    "SELECT id::text AS id FROM reporting.notification_signal_group ORDER BY first_seen_at DESC LIMIT 1",
  );
  return rows[0]?.id ?? "";
}

async function reminders(groupId: string) {
  return (await listActivity(t.db, groupId))
    .filter((a) => a.action === "reminder_sent")
    .map((a) => ({ at: a.created_at, tier: a.metadata_json?.tier, local_date: a.metadata_json?.local_date }));
}

/** Runs the dispatcher every 15 minutes over [from, to), as the CronJob would. */
async function simulate(from: string, to: string, cfg?: Config) {
  for (let ms = Date.parse(from); ms < Date.parse(to); ms += 15 * MIN) {
    await runJob(reminderDispatcher, runtimeAt(new Date(ms), cfg));
  }
}

describe("reminder ladder", () => {
  it("a day and a half across the DST change in Europe/Berlin: exactly one T2, one T8 and one daily reminder", async () => {
    // Opens at 21:00 local on Saturday 30 March 2024; clocks jump from 02:00 to 03:00 on Sunday.
    const id = await openGroup("2024-03-30T20:00:00.000Z");
    await simulate("2024-03-30T20:00:00.000Z", "2024-04-01T12:00:00.000Z");
    expect(await reminders(id)).toEqual([
      { at: "2024-03-30T22:00:00.000Z", tier: "t2", local_date: "2024-03-30" },
      // 8 h after opening: 06:00 local (CEST, after the change); it counts as Sunday's reminder.
      { at: "2024-03-31T04:00:00.000Z", tier: "t8", local_date: "2024-03-31" },
      // Monday's reminder at 09:00 local = 07:00 UTC.
      { at: "2024-04-01T07:00:00.000Z", tier: "daily", local_date: "2024-04-01" },
    ]);
    // DMs: the opening one, T2, T8, daily to alice; the T8 escalation to bob.
    expect(slack.dmsTo("UALICE")).toHaveLength(4);
    expect(slack.dmsTo("UBOB")).toHaveLength(1);
    const escalated = (await listActivity(t.db, id)).filter((a) => a.action === "escalated");
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.metadata_json).toMatchObject({ reason: "unacknowledged", tier: "t8" });
    const g = await t.db.query<{ last_escalated_at: Date; slack_root_ts: string }>(
      "SELECT last_escalated_at, slack_root_ts FROM reporting.notification_signal_group WHERE id = $1",
      [id],
    );
    expect(new Date(g[0]?.last_escalated_at ?? 0).toISOString()).toBe("2024-03-31T04:00:00.000Z");
    // The escalation got one short reply in the root's thread.
    const replies = slack.threadReplies(CHANNEL, g[0]?.slack_root_ts ?? "");
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toMatch(/Escalated/);
  });

  it("America/New_York across the autumn change: reminders follow local dates", async () => {
    const cfg = config({ NOTIFICATION_TIMEZONE: "America/New_York" });
    // Opens Saturday 2 November 2024, 20:00 EDT (00:00 UTC on the 3rd); clocks go back at 02:00 on Sunday.
    const id = await openGroup("2024-11-03T00:00:00.000Z");
    await simulate("2024-11-03T00:00:00.000Z", "2024-11-04T16:00:00.000Z", cfg);
    expect(await reminders(id)).toEqual([
      { at: "2024-11-03T02:00:00.000Z", tier: "t2", local_date: "2024-11-02" },
      { at: "2024-11-03T08:00:00.000Z", tier: "t8", local_date: "2024-11-03" },
      // Monday 09:00 EST = 14:00 UTC.
      { at: "2024-11-04T14:00:00.000Z", tier: "daily", local_date: "2024-11-04" },
    ]);
  });

  it("acknowledging stops the ladder; reopening starts it again", async () => {
    const id = await openGroup("2024-05-01T08:00:00.000Z");
    await simulate(
      "2024-05-01T08:00:00.000Z",
      "2024-05-01T10:30:00.000Z",
      config({ NOTIFICATION_TIMEZONE: "UTC" }),
    );
    expect((await reminders(id)).map((r) => r.tier)).toEqual(["t2"]);
    await applyUserAction(
      t.db,
      id,
      { kind: "acknowledge" },
      { now: new Date("2024-05-01T10:30:00Z"), userId: "alice" },
    );
    await simulate(
      "2024-05-01T10:30:00.000Z",
      "2024-05-02T12:00:00.000Z",
      config({ NOTIFICATION_TIMEZONE: "UTC" }),
    );
    expect((await reminders(id)).map((r) => r.tier)).toEqual(["t2"]);
    await applyUserAction(
      t.db,
      id,
      { kind: "close" },
      { now: new Date("2024-05-02T12:00:00Z"), userId: "alice" },
    );
    await applyUserAction(
      t.db,
      id,
      { kind: "reopen" },
      { now: new Date("2024-05-02T12:00:00Z"), userId: "alice" },
    );
    await simulate(
      "2024-05-02T12:00:00.000Z",
      "2024-05-02T14:30:00.000Z",
      config({ NOTIFICATION_TIMEZONE: "UTC" }),
    );
    expect((await reminders(id)).map((r) => [r.tier, r.at])).toEqual([
      ["t2", "2024-05-01T10:00:00.000Z"],
      ["t2", "2024-05-02T14:00:00.000Z"],
    ]);
  });

  it("a reminder whose answer timed out is not sent again", async () => {
    const id = await openGroup("2024-05-01T08:00:00.000Z");
    const cfg = config({ NOTIFICATION_TIMEZONE: "UTC" });
    const rt = runtimeAt("2024-05-01T10:00:00.000Z", cfg);
    const real = rt.slack?.api;
    if (!real) throw new Error("no slack");
    const timingOut = {
      ...real,
      async postMessage(args: Parameters<typeof real.postMessage>[0]) {
        await real.postMessage(args);
        throw new SlackCallError({
          method: "chat.postMessage",
          slackError: "timeout",
          category: "transient",
        });
      },
    };
    await dispatchReminders(rt, { dryRun: false, target: { api: timingOut, channel: CHANNEL } });
    await simulate("2024-05-01T10:15:00.000Z", "2024-05-01T12:00:00.000Z", cfg);
    // The opening DM and one T2 (its answer lost, recorded as uncertain), never a second T2.
    expect(slack.dmsTo("UALICE")).toHaveLength(2);
    expect((await reminders(id)).map((r) => r.tier)).toEqual(["t2"]);
  });

  it("a group only a team owns: T8 escalation names the team; nobody is DMed", async () => {
    await t.db.exec(
      "UPDATE reporting.notification_agency_owner SET primary_owner_user_id = NULL, secondary_owner_user_id = NULL",
    );
    const id = await openGroup("2024-05-01T08:00:00.000Z");
    await simulate(
      "2024-05-01T08:00:00.000Z",
      "2024-05-01T17:00:00.000Z",
      config({ NOTIFICATION_TIMEZONE: "UTC" }),
    );
    const escalated = (await listActivity(t.db, id)).filter((a) => a.action === "escalated");
    expect(escalated.map((e) => e.metadata_json?.notified)).toEqual([["team team-data (owning team)"]]);
    expect(slack.calls.filter((c) => c.method === "conversations.open")).toHaveLength(0);
  });

  it("unowned groups are not DMed", async () => {
    const id = await openGroup("2024-05-01T08:00:00.000Z", { agency_id: "nobody", agency_slug: "nobody" });
    await simulate(
      "2024-05-01T08:00:00.000Z",
      "2024-05-01T18:00:00.000Z",
      config({ NOTIFICATION_TIMEZONE: "UTC" }),
    );
    expect(await reminders(id)).toEqual([]);
    expect(slack.calls.filter((c) => c.method === "conversations.open")).toHaveLength(0);
  });

  it.skipIf(testBackend() !== "postgres")(
    "two overlapping dispatcher runs send each reminder once",
    async () => {
      const id = await openGroup("2024-05-01T08:00:00.000Z");
      const other = await t.openAnother();
      const now = "2024-05-01T10:00:00.000Z";
      const cfg = config({ NOTIFICATION_TIMEZONE: "UTC" });
      const target = runtimeAt(now).slack ?? null;
      // Without the job lock: the SQL claim alone must decide.
      const [a, b] = await Promise.all([
        dispatchReminders(runtimeAt(now, cfg), { dryRun: false, target }),
        dispatchReminders(runtimeAt(now, cfg, other), { dryRun: false, target }),
      ]);
      expect(a.sent.t2 + b.sent.t2).toBe(1);
      expect(await reminders(id)).toHaveLength(1);
      expect(slack.dmsTo("UALICE")).toHaveLength(2); // the opening DM and one reminder
    },
  );

  it("--dry-run reports the reminder it would send and changes nothing", async () => {
    const id = await openGroup("2024-05-01T08:00:00.000Z");
    slack.resetCalls();
    const r = await runJob(reminderDispatcher, {
      ...runtimeAt("2024-05-01T10:00:00.000Z", config({ NOTIFICATION_TIMEZONE: "UTC" })),
      jobOptions: { dryRun: true },
    });
    expect(r.status).toBe("dry_run");
    expect(r.summary).toMatchObject({
      would_send: [{ group_id: id, tier: "t2", recipients: [{ user_id: "alice" }] }],
    });
    expect(slack.calls).toHaveLength(0);
    expect(await reminders(id)).toEqual([]);
    const runs = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_job_run WHERE job_id = 'reminder_dispatcher'",
    );
    expect(runs[0]?.n).toBe(1); // only the run that opened the group
  });
});

describe("snooze expiry", () => {
  it("reopens at the right minute and re-renders the root", async () => {
    const id = await openGroup("2024-05-01T08:00:00.000Z");
    await applyUserAction(
      t.db,
      id,
      { kind: "snooze", until: new Date("2024-05-01T10:37:00Z") },
      { now: new Date("2024-05-01T08:10:00Z"), userId: "alice" },
    );
    const cfg = config({ NOTIFICATION_TIMEZONE: "UTC" });
    await runJob(reminderDispatcher, runtimeAt("2024-05-01T10:30:00.000Z", cfg));
    let g = await t.db.query<{ status: string }>("SELECT status FROM reporting.notification_signal_group");
    expect(g[0]?.status).toBe("snoozed");
    slack.resetCalls();
    const r = await runJob(reminderDispatcher, runtimeAt("2024-05-01T10:45:00.000Z", cfg));
    expect(r.summary).toMatchObject({ snoozes_expired: 1, slack: { updated: 1, thread_replies: 1 } });
    g = await t.db.query<{ status: string; open_since: Date }>(
      "SELECT status, open_since FROM reporting.notification_signal_group",
    );
    expect(g[0]?.status).toBe("open");
    expect(new Date((g[0] as unknown as { open_since: Date }).open_since).toISOString()).toBe(
      "2024-05-01T10:37:00.000Z",
    );
    const last = (await listActivity(t.db, id)).find((a) => a.action === "reopened");
    expect(last?.metadata_json).toMatchObject({ from: "snoozed", reason: "snooze expired" });
    // The ladder counts from the snooze's end: T2 at 12:37, so the 12:45 run sends it.
    await simulate("2024-05-01T11:00:00.000Z", "2024-05-01T13:00:00.000Z", cfg);
    expect((await reminders(id)).map((x) => x.at)).toEqual(["2024-05-01T12:45:00.000Z"]);
  });
});

describe("rolling counts", () => {
  it("count_24h decays as time passes, and the root shows it", async () => {
    await ingestSignalBatch(
      t.db,
      [0, 1, 2].map((i) => row({ occurred_at: `2024-05-01T0${i}:00:00.000Z`, dedup_key: `c-${i}` })),
      { now: new Date("2024-05-01T03:00:00Z"), reopenWindowHours: 24, appBaseUrl: undefined },
    );
    const cfg = config({ NOTIFICATION_TIMEZONE: "UTC" });
    await runJob(reminderDispatcher, runtimeAt("2024-05-01T03:00:00.000Z", cfg));
    const count = async () =>
      (
        await t.db.query<{ count_24h: number }>("SELECT count_24h FROM reporting.notification_signal_group")
      )[0]?.count_24h;
    expect(await count()).toBe(3);
    slack.resetCalls();
    const r = await runJob(reminderDispatcher, runtimeAt("2024-05-02T01:30:00.000Z", cfg));
    expect(r.summary).toMatchObject({ counts_refreshed: 1 });
    expect(await count()).toBe(1);
    expect(slack.callsTo("chat.update").length).toBeGreaterThanOrEqual(1);
    await runJob(reminderDispatcher, runtimeAt("2024-05-02T03:00:00.000Z", cfg));
    expect(await count()).toBe(0);
  });
});
