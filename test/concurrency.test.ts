import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignalRow } from "../src/core/types.js";
import type { Db } from "../src/db/db.js";
import { applyUserAction } from "../src/db/group-actions.js";
import { listGroups } from "../src/db/groups.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";
import { addHours, row } from "./support/signals.js";

// Parallel sessions need a real server: PGlite is a single connection.
const suite = testBackend() === "postgres" ? describe : describe.skip;

let t: TestDatabase;
beforeAll(async () => {
  if (testBackend() === "postgres") t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const T0 = "2024-05-01T10:00:00.000Z";
const KEYS = 24;

function key(i: number): { job_name: string; agency_id: string | null } {
  // A third of the keys have no agency: NULL must still group.
  return { job_name: `concurrent_job_${i % 8}`, agency_id: i % 3 === 0 ? null : `agency-${i % 3}` };
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

suite("parallel ingests on PostgreSQL", () => {
  it("end with one active group per key, exact counts, and no deadlock", async () => {
    const workers: Db[] = [t.db, await t.openAnother(), await t.openAnother(), await t.openAnother()];
    // Each worker sends batches over overlapping keys; a quarter of the signals are sent by two workers.
    const plans: SignalRow[][][] = workers.map((_, w) => {
      const random = rng(w + 1);
      return Array.from({ length: 12 }, (_, b) =>
        Array.from({ length: 60 }, (_, n) => {
          const k = Math.floor(random() * KEYS);
          const shared = n % 4 === 0;
          return row({
            ...key(k),
            error_message: `boom in step ${k}`,
            occurred_at: addHours(T0, random() * 2),
            severity: random() < 0.1 ? "critical" : "error",
            dedup_key: shared ? `shared-${b}-${n}-${k}` : `w${w}-${b}-${n}`,
          });
        }),
      );
    });
    const results = await Promise.all(
      workers.map(async (db, w) => {
        const out = [];
        for (const batch of plans[w] ?? []) {
          out.push(
            await ingestSignalBatch(db, batch, {
              now: new Date(addHours(T0, 3)),
              reopenWindowHours: 24,
              appBaseUrl: undefined,
            }),
          );
        }
        return out;
      }),
    );
    const flat = results.flat();
    const inserted = flat.reduce((n, r) => n + r.inserted, 0);
    const opened = flat.reduce((n, r) => n + r.opened, 0);

    const distinct = new Map<string, SignalRow>();
    for (const s of plans.flat(2)) distinct.set(s.id, s);
    expect(inserted).toBe(distinct.size);

    const groups = (await listGroups(t.db, { limit: 10_000 })).filter((g) =>
      g.job_name?.startsWith("concurrent_job_"),
    );
    const active = groups.filter((g) => g.status !== "closed");
    const perKey = new Map<string, number>();
    for (const g of active)
      perKey.set(`${g.agency_id}|${g.fingerprint}`, (perKey.get(`${g.agency_id}|${g.fingerprint}`) ?? 0) + 1);
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
    expect(active.length).toBe(
      new Set([...distinct.values()].map((s) => `${s.agency_id}|${s.fingerprint}`)).size,
    );
    expect(opened).toBe(active.length);
    expect(active.reduce((n, g) => n + g.count_total, 0)).toBe(distinct.size);

    const counts = await t.db.query<{ fingerprint: string; agency_id: string | null; n: number }>(
      `SELECT fingerprint, agency_id, count(*)::int AS n FROM reporting.notification_signal
       WHERE job_name LIKE 'concurrent_job_%' GROUP BY 1, 2`,
    );
    for (const c of counts) {
      const g = active.find((x) => x.fingerprint === c.fingerprint && x.agency_id === c.agency_id);
      expect(g?.count_total).toBe(c.n);
      expect(g?.count_24h).toBe(c.n);
    }
    const activity = await t.db.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM reporting.notification_signal_group_activity a
       JOIN reporting.notification_signal_group g ON g.id = a.signal_group_id
       WHERE g.job_name LIKE 'concurrent_job_%' GROUP BY 1`,
    );
    expect(activity.find((a) => a.action === "opened")?.n).toBe(active.length);
  });

  it("reopen races: parallel recurrences of a closed group reopen it exactly once", async () => {
    const workers: Db[] = [t.db, await t.openAnother(), await t.openAnother(), await t.openAnother()];
    const base = { job_name: "reopen_race", agency_id: null, error_message: "connection reset" };
    await ingestSignalBatch(t.db, [row({ ...base, occurred_at: T0 })], {
      now: new Date(T0),
      reopenWindowHours: 24,
      appBaseUrl: undefined,
    });
    const [g] = (await listGroups(t.db, { limit: 10_000 })).filter((x) => x.job_name === "reopen_race");
    if (!g) throw new Error("group missing");
    await applyUserAction(t.db, g.id, { kind: "close" }, { now: new Date(addHours(T0, 1)), userId: "u" });
    const results = await Promise.all(
      workers.map((db, w) =>
        ingestSignalBatch(db, [row({ ...base, occurred_at: addHours(T0, 2), dedup_key: `race-${w}` })], {
          now: new Date(addHours(T0, 2)),
          reopenWindowHours: 24,
          appBaseUrl: undefined,
        }),
      ),
    );
    expect(results.reduce((n, r) => n + r.reopened, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.attached, 0)).toBe(3);
    const groups = (await listGroups(t.db, { limit: 10_000 })).filter((x) => x.job_name === "reopen_race");
    expect(groups.map((x) => [x.id, x.status, x.count_total])).toEqual([[g.id, "open", 5]]);
  });
});
