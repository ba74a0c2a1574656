/**
 * SIGTERM (pod eviction, activeDeadlineSeconds) against a real process: the run stops at a batch boundary,
 * nothing is half-written, the run record says interrupted, and the job lock is released.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { JOB_LOCK_NAMESPACE } from "../src/db/locks.js";
import { INBOX_BATCH_SIZE } from "../src/jobs/ingest_inbox.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROWS = 40 * INBOX_BATCH_SIZE;

let t: TestDatabase;
beforeAll(async () => {
  if (testBackend() === "postgres") t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

// PostgreSQL only: the test and the child process share the database.
it.skipIf(testBackend() !== "postgres")(
  "a run killed mid-drain commits or rolls back whole batches, records itself interrupted and frees its lock",
  async () => {
    await t.db.query(
      `INSERT INTO reporting.notification_signal_inbox (source, payload)
       SELECT 'push', jsonb_build_object(
         'signal_type', 'task_failed', 'severity', 'error', 'occurred_at', '2024-05-01T10:00:00Z',
         'job_name', 'job_' || (i % 50), 'error_message', 'failure ' || (i % 7), 'dedup_key', 'sigterm-' || i)
       FROM generate_series(1, $1::int) AS i`,
      [ROWS],
    );
    const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "run", "ingest_inbox"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: t.url ?? "",
        LOG_LEVEL: "warn",
        OBSERVABILITY_DATA_DIR: "/tmp/obs-sigterm",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Wait until the first batch has committed, then ask the process to stop.
    const processed = async () =>
      (
        await t.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM reporting.notification_signal_inbox WHERE processed_at IS NOT NULL",
        )
      )[0]?.n ?? 0;
    for (let i = 0; i < 600 && (await processed()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    const code = await exited;

    expect(code).toBe(1);
    expect(stderr).toContain("interrupted by a stop signal");
    const done = await processed();
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(ROWS);
    // Whole batches only, and every processed row's signal is in.
    expect(done % INBOX_BATCH_SIZE).toBe(0);
    const signals = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_signal",
    );
    expect(signals[0]?.n).toBe(done);
    const runs = await t.db.query<{ status: string; error: string }>(
      "SELECT status, error FROM reporting.notification_job_run WHERE job_id = 'ingest_inbox'",
    );
    expect(runs.map((r) => r.status)).toEqual(["interrupted"]);
    // The lock is free: the next run can start at once.
    const release = await t.db.tryAdvisoryLock(`${JOB_LOCK_NAMESPACE}ingest_inbox`);
    expect(release).not.toBeNull();
    await release?.();
  },
);
