/** `observability doctor`: every check passes on a healthy setup, and each failing check says why. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeAirflow, startFakeAirflow } from "../src/fakes/airflow.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

const TOKEN = "xoxb-doctor-secret";
let t: TestDatabase | undefined;
let slack: FakeSlack;
let airflow: FakeAirflow;
let dir: string;
let n = 0;

beforeAll(async () => {
  if (testBackend() === "postgres") t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  slack = await startFakeSlack({ tokens: [TOKEN] });
  airflow = await startFakeAirflow({ version: "v2" });
  dir = mkdtempSync(join(tmpdir(), "observability-doctor-"));
  mkdirSync(join(dir, "dbt"));
});
afterEach(async () => {
  await slack.close();
  await airflow.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  n += 1;
  return {
    OBSERVABILITY_DATA_DIR: join(dir, `state-${n}`),
    ...(t ? { DATABASE_URL: t.url ?? "" } : {}),
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: "C0SHARED",
    SLACK_API_URL: slack.url,
    AIRFLOW_BASE_URL: airflow.url,
    AIRFLOW_USERNAME: "admin",
    AIRFLOW_PASSWORD: "admin",
    DQ_DBT_ARTIFACTS_DIR: join(dir, "dbt"),
    ...extra,
  };
}

const lines = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(6).split(/\s+/)[0] ?? "", l]),
  );

describe("observability doctor", () => {
  it("passes every check on a healthy setup (after the sources have run)", async () => {
    const e = env({ SOURCE_STALE_HOURS: "1000000" });
    // First a run of each source, so freshness has something to judge.
    await runCli(["run", "ingest_airflow"], { env: e });
    await runCli(["run", "ingest_dq"], { env: e });
    const r = await runCli(["doctor"], { env: e });
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
    for (const check of ["configuration", "database", "schema", "slack", "airflow", "dq", "freshness"]) {
      expect(r.stdout).toContain(check);
    }
  });

  it.each([
    ["configuration", { REMINDER_T2_HOURS: "abc" }, /REMINDER_T2_HOURS must be a positive number/],
    ["slack", { SLACK_BOT_TOKEN: "xoxb-wrong-one" }, /invalid_auth/],
    ["airflow", { AIRFLOW_PASSWORD: "wrong-pass" }, /rejected the credentials/],
    ["dq", { DQ_DBT_ARTIFACTS_DIR: "/no/such/dir" }, /cannot be read/],
    ["freshness", {}, /ingest_airflow\S* (has never succeeded|last succeeded at)/],
  ])("a failing %s check is one FAIL line with the fix, exit 1", async (check, extra, pattern) => {
    // Seen from years later, no source has ingested recently.
    const r = await runCli(["doctor", "--now", "2035-01-01T00:00:00Z"], { env: env(extra) });
    expect(r.code).toBe(1);
    const line = lines(r.stdout)[check];
    expect(line).toMatch(/^FAIL/);
    expect(line).toMatch(pattern);
    expect(r.stdout).not.toContain("wrong-pass");
    expect(r.stdout).not.toContain(TOKEN);
  });

  it("a channel the bot cannot read fails the slack check", async () => {
    slack.removeFromChannel("C0SHARED");
    const r = await runCli(["doctor", "--json"], { env: env() });
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout) as { check: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.check === "slack")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("invite the bot"),
    });
  });

  it.skipIf(testBackend() !== "postgres")(
    "an unreachable database and a missing schema each fail their check",
    async () => {
      const down = await runCli(["doctor"], {
        env: env({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" }),
      });
      expect(down.code).toBe(1);
      expect(lines(down.stdout).database).toMatch(/^FAIL/);
      await t?.db.exec("ALTER TABLE reporting.notification_digest RENAME TO notification_digest_old");
      try {
        const r = await runCli(["doctor"], { env: env() });
        expect(lines(r.stdout).schema).toMatch(/^FAIL.*db migrate/);
      } finally {
        await t?.db.exec("ALTER TABLE reporting.notification_digest_old RENAME TO notification_digest");
      }
    },
  );
});
