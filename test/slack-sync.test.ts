/**
 * Slack delivery end to end: the real grouping engine and database, the real @slack/web-api client, and a
 * fake Slack Web API over HTTP on loopback.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../src/config.js";
import type { GroupRow } from "../src/core/types.js";
import { listActivity } from "../src/db/activity.js";
import { applyUserAction } from "../src/db/group-actions.js";
import { findGroup } from "../src/db/groups.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { ObservabilityError } from "../src/errors.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";
import type { SlackApi } from "../src/slack/api.js";
import { runSlackSync, SLACK_SYNC_LOCK, type SlackTarget } from "../src/slack/index.js";
import { handleSlackInteraction } from "../src/slack/interactions.js";
import type { SyncSummary } from "../src/slack/sync.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";
import { addHours, row } from "./support/signals.js";

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";
const T0 = "2024-05-01T10:00:00.000Z";

let t: TestDatabase;
let fake: FakeSlack;
let config: Config;
let logLines: string[];
let sleeps: number[];

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

beforeEach(async () => {
  fake = await startFakeSlack({ bots: ["UBOT2"], clock: () => Date.parse(T0) });
  config = loadConfig({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: fake.url,
    APP_BASE_URL: "https://ops.example.com",
  });
  logLines = [];
  sleeps = [];
  await t.db.exec(`
    TRUNCATE reporting.notification_signal, reporting.notification_signal_group CASCADE;
    TRUNCATE reporting.notification_agency_owner, reporting.notification_job_owner_override,
             reporting.notification_user_slack_map;
    INSERT INTO reporting.notification_agency_owner VALUES ('agency-1', 'acme', 'alice', 'bob', 'team-data');
    INSERT INTO reporting.notification_user_slack_map VALUES ('alice', 'UALICE'), ('bob', 'UBOB');
  `);
});
afterEach(async () => {
  await fake.close();
});

function runtimeAt(now: string): Runtime {
  const log = createLogger({
    level: "debug",
    secrets: config.secrets,
    destination: { write: (line: string) => logLines.push(line) },
  });
  return {
    db: t.db,
    config,
    log,
    now: new Date(now),
    runId: randomUUID(),
    close: async () => undefined,
  };
}

function target(api?: SlackApi): SlackTarget {
  return {
    api:
      api ?? createWebApiSlack({ token: TOKEN, apiUrl: fake.url, log: runtimeAt(T0).log, retryDelayMs: 5 }),
    channel: CHANNEL,
  };
}

async function sync(now: string, api?: SlackApi): Promise<SyncSummary> {
  return runSlackSync(runtimeAt(now), {
    target: target(api),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

async function ingest(now: string, rows: ReturnType<typeof row>[]) {
  return ingestSignalBatch(t.db, rows, {
    now: new Date(now),
    reopenWindowHours: 24,
    appBaseUrl: config.appBaseUrl,
  });
}

async function onlyGroup(): Promise<GroupRow & Record<string, unknown>> {
  const rows = await t.db.query<{ id: string }>("SELECT id FROM reporting.notification_signal_group");
  expect(rows).toHaveLength(1);
  const g = await findGroup(t.db, rows[0]?.id ?? "");
  if (g === null) throw new Error("group vanished");
  return g as GroupRow & Record<string, unknown>;
}

function allText(m: { text: string; blocks: unknown[] | undefined }): string {
  return `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
}

/** Every string Slack parses as mrkdwn (where `<!channel>` would ping): the text and mrkdwn objects. */
function mrkdwnTexts(m: { text: string; blocks: unknown[] | undefined }): string[] {
  const out = [m.text];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      if (o.type === "mrkdwn" && typeof o.text === "string") out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(m.blocks ?? []);
  return out;
}

describe("a new group", () => {
  it("posts one root with metadata and DMs the owner once", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const s = await sync(T0);
    expect(s).toMatchObject({ posted: 1, updated: 0, dms: 1, failed: 0 });

    const roots = fake.rootMessages(CHANNEL);
    expect(roots).toHaveLength(1);
    const g = await onlyGroup();
    expect(roots[0]?.metadata).toEqual({
      event_type: "observability_signal_group",
      event_payload: { group_id: g.id },
    });
    expect(g.slack_root_ts).toBe(roots[0]?.ts);
    expect(g.slack_channel_id).toBe(CHANNEL);
    expect(g.slack_message_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(g.assigned_to_user_id).toBe("alice");
    expect(g.opened_notified_at).toBe(T0);
    expect(allText(roots[0] as never)).toContain("<@UALICE>");

    const dms = fake.dmsTo("UALICE");
    expect(dms).toHaveLength(1);
    expect(allText(dms[0] as never)).toContain("https://fake-slack.test/archives/");
    expect(fake.dmsTo("UBOB")).toHaveLength(0);

    const actions = (await listActivity(t.db, g.id)).map((a) => [a.action, a.metadata_json?.kind ?? null]);
    expect(actions).toEqual([
      ["opened", null],
      ["slack_posted", "root"],
      ["slack_posted", "owner_dm"],
    ]);
    const routed = await t.db.query<{ assignment_rule: string }>(
      "SELECT assignment_rule FROM reporting.notification_signal_group",
    );
    expect(routed[0]?.assignment_rule).toBe("agency_owner");
  });

  it("100 more signals and a re-run make one update and no new post; then nothing changes, no calls", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const t1 = addHours(T0, 1);
    await ingest(
      t1,
      Array.from({ length: 100 }, (_, i) => row({ occurred_at: addHours(T0, i / 200) })),
    );
    fake.resetCalls();
    const s = await sync(t1);
    expect(s).toMatchObject({ posted: 0, updated: 1, dms: 0, thread_replies: 0 });
    expect(fake.callsTo("chat.postMessage")).toHaveLength(0);
    expect(fake.callsTo("chat.update")).toHaveLength(1);
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    expect(fake.rootMessages(CHANNEL)[0]?.text).toContain("101");

    fake.resetCalls();
    const again = await sync(t1);
    expect(again).toMatchObject({ posted: 0, updated: 0, unchanged: 1 });
    expect(fake.calls).toHaveLength(0);
  });
});

describe("status changes re-render the root and add one thread reply", () => {
  it("ack, snooze, close and reopen", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const g = await onlyGroup();
    const rootTs = g.slack_root_ts ?? "";
    const steps: [string, () => Promise<unknown>, string][] = [
      [
        "acknowledge",
        () =>
          applyUserAction(
            t.db,
            g.id,
            { kind: "acknowledge" },
            { now: new Date(addHours(T0, 1)), userId: "alice" },
          ),
        "Acknowledged",
      ],
      [
        "snooze",
        () =>
          applyUserAction(
            t.db,
            g.id,
            { kind: "snooze", until: new Date(addHours(T0, 6)) },
            { now: new Date(addHours(T0, 2)), userId: "alice" },
          ),
        "Snoozed",
      ],
      [
        "close",
        () =>
          applyUserAction(
            t.db,
            g.id,
            { kind: "close", reason: "fixed upstream" },
            { now: new Date(addHours(T0, 3)), userId: "bob" },
          ),
        "Closed",
      ],
      [
        "reopen",
        () =>
          applyUserAction(t.db, g.id, { kind: "reopen" }, { now: new Date(addHours(T0, 4)), userId: "bob" }),
        "Open",
      ],
    ];
    let hour = 1;
    for (const [name, act, expected] of steps) {
      await act();
      fake.resetCalls();
      const s = await sync(addHours(T0, hour++));
      expect(s.updated, name).toBe(1);
      expect(s.posted, name).toBe(0);
      expect(s.thread_replies, name).toBe(1);
      expect(fake.callsTo("chat.update"), name).toHaveLength(1);
      const root = fake.rootMessages(CHANNEL)[0];
      expect(root?.ts).toBe(rootTs);
      expect(allText(root as never), name).toContain(expected);
    }
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    const replies = fake.threadReplies(CHANNEL, rootTs).map((m) => m.text);
    expect(replies).toHaveLength(4);
    expect(replies.join("\n")).toMatch(/Acknowledged/);
    expect(replies.join("\n")).toMatch(/Closed/);
    expect(replies.join("\n")).toMatch(/Reopened/);
  });
});

describe("escalation", () => {
  it("a more severe signal updates the root and adds one thread reply, however many signals came", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const t1 = addHours(T0, 1);
    await ingest(t1, [
      row({ occurred_at: addHours(T0, 0.5), severity: "critical" }),
      ...Array.from({ length: 20 }, (_, i) => row({ occurred_at: addHours(T0, 0.5 + i / 100) })),
    ]);
    fake.resetCalls();
    const s = await sync(t1);
    expect(s).toMatchObject({ updated: 1, thread_replies: 1, posted: 0 });
    const g = await onlyGroup();
    const replies = fake.threadReplies(CHANNEL, g.slack_root_ts ?? "");
    expect(replies).toHaveLength(1);
    expect(allText(replies[0] as never).toLowerCase()).toContain("critical");
    expect(allText(fake.rootMessages(CHANNEL)[0] as never)).toContain("CRITICAL");
  });
});

describe("overlapping runs", () => {
  // PGlite has one session, in which an advisory lock is re-entrant: only PostgreSQL can show the overlap.
  it.skipIf(testBackend() !== "postgres")(
    "a sync while another run is syncing skips instead of racing it to post the same root",
    async () => {
      await ingest(T0, [row({ occurred_at: T0 })]);
      const other = await t.openAnother();
      const release = await other.tryAdvisoryLock(SLACK_SYNC_LOCK);
      expect(release).not.toBeNull();
      try {
        const s = await sync(T0);
        expect(s.skipped).toBe("another run is syncing Slack");
        expect(fake.calls).toHaveLength(0);
      } finally {
        await release?.();
      }
      expect(await sync(T0)).toMatchObject({ posted: 1 });
    },
  );
});

describe("crash safety", () => {
  it("a run killed between the post and storing the ts leaves exactly one root", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const real = target().api;
    // Posts for real, then dies before the database hears about it (as a killed process would).
    const dying: SlackApi = {
      ...real,
      async postMessage(args) {
        await real.postMessage(args);
        throw new Error("process killed");
      },
    };
    await expect(sync(T0, dying)).rejects.toThrow("process killed");
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    const half = await onlyGroup();
    expect(half.slack_root_ts).toBeNull();
    expect(half.slack_post_started_at).not.toBeNull();

    const s = await sync(addHours(T0, 0.1));
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    const g = await onlyGroup();
    expect(g.slack_root_ts).toBe(fake.rootMessages(CHANNEL)[0]?.ts);
    expect(g.slack_post_started_at).toBeNull();
    expect(fake.callsTo("conversations.history").length).toBeGreaterThan(0);
    expect(s.failed).toBe(0);
    // The owner notification claimed by the dead run was released and is delivered now, once.
    expect(fake.dmsTo("UALICE")).toHaveLength(1);
  });

  it("with no trace of the message in history, the next run posts it", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const real = target().api;
    const dying: SlackApi = {
      ...real,
      async postMessage() {
        throw new Error("process killed before the request left");
      },
    };
    await expect(sync(T0, dying)).rejects.toThrow("process killed");
    await sync(T0);
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    expect((await onlyGroup()).slack_root_ts).toBe(fake.rootMessages(CHANNEL)[0]?.ts);
  });
});

describe("crash safety when replacing a root", () => {
  it("a run killed after re-posting a deleted root leaves exactly one live root", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const old = (await onlyGroup()).slack_root_ts ?? "";
    fake.deleteMessage(CHANNEL, old);
    await ingest(T0, [row({ occurred_at: addHours(T0, 0.5) })]);
    const real = target().api;
    const dying: SlackApi = {
      ...real,
      async postMessage(args) {
        await real.postMessage(args);
        throw new Error("process killed");
      },
    };
    await expect(sync(addHours(T0, 1), dying)).rejects.toThrow("process killed");
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    await sync(addHours(T0, 1.1));
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    expect((await onlyGroup()).slack_root_ts).toBe(fake.rootMessages(CHANNEL)[0]?.ts);
  });
});

describe("changes made while a run is posting", () => {
  it("a close committed during the root post still gets its thread reply next run", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const g = await onlyGroup();
    const real = target().api;
    let closed = false;
    const racing: SlackApi = {
      ...real,
      async postMessage(args) {
        const posted = await real.postMessage(args);
        if (!closed && args.threadTs === undefined && args.metadata !== undefined) {
          closed = true;
          await applyUserAction(
            t.db,
            g.id,
            { kind: "close", reason: "fixed" },
            { now: new Date(T0), userId: "bob" },
          );
        }
        return posted;
      },
    };
    await sync(T0, racing);
    const s = await sync(addHours(T0, 0.1));
    expect(s).toMatchObject({ updated: 1, thread_replies: 1 });
    const replies = fake.threadReplies(CHANNEL, (await onlyGroup()).slack_root_ts ?? "");
    expect(replies.map((r) => r.text).join("\n")).toContain("Closed");
  });
});

describe("rate limits", () => {
  it("honours Retry-After when it fits in the run's budget", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 3 });
    const s = await sync(T0);
    expect(sleeps).toEqual([3000]);
    expect(s).toMatchObject({ posted: 1, rate_limit_waited_ms: 3000, deferred: 0 });
    const posts = fake.callsTo("chat.postMessage");
    expect(posts.map((c) => c.status).slice(0, 2)).toEqual([429, 200]);
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
  });

  it("leaves the groups for the next run when Retry-After exceeds the budget", async () => {
    await ingest(T0, [row({ occurred_at: T0, job_name: "a" }), row({ occurred_at: T0, job_name: "b" })]);
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 600 });
    const s = await sync(T0);
    expect(sleeps).toEqual([]);
    expect(s).toMatchObject({ posted: 0, deferred: 2, failed: 0 });
    expect(fake.rootMessages(CHANNEL)).toHaveLength(0);
    const claims = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_signal_group WHERE opened_notified_at IS NOT NULL",
    );
    expect(claims[0]?.n).toBe(0);

    const next = await sync(addHours(T0, 0.1));
    expect(next).toMatchObject({ posted: 2, dms: 2 });
    expect(fake.rootMessages(CHANNEL)).toHaveLength(2);
  });
});

describe("Slack errors", () => {
  it("a revoked token stops the run with one clear error and loses nothing", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.revokeToken(TOKEN);
    const error = await sync(T0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObservabilityError);
    expect((error as ObservabilityError).code).toBe("slack_auth");
    expect((error as Error).message).toContain("token_revoked");
    expect((error as Error).message).not.toContain(TOKEN);
    const g = await onlyGroup();
    expect(g.slack_root_ts).toBeNull();
    expect(g.opened_notified_at).toBeNull();
    expect(g.count_total).toBe(1);
  });

  it("a deleted root is posted afresh and the reason recorded", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const old = (await onlyGroup()).slack_root_ts ?? "";
    fake.deleteMessage(CHANNEL, old);
    await ingest(T0, [row({ occurred_at: addHours(T0, 0.5) })]);
    const s = await sync(addHours(T0, 1));
    expect(s).toMatchObject({ reposted: 1, updated: 0 });
    const g = await onlyGroup();
    expect(g.slack_root_ts).not.toBe(old);
    expect(fake.rootMessages(CHANNEL).map((m) => m.ts)).toEqual([g.slack_root_ts]);
    const posted = (await listActivity(t.db, g.id)).filter(
      (a) => a.action === "slack_posted" && a.metadata_json?.kind === "root",
    );
    expect(posted.at(-1)?.metadata_json).toMatchObject({
      replaces_ts: old,
      reason: "previous root message_not_found",
    });
  });

  it("a message that cannot be updated is replaced the same way", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const old = (await onlyGroup()).slack_root_ts ?? "";
    fake.forbidUpdates(CHANNEL, old);
    await ingest(T0, [row({ occurred_at: addHours(T0, 0.5) })]);
    expect(await sync(addHours(T0, 1))).toMatchObject({ reposted: 1 });
    expect((await onlyGroup()).slack_root_ts).not.toBe(old);
  });

  it("an archived channel is recorded on the groups, reported, the run goes on, and owners still hear", async () => {
    await ingest(T0, [row({ occurred_at: T0, job_name: "a" }), row({ occurred_at: T0, job_name: "b" })]);
    fake.archiveChannel(CHANNEL);
    const s = await sync(T0);
    expect(s).toMatchObject({ posted: 0, failed: 2, dms: 2 });
    expect(s.errors.map((e) => e.error)).toEqual([
      "chat.postMessage: is_archived",
      "chat.postMessage: is_archived",
    ]);
    // One call found the channel broken; the second group did not hammer it again (the other posts are DMs).
    expect(fake.callsTo("chat.postMessage").filter((c) => c.params.channel === CHANNEL)).toHaveLength(1);
    const errors = await t.db.query<{ slack_last_error: string; slack_root_ts: string | null }>(
      "SELECT slack_last_error, slack_root_ts FROM reporting.notification_signal_group",
    );
    expect(errors).toEqual([
      { slack_last_error: "is_archived", slack_root_ts: null },
      { slack_last_error: "is_archived", slack_root_ts: null },
    ]);
    // The owner was told anyway, without a link to a root that does not exist.
    expect(fake.dmsTo("UALICE")).toHaveLength(2);
    expect(allText(fake.dmsTo("UALICE")[0] as never)).not.toContain("fake-slack.test/archives");
  });

  it("a root in a channel that stopped working moves to the configured channel", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const g = await onlyGroup();
    // As if the root had been posted to an older channel that was archived since.
    await t.db.query(
      "UPDATE reporting.notification_signal_group SET slack_channel_id = 'COLD', slack_message_hash = NULL",
    );
    const s = await sync(addHours(T0, 1));
    expect(s).toMatchObject({ reposted: 1, failed: 0 });
    const moved = await onlyGroup();
    expect(moved.slack_channel_id).toBe(CHANNEL);
    expect(moved.slack_root_ts).not.toBe(g.slack_root_ts);
  });

  it("not_in_channel is a channel problem too", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.removeFromChannel(CHANNEL);
    expect(await sync(T0)).toMatchObject({
      failed: 1,
      errors: [{ error: "chat.postMessage: not_in_channel" }],
    });
  });

  it("rejected content falls back to a minimal text message", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("chat.postMessage", { error: "invalid_blocks" });
    const s = await sync(T0);
    expect(s).toMatchObject({ posted: 1, text_fallbacks: 1, failed: 0 });
    const [root] = fake.rootMessages(CHANNEL);
    expect(root?.blocks ?? []).toEqual([]);
    expect(root?.text.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).toContain("invalid_blocks");
    // Stored with the rich rendering's hash: the next run does not loop on it.
    fake.resetCalls();
    await sync(T0);
    expect(fake.calls).toHaveLength(0);
  });

  it("a post that fails on the network is not resent blindly; the next run finds or posts it", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("chat.postMessage", { drop: true });
    expect(await sync(T0)).toMatchObject({
      posted: 0,
      failed: 1,
      errors: [{ error: "chat.postMessage: network" }],
    });
    expect(fake.callsTo("chat.postMessage")).toHaveLength(1);
    expect(await sync(T0)).toMatchObject({ posted: 1, failed: 0 });
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
  });

  it("an update that fails on the network or with 5xx is retried by the client", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    await ingest(T0, [row({ occurred_at: addHours(T0, 0.5) })]);
    fake.failNext("chat.update", { drop: true });
    fake.failNext("chat.update", { status: 503 });
    expect(await sync(addHours(T0, 1))).toMatchObject({ updated: 1, failed: 0 });
  });

  it("Slack unreachable: recorded on the group, and the next run delivers", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("chat.postMessage", { status: 503 });
    const s = await sync(T0);
    expect(s).toMatchObject({ posted: 0, failed: 1, errors: [{ error: "chat.postMessage: http_503" }] });
    expect((await onlyGroup()).slack_last_error).toBe("http_503");
    expect(await sync(T0)).toMatchObject({ posted: 1, failed: 0 });
    expect(fake.rootMessages(CHANNEL)).toHaveLength(1);
    expect((await onlyGroup()).slack_last_error).toBeNull();
  });
});

describe("owner DMs", () => {
  it("an owner who cannot be DMed falls back to the secondary owner", async () => {
    await t.db.exec(
      "UPDATE reporting.notification_user_slack_map SET slack_user_id = 'UBOT2' WHERE user_id = 'alice'",
    );
    await ingest(T0, [row({ occurred_at: T0 })]);
    const s = await sync(T0);
    expect(s).toMatchObject({ dms: 1, dm_fallbacks: 1 });
    expect(fake.dmsTo("UBOB")).toHaveLength(1);
    const g = await onlyGroup();
    const dm = (await listActivity(t.db, g.id)).find((a) => a.metadata_json?.kind === "owner_dm");
    expect(dm?.metadata_json).toMatchObject({
      outcome: "sent",
      role: "secondary",
      skipped: ["alice: cannot_dm_bot"],
    });
  });

  it("nobody reachable: a mention-free note in the root's thread", async () => {
    await t.db.exec(`
      DELETE FROM reporting.notification_user_slack_map WHERE user_id = 'alice';
      UPDATE reporting.notification_user_slack_map SET slack_user_id = 'UGONE' WHERE user_id = 'bob';
    `);
    fake.failNext("conversations.open", { error: "user_not_found" });
    await ingest(T0, [row({ occurred_at: T0 })]);
    const s = await sync(T0);
    expect(s).toMatchObject({ dms: 0, dm_undelivered: 1 });
    const g = await onlyGroup();
    const [note] = fake.threadReplies(CHANNEL, g.slack_root_ts ?? "");
    expect(note).toBeDefined();
    expect(allText(note as never)).not.toMatch(/<@|<!/);
    expect(allText(note as never)).toContain("alice");
    const dm = (await listActivity(t.db, g.id)).find((a) => a.metadata_json?.kind === "owner_dm");
    expect(dm?.metadata_json).toMatchObject({
      outcome: "undelivered",
      problems: ["alice: no Slack user mapping", "bob: user_not_found"],
    });
  });

  it("a job override routes to its owner; unowned groups say so and DM nobody", async () => {
    await t.db.exec(`
      INSERT INTO reporting.notification_job_owner_override VALUES
        ('00000000-0000-0000-0000-000000000001', 'special_job', NULL, 'bob', NULL);
    `);
    await ingest(T0, [
      row({ occurred_at: T0, job_name: "special_job" }),
      row({ occurred_at: T0, job_name: "orphan", agency_id: "agency-x", agency_slug: "x" }),
    ]);
    const s = await sync(T0);
    expect(s).toMatchObject({ posted: 2, dms: 1 });
    expect(fake.dmsTo("UBOB")).toHaveLength(1);
    const routes = await t.db.query<{
      job_name: string;
      assigned_to_user_id: string | null;
      assignment_rule: string;
    }>(
      "SELECT job_name, assigned_to_user_id, assignment_rule FROM reporting.notification_signal_group ORDER BY job_name",
    );
    expect(routes).toEqual([
      { job_name: "orphan", assigned_to_user_id: null, assignment_rule: "unowned" },
      { job_name: "special_job", assigned_to_user_id: "bob", assignment_rule: "job_override" },
    ]);
    const orphanRoot = fake
      .rootMessages(CHANNEL)
      .find((m) => m.text.includes("orphan") || JSON.stringify(m.blocks).includes("orphan"));
    expect(allText(orphanRoot as never).toLowerCase()).toContain("unowned");
  });

  it("a reopen DMs the owner again, once", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const g = await onlyGroup();
    await applyUserAction(t.db, g.id, { kind: "close" }, { now: new Date(addHours(T0, 1)), userId: "alice" });
    await sync(addHours(T0, 1));
    await ingest(addHours(T0, 2), [row({ occurred_at: addHours(T0, 2) })]);
    await sync(addHours(T0, 2));
    await sync(addHours(T0, 2.1));
    const dms = fake.dmsTo("UALICE");
    expect(dms).toHaveLength(2);
    expect(allText(dms[1] as never).toLowerCase()).toContain("reopen");
  });
});

describe("owner DMs, harder cases", () => {
  it("a DM refused by workspace policy (restricted_action) falls back to the secondary owner", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("conversations.open", { error: "restricted_action" });
    const s = await sync(T0);
    expect(s).toMatchObject({ dms: 1, dm_fallbacks: 1, failed: 0 });
    expect(fake.dmsTo("UBOB")).toHaveLength(1);
  });

  it("an assignment someone made before the first sync is kept and DMed", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const g = await onlyGroup();
    await t.db.query(
      "UPDATE reporting.notification_signal_group SET assigned_to_user_id = 'bob' WHERE id = $1",
      [g.id],
    );
    await sync(T0);
    const after = await t.db.query<{ assigned_to_user_id: string; assignment_rule: string }>(
      "SELECT assigned_to_user_id, assignment_rule FROM reporting.notification_signal_group",
    );
    expect(after).toEqual([{ assigned_to_user_id: "bob", assignment_rule: "manual" }]);
    expect(fake.dmsTo("UBOB")).toHaveLength(1);
    expect(fake.dmsTo("UALICE")).toHaveLength(0);
  });

  it("a DM claimed by a run that died before recording it is sent by the next run", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const g = await onlyGroup();
    // As if a run had claimed a reopen's notification and died before sending.
    await t.db.exec(`DELETE FROM reporting.notification_signal_group_activity
                     WHERE signal_group_id = '${g.id}' AND metadata_json->>'kind' = 'owner_dm'`);
    await sync(addHours(T0, 0.1));
    expect(fake.dmsTo("UALICE")).toHaveLength(2);
    // Recorded now: a further run sends nothing.
    await sync(addHours(T0, 0.2));
    expect(fake.dmsTo("UALICE")).toHaveLength(2);
  });

  it("a token revoked between the root and the DM stops the run and gives the DM claim back", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    fake.failNext("conversations.open", { error: "token_revoked" });
    await expect(sync(T0)).rejects.toMatchObject({ code: "slack_auth" });
    const g = await onlyGroup();
    expect(g.slack_root_ts).not.toBeNull();
    expect(g.opened_notified_at).toBeNull();
    expect(await sync(T0)).toMatchObject({ dms: 1 });
  });
});

describe("untrusted text", () => {
  it("a hostile error message renders safely and within Slack's limits", async () => {
    const hostile = `<!channel> @here <!here> <script>alert(1)</script> \`\`\` ${"é😀\u0301ש".repeat(2500)}`;
    await ingest(T0, [row({ occurred_at: T0, error_message: hostile, job_name: "<!everyone>" })]);
    const s = await sync(T0);
    // The fake validates Block Kit limits like Slack: a post over them would have fallen back to text.
    expect(s).toMatchObject({ posted: 1, text_fallbacks: 0 });
    const messages = [...fake.messages(CHANNEL), ...fake.dmsTo("UALICE")];
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      // No control sequence survives: every < and > of the input arrives escaped.
      for (const text of mrkdwnTexts(m)) expect(text).not.toMatch(/<!(channel|here|everyone)|<script>/);
    }
    expect(mrkdwnTexts(fake.rootMessages(CHANNEL)[0] as never).join("\n")).toContain("&lt;!channel&gt;");
  });
});

describe("interactions", () => {
  it("SLACK_INTERACTIVE switches the root from a link button to action buttons", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const actionIds = () =>
      JSON.stringify(fake.rootMessages(CHANNEL)[0]?.blocks).match(/observability_[a-z0-9_]+/g) ?? [];
    expect(actionIds()).toEqual(["observability_open_ui"]);
    config = { ...config, slack: { ...config.slack, interactive: true } };
    const s = await sync(T0);
    expect(s).toMatchObject({ updated: 1 });
    expect(actionIds()).toEqual(
      expect.arrayContaining(["observability_ack", "observability_snooze_1h", "observability_close"]),
    );
  });

  it("acknowledge from a button acts as the mapped user and returns the re-rendered root", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    await sync(T0);
    const g = await onlyGroup();
    const payload = {
      type: "block_actions",
      user: { id: "UBOB" },
      actions: [{ action_id: "observability_ack", value: g.id }],
    };
    const result = await handleSlackInteraction(`payload=${encodeURIComponent(JSON.stringify(payload))}`, {
      db: t.db,
      config,
      now: new Date(addHours(T0, 1)),
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.userId).toBe("bob");
    expect(result.group.status).toBe("acknowledged");
    expect(allText(result.message as never)).toContain("Acknowledged");
    expect(allText(result.message as never)).toContain("<@UBOB>");
    const last = (await listActivity(t.db, g.id)).at(-1);
    expect(last).toMatchObject({ action: "acknowledged", actor_type: "user", actor_user_id: "bob" });

    // The next run of any job shows it in Slack.
    const s = await sync(addHours(T0, 1));
    expect(s).toMatchObject({ updated: 1, thread_replies: 1 });

    const again = await handleSlackInteraction(payload, { db: t.db, config, now: new Date(addHours(T0, 2)) });
    expect(again).toMatchObject({ ok: false });
    if (!again.ok) expect(again.message).toContain("already acknowledged");
  });

  it("snooze and close buttons; unknown users act under their Slack id; junk is refused", async () => {
    await ingest(T0, [row({ occurred_at: T0 })]);
    const g = await onlyGroup();
    const click = (actionId: string, user = "UALICE") => ({
      type: "block_actions",
      user: { id: user },
      actions: [{ action_id: actionId, value: g.id }],
    });
    const now = new Date(addHours(T0, 1));
    const snoozed = await handleSlackInteraction(click("observability_snooze_4h"), { db: t.db, config, now });
    expect(snoozed.ok && snoozed.group.snoozed_until).toBe(addHours(T0, 5));
    const closed = await handleSlackInteraction(click("observability_close", "UNOBODY"), {
      db: t.db,
      config,
      now,
    });
    expect(closed.ok && closed.userId).toBe("slack:UNOBODY");
    expect(closed.ok && closed.group.status).toBe("closed");
    expect(await handleSlackInteraction("not json", { db: t.db, config, now })).toMatchObject({ ok: false });
    expect(await handleSlackInteraction(click("something_else"), { db: t.db, config, now })).toMatchObject({
      ok: false,
    });
  });
});
