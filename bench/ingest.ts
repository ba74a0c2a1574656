/**
 * bench/ingest: 200,000 generated signals over 2,000 fingerprints into a real PostgreSQL through the
 * product's own path (JSON lines, validation, normalisation and fingerprint, grouping engine), next to a
 * plain COPY of the same (already prepared) rows into notification_signal in the same run.
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
import { migrate } from "../src/db/migrate.js";
import { openPostgres } from "../src/db/postgres.js";
import { EXPECTED_COLUMNS } from "../src/db/schema-check.js";
import { DEFAULT_BATCH_SIZE, ingestJsonLines } from "../src/sources/jsonl.js";

const SIGNALS = Number(process.env.BENCH_SIGNALS ?? 200_000);
const FINGERPRINTS = Number(process.env.BENCH_FINGERPRINTS ?? 2_000);
const BATCH = Number(process.env.BENCH_BATCH ?? DEFAULT_BATCH_SIZE);
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

/** The lines as a stream of ~1 MB chunks, as a file would arrive. */
function* chunks(lines: string[]): Generator<string> {
  let buffer = "";
  for (const line of lines) {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 20) {
      yield buffer;
      buffer = "";
    }
  }
  if (buffer) yield buffer;
}

function copyText(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/** Every column we write (created_at is the server's default). */
const COLUMNS = (EXPECTED_COLUMNS.notification_signal ?? []).filter(
  (c) => c !== "created_at",
) as (keyof SignalRow)[];

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
  const jsonl = inputs.map((x) => JSON.stringify(x));
  const stream = () => Readable.from(chunks(jsonl));
  const now = new Date(START + SPAN_MS);
  const options = { now, reopenWindowHours: 24, appBaseUrl: "https://ops.example.com", batchSize: BATCH };

  // The product's path: JSON lines -> validation -> normalisation + fingerprint -> grouping engine.
  const t0 = performance.now();
  const first = await ingestJsonLines(db, stream(), options);
  const ingestMs = performance.now() - t0;
  const groups = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM reporting.notification_signal_group",
  );

  const t1 = performance.now();
  const again = await ingestJsonLines(db, stream(), options);
  const rerunMs = performance.now() - t1;
  await db.close();

  const p0 = performance.now();
  const prepared = inputs.map(prepareSignal);
  const prepareMs = performance.now() - p0;
  const copyMs = await copyRows(url.toString(), prepared);
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.end();

  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
  const report = {
    signals: SIGNALS,
    fingerprints: FINGERPRINTS,
    batch_size: BATCH,
    inserted: first.inserted,
    groups: groups[0]?.n,
    opened: first.opened,
    ingest_seconds: +(ingestMs / 1000).toFixed(2),
    ingest_signals_per_second: rate(SIGNALS, ingestMs),
    prepare_only_seconds: +(prepareMs / 1000).toFixed(2),
    copy_seconds: +(copyMs / 1000).toFixed(2),
    copy_rows_per_second: rate(SIGNALS, copyMs),
    ingest_vs_copy: +(ingestMs / copyMs).toFixed(2),
    rerun_seconds: +(rerunMs / 1000).toFixed(2),
    rerun_duplicates: again.duplicates,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(report, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
