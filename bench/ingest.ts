/**
 * bench/ingest: 200,000 generated signals over 2,000 fingerprints into a real PostgreSQL, through the
 * grouping engine, next to a plain COPY of the same rows into notification_signal in the same run.
 *
 *   npm run bench:ingest            (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 *
 * Prints numbers; asserts nothing. Uses a scratch database `observability_bench`, dropped at the end.
 */

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { prepareSignal } from "../src/core/signal.js";
import type { SignalInput, SignalRow } from "../src/core/types.js";
import { ingestSignalBatch } from "../src/db/ingest.js";
import { migrate } from "../src/db/migrate.js";
import { openPostgres } from "../src/db/postgres.js";

const SIGNALS = Number(process.env.BENCH_SIGNALS ?? 200_000);
const FINGERPRINTS = Number(process.env.BENCH_FINGERPRINTS ?? 2_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const ADMIN = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = "observability_bench";
const START = Date.parse("2026-01-05T00:00:00Z");
const SPAN_MS = 12 * 3_600_000;

function generate(): SignalInput[] {
  const out: SignalInput[] = [];
  for (let i = 0; i < SIGNALS; i++) {
    const f = (i * 7_919) % FINGERPRINTS; // interleaved, so every batch touches many groups
    out.push({
      source: "bench",
      signal_type: "task_failed",
      severity: i % 97 === 0 ? "critical" : "error",
      occurred_at: new Date(START + Math.floor((i / SIGNALS) * SPAN_MS)).toISOString(),
      agency_id: f % 5 === 0 ? null : `agency-${f % 50}`,
      agency_slug: null,
      job_name: `dag_${f % 400}`,
      run_id: `scheduled__2026-01-05T${String(i % 24).padStart(2, "0")}:00:00+00:00`,
      task_id: `task_${f}`,
      stage: "PythonOperator",
      error_class: `Error${f}`,
      error_message: `task ${f} failed after ${i % 300} seconds: 1,${String(i % 1000).padStart(3, "0")} rows rejected`,
      dedup_key: `bench-${i}`,
      details: { try_number: 1 + (i % 3) },
    });
  }
  return out;
}

function copyText(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

const COLUMNS = [
  "id",
  "occurred_at",
  "source",
  "signal_type",
  "severity",
  "agency_id",
  "agency_slug",
  "job_name",
  "run_id",
  "task_id",
  "stage",
  "error_class",
  "error_message",
  "fingerprint",
  "summary",
  "details_json",
] as const satisfies readonly (keyof SignalRow)[];

async function copyRows(url: string, rows: SignalRow[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("TRUNCATE reporting.notification_signal, reporting.notification_signal_group CASCADE");
  const started = performance.now();
  const stream = client.query(
    copyFrom(`COPY reporting.notification_signal (${COLUMNS.join(", ")}) FROM STDIN`),
  );
  await pipeline(
    Readable.from(
      (function* () {
        for (const r of rows) yield `${COLUMNS.map((c) => copyText(r[c])).join("\t")}\n`;
      })(),
    ),
    stream,
  );
  const ms = performance.now() - started;
  await client.end();
  return ms;
}

async function main() {
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${NAME}`);
  const url = new URL(ADMIN);
  url.pathname = `/${NAME}`;
  const db = await openPostgres(url.toString());
  await migrate(db, { withCore: true });

  const inputs = generate();
  const now = new Date(START + SPAN_MS);
  const options = { now, reopenWindowHours: 24, appBaseUrl: "https://ops.example.com" };

  const t0 = performance.now();
  let inserted = 0;
  let opened = 0;
  let prepareMs = 0;
  for (let i = 0; i < inputs.length; i += BATCH) {
    const p0 = performance.now();
    const rows = inputs.slice(i, i + BATCH).map(prepareSignal);
    prepareMs += performance.now() - p0;
    const r = await ingestSignalBatch(db, rows, options);
    inserted += r.inserted;
    opened += r.opened;
  }
  const ingestMs = performance.now() - t0;
  const groups = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM reporting.notification_signal_group",
  );

  const t1 = performance.now();
  const again = await (async () => {
    let dup = 0;
    for (let i = 0; i < inputs.length; i += BATCH) {
      dup += (await ingestSignalBatch(db, inputs.slice(i, i + BATCH).map(prepareSignal), options)).duplicates;
    }
    return dup;
  })();
  const rerunMs = performance.now() - t1;
  await db.close();

  const prepared = inputs.map(prepareSignal);
  const copyMs = await copyRows(url.toString(), prepared);
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.end();

  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
  const report = {
    signals: SIGNALS,
    fingerprints: FINGERPRINTS,
    batch_size: BATCH,
    inserted,
    groups: groups[0]?.n,
    opened,
    ingest_seconds: +(ingestMs / 1000).toFixed(2),
    ingest_signals_per_second: rate(SIGNALS, ingestMs),
    of_which_prepare_seconds: +(prepareMs / 1000).toFixed(2),
    copy_seconds: +(copyMs / 1000).toFixed(2),
    copy_rows_per_second: rate(SIGNALS, copyMs),
    ingest_vs_copy: +(ingestMs / copyMs).toFixed(2),
    rerun_seconds: +(rerunMs / 1000).toFixed(2),
    rerun_duplicates: again,
  };
  console.log(JSON.stringify(report, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
