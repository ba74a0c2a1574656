/** Operator views: `runs list`, and the notifier watching itself (stale sources in the digest). */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { insertJobRun } from "../src/db/job-runs.js";
import { sendDailyDigest } from "../src/jobs/daily_digest.js";
import { createLogger } from "../src/log.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

let t: TestDatabase;
let dir: string;
beforeAll(async () => {
  t = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "observability-ops-"));
});
afterAll(async () => {
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("runs list", () => {
  it("shows the recorded runs, newest first, filtered by job (instances included)", async () => {
    const env = {
      OBSERVABILITY_DATA_DIR: join(dir, "state"),
      ...(testBackend() === "postgres" ? { DATABASE_URL: t.url ?? "" } : {}),
    };
    await runCli(["run", "slack_sync", "--now", "2024-05-01T10:00:00Z"], { env });
    await runCli(["run", "prune", "--now", "2024-05-01T11:00:00Z"], { env });
    const all = await runCli(["runs", "list", "--json"], { env });
    expect(all.code).toBe(0);
    const runs = JSON.parse(all.stdout) as { job_id: string; status: string; started_at: string }[];
    expect(runs.map((r) => r.job_id)).toEqual(["prune", "slack_sync"]);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    const one = await runCli(["runs", "list", "--job", "slack_sync"], { env });
    expect(one.stdout).toContain("slack_sync");
    expect(one.stdout).not.toContain("prune");
    const bad = await runCli(["runs", "show"], { env });
    expect(bad.code).toBe(2);
  });
});

describe("stale sources", () => {
  it("the digest says which configured source has not ingested successfully for too long", async () => {
    await t.db.exec("TRUNCATE reporting.notification_job_run, reporting.notification_digest");
    await insertJobRun(t.db, {
      id: randomUUID(),
      jobId: "ingest_airflow:prod",
      startedAt: new Date("2024-04-30T08:00:00Z"),
      status: "succeeded",
    });
    await t.db.query("UPDATE reporting.notification_job_run SET finished_at = started_at");
    const config = loadConfig({
      AIRFLOW_BASE_URL: "https://airflow.example.com",
      AIRFLOW_TOKEN: "t0ken-abc",
      DQ_DBT_ARTIFACTS_DIR: "/data/dbt",
      SOURCE_STALE_HOURS: "6",
    });
    const r = await sendDailyDigest(
      {
        db: t.db,
        config,
        log: createLogger({ level: "silent", secrets: [] }),
        now: new Date("2024-05-01T09:30:00Z"),
        runId: randomUUID(),
        close: async () => undefined,
      },
      { dryRun: true, target: null },
    );
    const text = JSON.stringify(r.would_send);
    expect(text).toContain("ingest_airflow:prod");
    expect(text).toContain("ingest_dq");
  });
});
