/**
 * Slack delivery through the command line, as a Kubernetes Job runs it: the fake Slack over HTTP, the
 * configuration from the environment, one line on stderr when something is wrong.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

const TOKEN = "xoxb-cli-secret-token";
let t: TestDatabase | undefined;
let dataDir: string;
let fake: FakeSlack;
let env: Record<string, string>;

const line = (overrides: Record<string, unknown> = {}) =>
  `${JSON.stringify({
    source: "cli-slack",
    signal_type: "task_failed",
    severity: "error",
    occurred_at: "2024-05-01T10:00:00Z",
    agency_id: "a1",
    job_name: "nightly_load",
    error_class: "RuntimeError",
    error_message: "boom <!channel>",
    ...overrides,
  })}\n`;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "observability-slack-cli-"));
  if (testBackend() === "postgres") t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  fake = await startFakeSlack({ tokens: [TOKEN] });
  n += 1;
  const state = join(dataDir, `state-${n}`);
  env = { OBSERVABILITY_DATA_DIR: state, ...(t ? { DATABASE_URL: t.url ?? "" } : {}) };
  await t?.db.exec("TRUNCATE reporting.notification_signal, reporting.notification_signal_group CASCADE");
});
afterEach(async () => {
  await fake.close();
});

const slackEnv = () => ({
  ...env,
  SLACK_BOT_TOKEN: TOKEN,
  SLACK_SHARED_CHANNEL_ID: "C0SHARED",
  SLACK_API_URL: fake.url,
});

describe("Slack through the CLI", () => {
  it("ingest ends with a Slack sync, and run slack_sync afterwards has nothing to do", async () => {
    const ingested = await runCli(["ingest", "--file", "-", "--now", "2024-05-01T10:05:00Z"], {
      env: slackEnv(),
      stdin: line(),
    });
    expect(ingested.code).toBe(0);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ opened: 1, slack: { mode: "slack", posted: 1 } });
    expect(fake.rootMessages("C0SHARED")).toHaveLength(1);

    fake.resetCalls();
    const synced = await runCli(["run", "slack_sync", "--now", "2024-05-01T10:10:00Z"], { env: slackEnv() });
    expect(synced.code).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({
      job: "slack_sync",
      status: "succeeded",
      summary: { slack: { posted: 0, updated: 0, unchanged: 1 } },
    });
    expect(fake.calls).toHaveLength(0);
  });

  it("a revoked token: exit 1, one line naming the cause and the fix, no secret, nothing lost", async () => {
    fake.revokeToken(TOKEN);
    const r = await runCli(["ingest", "--file", "-", "--now", "2024-05-01T10:05:00Z"], {
      env: slackEnv(),
      stdin: line(),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const errorLines = r.stderr.split("\n").filter((l) => l.startsWith("observability:"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain("token_revoked");
    expect(errorLines[0]).toContain("SLACK_BOT_TOKEN");
    expect(r.stderr).not.toContain(TOKEN);

    // The signals are in; a later run with a working token delivers them.
    const list = await runCli(["groups", "list", "--json"], { env });
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const fresh = await startFakeSlack({ tokens: [TOKEN] });
    try {
      const again = await runCli(["run", "slack_sync", "--now", "2024-05-01T10:10:00Z"], {
        env: { ...slackEnv(), SLACK_API_URL: fresh.url },
      });
      expect(again.code).toBe(0);
      expect(fresh.rootMessages("C0SHARED")).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it("run slack_sync with a rejected token fails the run and records why", async () => {
    fake.revokeToken(TOKEN);
    await runCli(["ingest", "--file", "-"], { env: slackEnv(), stdin: line() });
    const r = await runCli(["run", "slack_sync"], { env: slackEnv() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("token_revoked");
    if (t) {
      const runs = await t.db.query<{ status: string; error: string }>(
        "SELECT status, error FROM reporting.notification_job_run WHERE job_id = 'slack_sync'",
      );
      expect(runs.map((x) => x.status)).toContain("failed");
      expect(runs.find((x) => x.status === "failed")?.error).toContain("token_revoked");
    }
  });

  it("a token without a channel is a configuration error (exit 2)", async () => {
    const r = await runCli(["run", "slack_sync"], { env: { ...env, SLACK_BOT_TOKEN: TOKEN } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SLACK_SHARED_CHANNEL_ID is not set");
  });

  it("without a token, messages go to the local outbox and one log line says so", async () => {
    // Automatic on the embedded database; with DATABASE_URL only when asked for (see the next test).
    const outboxEnv = { ...env, ...(t ? { SLACK_OUTBOX: "true" } : {}) };
    const r = await runCli(["ingest", "--file", "-", "--now", "2024-05-01T10:05:00Z"], {
      env: outboxEnv,
      stdin: line(),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ slack: { mode: "outbox", posted: 1 } });
    const outbox = join(env.OBSERVABILITY_DATA_DIR ?? "", "slack-outbox.jsonl");
    expect(existsSync(outbox)).toBe(true);
    const lines = readFileSync(outbox, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ method: "chat.postMessage", channel: "outbox:shared" });
    expect(JSON.stringify(lines[0])).not.toContain("<!channel>");
    expect(r.stderr.split("\n").filter((l) => l.includes("SLACK_BOT_TOKEN is not set"))).toHaveLength(1);
    expect(fake.calls).toHaveLength(0);

    // A second run with nothing new writes nothing more.
    await runCli(["run", "slack_sync"], { env: outboxEnv });
    expect(readFileSync(outbox, "utf8").trim().split("\n")).toHaveLength(lines.length);

    // Once a token is configured, the outbox's roots are not taken for Slack messages: they are posted.
    const real = await runCli(["run", "slack_sync"], { env: slackEnv() });
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ summary: { slack: { mode: "slack", reposted: 1 } } });
    expect(fake.rootMessages("C0SHARED")).toHaveLength(1);
  });

  it.skipIf(testBackend() !== "postgres")(
    "with DATABASE_URL and no token, delivery is off and nothing is marked as sent",
    async () => {
      const r = await runCli(["ingest", "--file", "-"], { env, stdin: line() });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        slack: { mode: "off", skipped: "SLACK_BOT_TOKEN is not set" },
      });
      expect(r.stderr).toContain("Slack delivery is off");
      const rows = await t?.db.query<{ slack_root_ts: string | null; opened_notified_at: Date | null }>(
        "SELECT slack_root_ts, opened_notified_at FROM reporting.notification_signal_group",
      );
      expect(rows).toEqual([{ slack_root_ts: null, opened_notified_at: null }]);
      const later = await runCli(["run", "slack_sync"], { env: slackEnv() });
      expect(later.code).toBe(0);
      expect(fake.rootMessages("C0SHARED")).toHaveLength(1);
    },
  );
});
