/**
 * daily_digest end to end: once per local date at DAILY_DIGEST_TIME in several time zones, under repeated,
 * overlapping and skipped runs, within Slack's limits with 500 open groups.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../src/config.js";
import type { Db } from "../src/db/db.js";
import { loadDigestGroups } from "../src/db/digest.js";
import { applyUserAction } from "../src/db/group-actions.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { closeGroupsAsSystem } from "../src/db/source-groups.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { dailyDigest, sendDailyDigest } from "../src/jobs/daily_digest.js";
import { runJob } from "../src/jobs/run-job.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";
import { SlackCallError } from "../src/slack/errors.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";
import { row } from "./support/signals.js";

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";
const HOUR = 3_600_000;

let t: TestDatabase;
let slack: FakeSlack;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  // Slack stamps messages with the simulated time, as the real one would with the real time.
  slack = await startFakeSlack({ tokens: [TOKEN], clock: () => Date.parse("2024-05-01T09:00:00Z") });
  await t.db.exec(`
    TRUNCATE reporting.notification_signal, reporting.notification_signal_group, reporting.notification_job_run,
             reporting.notification_digest CASCADE;
  `);
});
afterEach(async () => {
  await slack.close();
});

function config(timeZone: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: slack.url,
    APP_BASE_URL: "https://ops.example.com",
    NOTIFICATION_TIMEZONE: timeZone,
    DAILY_DIGEST_TIME: "09:00",
    ...extra,
  });
}

function runtimeAt(now: Date | string, cfg: Config, db: Db = t.db): Runtime {
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

/** Top-level digest posts in the channel (told from the sync's root messages by their metadata). */
function digests() {
  return slack.rootMessages(CHANNEL).filter((m) => m.metadata?.event_type === "observability_daily_digest");
}

async function seedGroups(n: number, at: string) {
  const rows = Array.from({ length: n }, (_, i) =>
    row({
      occurred_at: at,
      job_name: `job_${String(i).padStart(4, "0")}_<!channel>_${"x".repeat(i % 7 === 0 ? 3000 : 5)}`,
      error_message: `failure ${i}`,
    }),
  );
  await ingestSignalBatch(t.db, rows, {
    now: new Date(at),
    reopenWindowHours: 24,
    appBaseUrl: "https://ops.example.com",
  });
}

describe.each([
  // zone, local midnight of 1 May in UTC, 09:00 local of 1 May in UTC
  ["UTC", "2024-05-01T00:00:00.000Z", "2024-05-01T09:00:00.000Z"],
  ["Europe/Berlin", "2024-04-30T22:00:00.000Z", "2024-05-01T07:00:00.000Z"],
  ["America/New_York", "2024-05-01T04:00:00.000Z", "2024-05-01T13:00:00.000Z"],
])("daily digest in %s", (zone, midnightLocal, nineLocal) => {
  it("hourly runs over two days send exactly one digest per local date, at the first run after 09:00", async () => {
    await seedGroups(3, "2024-04-30T12:00:00.000Z");
    const cfg = config(zone);
    const sentAt: string[] = [];
    // From local midnight of 1 May for two days, every hour, plus a repeat of each run.
    for (let ms = Date.parse(midnightLocal); ms < Date.parse(midnightLocal) + 48 * HOUR; ms += HOUR) {
      for (const repeat of [0, 1]) {
        const r = await runJob(dailyDigest, runtimeAt(new Date(ms + repeat * 60_000), cfg));
        if ((r.summary as { sent?: boolean }).sent) sentAt.push(new Date(ms + repeat * 60_000).toISOString());
      }
    }
    expect(sentAt[0]).toBe(nineLocal);
    expect(sentAt[1]).toBe(new Date(Date.parse(nineLocal) + 24 * HOUR).toISOString());
    expect(sentAt).toHaveLength(2);
    expect(digests()).toHaveLength(2);
  });
});

describe("daily digest", () => {
  it("a run before the digest time does nothing; a skipped run is caught up later the same day", async () => {
    const cfg = config("Europe/Berlin");
    const early = await runJob(dailyDigest, runtimeAt("2024-05-01T06:59:00.000Z", cfg));
    expect(early.summary).toMatchObject({
      sent: false,
      skipped: expect.stringContaining("before DAILY_DIGEST_TIME"),
    });
    // No run at 09:00 local; the 15:00 local run catches up.
    const late = await runJob(dailyDigest, runtimeAt("2024-05-01T13:00:00.000Z", cfg));
    expect(late.summary).toMatchObject({ sent: true, local_date: "2024-05-01" });
    // Just after midnight local on the 2nd: yesterday's is done, today's is not due.
    const night = await runJob(dailyDigest, runtimeAt("2024-05-01T22:30:00.000Z", cfg));
    expect(night.summary).toMatchObject({ sent: false, local_date: "2024-05-02" });
    expect(digests()).toHaveLength(1);
  });

  it("a day with no groups gets a short all-clear digest, and still counts as done", async () => {
    const cfg = config("UTC");
    const r = await runJob(dailyDigest, runtimeAt("2024-05-01T09:05:00.000Z", cfg));
    expect(r.summary).toMatchObject({ sent: true, all_clear: true, groups_listed: 0 });
    const again = await runJob(dailyDigest, runtimeAt("2024-05-01T10:05:00.000Z", cfg));
    expect(again.summary).toMatchObject({ sent: false, skipped: "already sent for this date" });
    const rows = await t.db.query<{ local_date: string; slack_ts: string }>(
      "SELECT local_date, slack_ts FROM reporting.notification_digest",
    );
    expect(rows).toEqual([{ local_date: "2024-05-01", slack_ts: digests()[0]?.ts }]);
  });

  it("stays within Slack's limits with 500 open groups, and records digest_sent for each group listed", async () => {
    await seedGroups(500, "2024-04-30T12:00:00.000Z");
    const r = await runJob(dailyDigest, runtimeAt("2024-05-01T09:00:00.000Z", config("UTC")));
    // The fake rejects any message over Block Kit's limits.
    expect(r.summary).toMatchObject({ sent: true });
    const [digest] = digests();
    expect((digest?.blocks ?? []).length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(digest?.blocks)).toMatch(/more/);
    expect(JSON.stringify(digest)).not.toContain("<!channel>");
    const listed = (r.summary as { groups_listed: number }).groups_listed;
    expect(listed).toBeGreaterThan(0);
    const activities = await t.db.query<{ n: number; dates: string[] }>(
      `SELECT count(*)::int AS n, array_agg(DISTINCT metadata_json->>'digest_date') AS dates
       FROM reporting.notification_signal_group_activity WHERE action = 'digest_sent'`,
    );
    expect(activities[0]).toEqual({ n: listed, dates: ["2024-05-01"] });
  });

  it("a failed post gives the date back; the next run sends it", async () => {
    const cfg = config("UTC");
    slack.failNext("chat.postMessage", { error: "channel_not_found" });
    const failed = await runJob(dailyDigest, runtimeAt("2024-05-01T09:00:00.000Z", cfg));
    expect(failed.status).toBe("failed");
    expect(failed.summary).toMatchObject({ sent: false, error: "chat.postMessage: channel_not_found" });
    const retried = await runJob(dailyDigest, runtimeAt("2024-05-01T10:00:00.000Z", cfg));
    expect(retried.summary).toMatchObject({ sent: true });
    expect(digests()).toHaveLength(1);
  });

  it("a post that times out is not sent twice: a later run finds it by its metadata", async () => {
    const cfg = config("UTC");
    const rt = runtimeAt("2024-05-01T09:00:00.000Z", cfg);
    const real = rt.slack?.api;
    if (!real) throw new Error("no slack");
    // Slack posts it, but the answer never arrives.
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
    const first = await sendDailyDigest(rt, { dryRun: false, target: { api: timingOut, channel: CHANNEL } });
    expect(first).toMatchObject({ sent: false, error: "chat.postMessage: timeout" });
    // Within ten minutes another run leaves it alone; after that, one finds the post and records it.
    const soon = await runJob(dailyDigest, runtimeAt("2024-05-01T09:05:00.000Z", cfg));
    expect(soon.summary).toMatchObject({ sent: false, skipped: "another run is sending this date's digest" });
    const later = await runJob(dailyDigest, runtimeAt("2024-05-01T10:00:00.000Z", cfg));
    expect(later.summary).toMatchObject({ sent: true, recovered: true });
    expect(digests()).toHaveLength(1);
  });

  it("a run that died between claiming and posting does not cost the day its digest", async () => {
    const cfg = config("UTC");
    await t.db.query(
      "INSERT INTO reporting.notification_digest (local_date, time_zone, claimed_at) VALUES ('2024-05-01', 'UTC', '2024-05-01T09:00:00Z')",
    );
    const r = await runJob(dailyDigest, runtimeAt("2024-05-01T10:00:00.000Z", cfg));
    expect(r.summary).toMatchObject({ sent: true });
    expect(digests()).toHaveLength(1);
  });

  it("what happened in the last 24 hours is read from the activity: new, reopened, closed, auto-closed", async () => {
    await seedGroups(4, "2024-04-30T12:00:00.000Z");
    const ids = (
      await t.db.query<{ id: string }>(
        "SELECT id::text AS id FROM reporting.notification_signal_group ORDER BY job_name",
      )
    ).map((r) => r.id);
    const [a, b, c] = ids as [string, string, string];
    await applyUserAction(
      t.db,
      a,
      { kind: "close", reason: "fixed" },
      { now: new Date("2024-05-01T08:00:00Z"), userId: "alice" },
    );
    await closeGroupsAsSystem(
      t.db,
      [{ groupId: b, reason: "recovered", resolvedAt: "2024-05-01T08:00:00Z" }],
      new Date("2024-05-01T08:10:00Z"),
    );
    await applyUserAction(
      t.db,
      c,
      { kind: "close" },
      { now: new Date("2024-05-01T07:00:00Z"), userId: "alice" },
    );
    await applyUserAction(
      t.db,
      c,
      { kind: "reopen" },
      { now: new Date("2024-05-01T07:30:00Z"), userId: "alice" },
    );
    const rows = await loadDigestGroups(t.db, new Date("2024-05-01T09:00:00Z"));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(a)).toMatchObject({
      status: "closed",
      closed_24h: true,
      auto_closed_24h: false,
      opened_24h: true,
    });
    expect(byId.get(b)).toMatchObject({ status: "closed", closed_24h: true, auto_closed_24h: true });
    expect(byId.get(c)).toMatchObject({ status: "open", reopened_24h: true, closed_24h: false });
    // Seen from the day before, nothing of this has happened yet.
    const earlier = await loadDigestGroups(t.db, new Date("2024-04-30T13:00:00Z"));
    expect(earlier.every((r) => r.status !== "closed" || r.closed_24h === false)).toBe(true);
  });

  it("--dry-run shows the digest and changes nothing", async () => {
    await seedGroups(2, "2024-04-30T12:00:00.000Z");
    const r = await runJob(dailyDigest, {
      ...runtimeAt("2024-05-01T09:30:00.000Z", config("UTC")),
      jobOptions: { dryRun: true },
    });
    expect(r.status).toBe("dry_run");
    expect(r.summary).toMatchObject({ local_date: "2024-05-01", would_send: { text: expect.any(String) } });
    expect(slack.calls).toHaveLength(0);
    const rows = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_digest",
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("--dry-run through the CLI prints the message as JSON; jobs without it refuse the flag", async () => {
    const env = {
      OBSERVABILITY_DATA_DIR: `/tmp/obs-digest-${randomUUID()}`,
      ...(testBackend() === "postgres" ? { DATABASE_URL: t.url ?? "" } : {}),
    };
    const r = await runCli(["run", "daily_digest", "--dry-run", "--now", "2024-05-01T09:30:00Z"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      job: "daily_digest",
      status: "dry_run",
      summary: { would_send: {} },
    });
    const refused = await runCli(["run", "ingest_inbox", "--dry-run"], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--dry-run applies to reminder_dispatcher, daily_digest");
  });

  it.skipIf(testBackend() !== "postgres")("overlapping runs send the digest once", async () => {
    const cfg = config("UTC");
    const others = [await t.openAnother(), await t.openAnother(), await t.openAnother()];
    const results = await Promise.all(
      [t.db, ...others].map((db) => {
        const rt = runtimeAt("2024-05-01T09:00:00.000Z", cfg, db);
        return sendDailyDigest(rt, { dryRun: false, target: rt.slack ?? null });
      }),
    );
    expect(results.filter((r) => r.sent)).toHaveLength(1);
    expect(digests()).toHaveLength(1);
  });
});
