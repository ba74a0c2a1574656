import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listGroups } from "../src/db/groups.js";
import { type IngestSummary, ingestJsonLines } from "../src/sources/jsonl.js";
import { createTestDatabase, type TestDatabase } from "./support/db.js";
import { signal } from "./support/signals.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe("ingestJsonLines", () => {
  it("commits batch by batch, in input order, and reports bad lines without stopping", async () => {
    const lines = [
      JSON.stringify(
        signal({ job_name: "stream_job", occurred_at: "2024-05-01T10:00:00Z", severity: "warning" }),
      ),
      JSON.stringify(signal({ job_name: "stream_job", occurred_at: "2024-05-01T10:01:00Z" })),
      "[1, 2]",
      JSON.stringify(
        signal({ job_name: "stream_job", occurred_at: "2024-05-01T10:02:00Z", severity: "critical" }),
      ),
      JSON.stringify(signal({ job_name: "stream_job", occurred_at: "2024-05-01T10:03:00Z" })),
      JSON.stringify(signal({ job_name: "stream_job", occurred_at: "2024-05-01T10:04:00Z" })),
    ];
    const progress: IngestSummary[] = [];
    const rejected: number[] = [];
    const summary = await ingestJsonLines(t.db, Readable.from([`${lines.join("\r\n")}\n`]), {
      now: new Date("2024-05-01T11:00:00Z"),
      reopenWindowHours: 24,
      appBaseUrl: undefined,
      batchSize: 2,
      onBatch: (s) => progress.push({ ...s }),
      onRejected: (r) => rejected.push(r.line),
    });
    expect(progress.map((p) => p.inserted)).toEqual([2, 4, 5]);
    expect(progress.map((p) => p.opened)).toEqual([1, 1, 1]);
    expect(rejected).toEqual([3]);
    expect(summary).toMatchObject({
      received: 6,
      inserted: 5,
      rejected: 1,
      opened: 1,
      attached: 4,
      escalated: 1,
    });
    expect(summary.rejections[0]?.reason).toBe(
      "expected a JSON object with the signal's fields, got an array",
    );
    const groups = (await listGroups(t.db, { limit: 100 })).filter((g) => g.job_name === "stream_job");
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ count_total: 5, current_severity: "critical" });
  });
});

describe("ingestJsonLines when a batch fails", () => {
  it("says which line the unstored batch starts at and how much is committed; a re-run completes it", async () => {
    const lines = [1, 2, 3, 4].map((i) =>
      JSON.stringify(
        signal({ job_name: i === 3 ? "refused_job" : "partial_job", dedup_key: `partial-${i}` }),
      ),
    );
    const options = {
      now: new Date("2024-05-01T11:00:00Z"),
      reopenWindowHours: 24,
      appBaseUrl: undefined,
      batchSize: 2,
    };
    await t.db.query(
      "ALTER TABLE reporting.notification_signal ADD CONSTRAINT refuse CHECK (job_name <> 'refused_job')",
    );
    await expect(ingestJsonLines(t.db, Readable.from([lines.join("\n")]), options)).rejects.toMatchObject({
      code: "ingest_batch_failed",
      message: expect.stringMatching(
        /^the batch starting at line 3 was not stored \(.*refuse.*\); 2 signals before it/,
      ),
    });
    await t.db.query("ALTER TABLE reporting.notification_signal DROP CONSTRAINT refuse");
    const again = await ingestJsonLines(t.db, Readable.from([lines.join("\n")]), options);
    expect(again).toMatchObject({ inserted: 2, duplicates: 2 });
  });
});
