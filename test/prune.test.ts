/** prune: retention in bounded batches, never the signal an active group points to. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { PRUNE_BATCH, pruneJob } from "../src/jobs/prune.js";
import { runJob } from "../src/jobs/run-job.js";
import { createLogger } from "../src/log.js";
import { createTestDatabase, type TestDatabase } from "./support/db.js";
import { row } from "./support/signals.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const NOW = new Date("2024-08-01T00:00:00Z");

it("deletes old signals and processed inbox rows in batches, keeping what active groups point to", async () => {
  // An active group whose only signal is old (kept), a closed group's old signals (gone), recent ones (kept).
  await ingestSignalBatch(t.db, [row({ occurred_at: "2024-04-01T00:00:00Z", job_name: "still_failing" })], {
    now: new Date("2024-04-01T00:00:00Z"),
    reopenWindowHours: 24,
    appBaseUrl: undefined,
  });
  await ingestSignalBatch(t.db, [row({ occurred_at: "2024-07-30T00:00:00Z", job_name: "recent" })], {
    now: new Date("2024-07-30T00:00:00Z"),
    reopenWindowHours: 24,
    appBaseUrl: undefined,
  });
  // Many more old signals than one batch holds, for a group that is closed.
  const old = PRUNE_BATCH * 2 + 123;
  await t.db.query(
    `INSERT INTO reporting.notification_signal (id, occurred_at, source, signal_type, severity, fingerprint)
     SELECT gen_random_uuid(), '2024-03-01T00:00:00Z'::timestamptz + i * interval '1 second', 'bulk', 'x', 'error', 'f-closed'
     FROM generate_series(1, $1::int) AS i`,
    [old],
  );
  await t.db.query(
    `INSERT INTO reporting.notification_signal_inbox (source, payload, processed_at) VALUES
       ('push', '{}'::jsonb, '2024-03-01T00:00:00Z'), ('push', '{}'::jsonb, NULL), ('push', '{}'::jsonb, '2024-07-31T00:00:00Z')`,
  );
  const config = loadConfig({ SIGNAL_RETENTION_DAYS: "90" });
  const r = await runJob(pruneJob, {
    db: t.db,
    config,
    log: createLogger({ level: "silent", secrets: [] }),
    now: NOW,
    runId: randomUUID(),
    slack: null,
    close: async () => undefined,
  });
  expect(r.summary).toMatchObject({
    signals_deleted: old,
    inbox_rows_deleted: 1,
    cutoff: "2024-05-03T00:00:00.000Z",
  });
  expect((r.summary as { batches: number }).batches).toBeGreaterThanOrEqual(4);
  const left = await t.db.query<{ job_name: string | null }>(
    "SELECT job_name FROM reporting.notification_signal ORDER BY job_name",
  );
  expect(left.map((x) => x.job_name)).toEqual(["recent", "still_failing"]);
  const inbox = await t.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM reporting.notification_signal_inbox",
  );
  expect(inbox[0]?.n).toBe(2);
  // Nothing more to do the second time.
  const again = await runJob(pruneJob, {
    db: t.db,
    config,
    log: createLogger({ level: "silent", secrets: [] }),
    now: NOW,
    runId: randomUUID(),
    slack: null,
    close: async () => undefined,
  });
  expect(again.summary).toMatchObject({ signals_deleted: 0, inbox_rows_deleted: 0 });
});

it("keeps the last signal of acknowledged and snoozed groups too, and deletes the older ones of active groups", async () => {
  await t.db.exec("TRUNCATE reporting.notification_signal, reporting.notification_signal_group CASCADE");
  const opts = (at: string) => ({ now: new Date(at), reopenWindowHours: 24, appBaseUrl: undefined });
  for (const job of ["acked", "snoozed", "closed"]) {
    await ingestSignalBatch(
      t.db,
      [
        row({ occurred_at: "2024-03-01T00:00:00Z", job_name: job }),
        row({ occurred_at: "2024-03-02T00:00:00Z", job_name: job }),
      ],
      opts("2024-03-02T00:00:00Z"),
    );
  }
  await t.db.exec(`
    UPDATE reporting.notification_signal_group SET status = 'acknowledged' WHERE job_name = 'acked';
    UPDATE reporting.notification_signal_group SET status = 'snoozed', snoozed_until = '2024-09-01' WHERE job_name = 'snoozed';
    UPDATE reporting.notification_signal_group SET status = 'closed', closed_at = '2024-03-03' WHERE job_name = 'closed';
  `);
  const r = await runJob(pruneJob, {
    db: t.db,
    config: loadConfig({ SIGNAL_RETENTION_DAYS: "90" }),
    log: createLogger({ level: "silent", secrets: [] }),
    now: NOW,
    runId: randomUUID(),
    slack: null,
    close: async () => undefined,
  });
  // acked and snoozed keep their last signal (the 2 March one); the closed group keeps nothing.
  expect(r.summary).toMatchObject({ signals_deleted: 4 });
  const left = await t.db.query<{ job_name: string; occurred_at: Date }>(
    "SELECT job_name, occurred_at FROM reporting.notification_signal ORDER BY job_name",
  );
  expect(left.map((x) => [x.job_name, new Date(x.occurred_at).toISOString()])).toEqual([
    ["acked", "2024-03-02T00:00:00.000Z"],
    ["snoozed", "2024-03-02T00:00:00.000Z"],
  ]);
});
