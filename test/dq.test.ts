/**
 * ingest_dq end to end: fixture directories of dbt, Great Expectations and Soda results (copied into a
 * temporary directory as they would arrive on a volume), an Elementary results table, the real database and
 * the Slack sync against the fake Slack.
 */
import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../src/config.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { ingestDqJob } from "../src/jobs/ingest_dq.js";
import { runJob } from "../src/jobs/run-job.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/dq/", import.meta.url));
const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";

let t: TestDatabase;
let slack: FakeSlack;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  slack = await startFakeSlack({ tokens: [TOKEN] });
  dir = mkdtempSync(join(tmpdir(), "observability-dq-"));
  for (const sub of ["dbt", "gx", "soda"]) mkdirSync(join(dir, sub));
  await t.db.exec(`
    TRUNCATE reporting.notification_signal, reporting.notification_signal_group, reporting.notification_dq_ledger, reporting.notification_dq_test_pass,
             reporting.notification_ingest_cursor, reporting.notification_job_run CASCADE;
    TRUNCATE reporting.notification_agency_owner, reporting.notification_user_slack_map;
    INSERT INTO reporting.notification_agency_owner VALUES ('a-acme', 'acme', 'bob', NULL, NULL);
    INSERT INTO reporting.notification_user_slack_map VALUES ('alice', 'UALICE'), ('bob', 'UBOB');
  `);
});
afterEach(async () => {
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(extra: Record<string, string> = {}): Config {
  return loadConfig({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: slack.url,
    DQ_DBT_ARTIFACTS_DIR: join(dir, "dbt"),
    DQ_GX_RESULTS_DIR: join(dir, "gx"),
    DQ_SODA_RESULTS_DIR: join(dir, "soda"),
    ...extra,
  });
}

async function run(now: string, cfg: Config = config()) {
  const log = createLogger({ level: "silent", secrets: [] });
  const rt: Runtime = {
    db: t.db,
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
  return runJob(ingestDqJob, rt);
}

const arrive = (from: string, to: string) => cpSync(join(FIXTURES, from), join(dir, to), { recursive: true });

async function groups() {
  return t.db.query<{
    signal_type: string;
    stage: string;
    status: string;
    agency_id: string | null;
    assigned_to_user_id: string | null;
  }>(
    `SELECT g.signal_type, s.stage, g.status, g.agency_id, g.assigned_to_user_id
     FROM reporting.notification_signal_group g JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     ORDER BY s.stage`,
  );
}

describe("dbt artifacts", () => {
  it("failures become signals and groups, a re-run is a no-op, a later pass recovers", async () => {
    arrive("dbt/inv-v5-failures", "dbt/2024-03-05");
    const first = await run("2024-03-05T07:00:00.000Z");
    expect(first.status).toBe("succeeded");
    expect(first.summary).toMatchObject({
      artifacts: { read: 1, failed: 0 },
      signals: { inserted: 5, opened: 5 },
    });
    const g = await groups();
    expect(g.map((x) => [x.signal_type, x.stage])).toEqual([
      ["dq_model_error", "model.shop.payments_daily"],
      ["dq_test_failed", "test.shop.assert_order_totals_positive"],
      ["dq_test_failed", "test.shop.not_null_orders_order_id.3b2f1a9c0d"],
      [
        "dq_test_failed",
        "test.shop.relationships_orders_customer_id__customer_id__ref_customers_.5d0e3b7c12",
      ],
      ["dq_test_warned", "test.shop.unique_customers_email.a81c22e4f1"],
    ]);
    expect(slack.rootMessages(CHANNEL)).toHaveLength(5);

    slack.resetCalls();
    const again = await run("2024-03-05T07:10:00.000Z");
    expect(again.summary).toMatchObject({
      artifacts: { read: 0, skipped_unchanged: 1 },
      signals: { inserted: 0 },
    });
    expect(slack.calls).toHaveLength(0);

    arrive("dbt/inv-v6-recovered", "dbt/2024-03-06");
    const next = await run("2024-03-06T07:00:00.000Z");
    expect(next.summary).toMatchObject({ artifacts: { read: 1, skipped_unchanged: 1 }, recovered: 4 });
    expect((await groups()).filter((x) => x.status !== "closed").map((x) => x.stage)).toEqual([
      "model.shop.payments_daily",
    ]);
  });

  it("a pass read by a run that did not get to its closes still recovers the group in the next run", async () => {
    arrive("dbt/inv-v5-failures", "dbt/2024-03-05");
    await run("2024-03-05T07:00:00.000Z");
    arrive("dbt/inv-v6-recovered", "dbt/2024-03-06");
    // As if the run had stopped after ingesting the artifact: here, recovery is off for it.
    const without = await run("2024-03-06T07:00:00.000Z", config({ DQ_RECOVERY: "false" }));
    expect(without.summary).toMatchObject({ artifacts: { read: 1 }, recovered: 0 });
    // The next run reads nothing new (the artifact is in the ledger), yet finds the recorded passes.
    const next = await run("2024-03-06T07:10:00.000Z");
    expect(next.summary).toMatchObject({ artifacts: { read: 0, skipped_unchanged: 2 }, recovered: 4 });
  });

  it("agency and owner come from the dbt meta", async () => {
    arrive("dbt/inv-v5-failures", "dbt/inv");
    await run("2024-03-05T07:00:00.000Z");
    const g = await groups();
    const notNull = g.find((x) => x.stage.startsWith("test.shop.not_null_orders_order_id"));
    expect(notNull).toMatchObject({ agency_id: "a-acme", assigned_to_user_id: "alice" });
    expect(slack.dmsTo("UALICE").length).toBeGreaterThan(0);
  });

  it("bad input is reported with its path, not recorded, retried once fixed; the other files still go in", async () => {
    arrive("dbt/bad-truncated", "dbt/bad-truncated");
    arrive("dbt/bad-version", "dbt/bad-version");
    arrive("dbt/bad-no-manifest", "dbt/bad-no-manifest");
    arrive("dbt/inv-v5-failures", "dbt/good");
    const r = await run("2024-03-05T07:00:00.000Z");
    expect(r.status).toBe("failed");
    const problems = (r.summary as { problems: { path: string; reason: string }[] }).problems;
    expect(problems.map((p) => p.path.replace(dir, "")).sort()).toEqual([
      "/dbt/bad-no-manifest/run_results.json",
      "/dbt/bad-truncated/run_results.json",
      "/dbt/bad-version/run_results.json",
    ]);
    expect(problems.find((p) => p.path.includes("bad-version"))?.reason).toMatch(/v99|schema/);
    expect(r.summary).toMatchObject({ artifacts: { read: 1, failed: 3 }, signals: { inserted: 5 } });
    // Fixed: the manifest arrives; the next run reads that invocation (the others still fail).
    cpSync(
      join(FIXTURES, "dbt/inv-v5-failures/manifest.json"),
      join(dir, "dbt/bad-no-manifest/manifest.json"),
    );
    const fixed = await run("2024-03-05T07:10:00.000Z");
    expect(fixed.summary).toMatchObject({ artifacts: { read: 1, failed: 2, skipped_unchanged: 1 } });
  });
});

describe("a file that cannot be read", () => {
  it("is reported with its own path; the other invocations still go in", async () => {
    arrive("dbt/inv-v5-failures", "dbt/good");
    // A link whose target is gone (a half-synced volume).
    mkdirSync(join(dir, "dbt/broken"), { recursive: true });
    symlinkSync(join(dir, "nowhere.json"), join(dir, "dbt/broken/run_results.json"));
    const r = await run("2024-03-05T07:00:00.000Z");
    expect(r.status).toBe("failed");
    const s = r.summary as { problems: { path: string }[]; signals: { inserted: number } };
    expect(s.problems.map((p) => p.path.replace(dir, ""))).toEqual(["/dbt/broken/run_results.json"]);
    expect(s.signals.inserted).toBe(5);
  });
});

describe("Great Expectations and Soda results", () => {
  it("failures become signals; a later passing run recovers them; a malformed file is reported", async () => {
    arrive("gx/v0-orders-failures.json", "gx/v0-orders-failures.json");
    arrive("soda/scan-orders-failures.json", "soda/scan-orders-failures.json");
    arrive("soda/bad-malformed.json", "soda/bad-malformed.json");
    const r = await run("2024-03-06T00:00:00.000Z");
    expect(r.status).toBe("failed");
    const s = r.summary as { signals: { inserted: number }; problems: { path: string }[] };
    expect(s.signals.inserted).toBeGreaterThan(2);
    expect(s.problems.map((p) => p.path.replace(dir, ""))).toEqual(["/soda/bad-malformed.json"]);
    const open = (await groups()).filter((x) => x.status === "open").length;
    arrive("gx/v0-orders-recovered.json", "gx/v0-orders-recovered.json");
    arrive("soda/scan-orders-recovered.json", "soda/scan-orders-recovered.json");
    const later = await run("2024-03-07T00:00:00.000Z");
    expect((later.summary as { recovered: number }).recovered).toBeGreaterThan(0);
    expect((await groups()).filter((x) => x.status === "open").length).toBeLessThan(open);
  });
});

describe("a results table (Elementary)", () => {
  it.skipIf(testBackend() !== "postgres")(
    "reads new rows incrementally with an overlap; a re-run is a no-op; a later pass recovers",
    async () => {
      await t.db.exec(`
        CREATE SCHEMA IF NOT EXISTS analytics;
        DROP TABLE IF EXISTS analytics.elementary_test_results;
        CREATE TABLE analytics.elementary_test_results (
          id text PRIMARY KEY, test_execution_id text, test_unique_id text, model_unique_id text,
          detected_at timestamp, schema_name text, table_name text, column_name text, test_type text,
          test_name text, status text, test_results_description text, failures bigint, owners text, tags text,
          severity text);
        INSERT INTO analytics.elementary_test_results VALUES
          ('r1', 'e1', 'test.shop.not_null_orders_id', 'model.shop.orders', '2024-03-05 06:00:00', 'analytics', 'orders',
           'id', 'dbt_test', 'not_null_orders_id', 'fail', 'Got 12 results, configured to fail if != 0', 12,
           '["alice"]', '["critical"]', 'ERROR');
      `);
      const cfg = loadConfig({
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SHARED_CHANNEL_ID: CHANNEL,
        SLACK_API_URL: slack.url,
        DQ_RESULTS_DATABASE_URL: t.url ?? "",
        DQ_RESULTS_TABLE: "analytics.elementary_test_results",
      });
      const first = await run("2024-03-05T07:00:00.000Z", cfg);
      expect(first.summary).toMatchObject({ table_rows: 1, signals: { inserted: 1, opened: 1 } });
      expect((await groups())[0]).toMatchObject({
        signal_type: "dq_test_failed",
        assigned_to_user_id: "alice",
      });
      const again = await run("2024-03-05T07:05:00.000Z", cfg);
      expect(again.summary).toMatchObject({ signals: { inserted: 0 } });
      await t.db.exec(`INSERT INTO analytics.elementary_test_results VALUES
        ('r2', 'e2', 'test.shop.not_null_orders_id', 'model.shop.orders', '2024-03-05 08:00:00', 'analytics', 'orders',
         'id', 'dbt_test', 'not_null_orders_id', 'pass', NULL, 0, '["alice"]', NULL, 'ERROR')`);
      const later = await run("2024-03-05T08:10:00.000Z", cfg);
      expect(later.summary).toMatchObject({ recovered: 1 });
    },
  );

  it.skipIf(testBackend() !== "postgres")(
    "more rows sharing one time than a page holds are all read, and an owner the user map does not know is not used",
    async () => {
      await t.db.exec(`
        CREATE SCHEMA IF NOT EXISTS analytics;
        DROP TABLE IF EXISTS analytics.burst;
        CREATE TABLE analytics.burst (
          id text PRIMARY KEY, test_execution_id text, test_unique_id text, model_unique_id text,
          detected_at timestamp, schema_name text, table_name text, column_name text, test_type text,
          test_name text, status text, test_results_description text, failures bigint, owners text, tags text,
          severity text);
        INSERT INTO analytics.burst
        SELECT 'r' || lpad(i::text, 6, '0'), 'e' || i, 'test.shop.t_' || (i % 40), 'model.shop.m', '2024-03-05 06:00:00',
               'analytics', 'm', NULL, 'dbt_test', 't_' || (i % 40), 'fail', 'Got ' || i || ' results', i,
               '["nobody@example.com"]', NULL, 'ERROR'
        FROM generate_series(1, 12000) AS i;
      `);
      const cfg = loadConfig({
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SHARED_CHANNEL_ID: CHANNEL,
        SLACK_API_URL: slack.url,
        DQ_RESULTS_DATABASE_URL: t.url ?? "",
        DQ_RESULTS_TABLE: "analytics.burst",
      });
      const r = await run("2024-03-05T07:00:00.000Z", cfg);
      expect(r.summary).toMatchObject({ table_rows: 12000, signals: { inserted: 12000, opened: 40 } });
      const owners = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM reporting.notification_signal_group WHERE assigned_to_user_id = 'nobody@example.com'",
      );
      expect(owners[0]?.n).toBe(0);
      // The next run re-reads only the overlap and moves on.
      const again = await run("2024-03-05T07:10:00.000Z", cfg);
      expect(again.summary).toMatchObject({ signals: { inserted: 0 } });
    },
  );

  it("an unreadable results database is reported, not fatal for the file sources", async () => {
    arrive("dbt/inv-v5-failures", "dbt/inv");
    const r = await run(
      "2024-03-05T07:00:00.000Z",
      config({ DQ_RESULTS_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }),
    );
    expect(r.status).toBe("failed");
    expect(r.summary).toMatchObject({ signals: { inserted: 5 } });
    const problems = (r.summary as { problems: { path: string; reason: string }[] }).problems;
    expect(problems[0]?.reason).toMatch(/cannot read the results table/);
  });
});

describe("configuration", () => {
  it("nothing to read is a configuration error", async () => {
    const error = await run("2024-03-05T07:00:00.000Z", loadConfig({})).catch((e: unknown) => e);
    expect((error as { exitCode?: number }).exitCode).toBe(2);
    writeFileSync(join(dir, "x"), "");
  });
});
