/**
 * bench/normalize: cost of normalizeErrorMessage on ~50,000 distinct realistic error messages (Airflow,
 * Postgres, HTTP, Kubernetes, dbt, CloverDX, ... shapes with varying numbers, ids, timestamps and IPs).
 *
 *   node --import tsx bench/normalize.ts [module]
 *
 * `module` (optional) is a path to another build of normalize (e.g. an older copy) to compare against; by
 * default src/core/normalize.ts is measured. Every message is distinct, so a cache would not help here.
 * Env: BENCH_MESSAGES (default 50,000), BENCH_ROUNDS (default 5). Prints numbers; asserts nothing.
 */

import { pathToFileURL } from "node:url";

type Normalize = (message: string | null | undefined) => string;

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Deterministic PRNG (mulberry32), so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = rng(20_240_102);
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
const hexChars = (n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[int(0, 15)];
  return s;
};
const k8s = (n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += "bcdfghjklmnpqrstvwxz2456789"[int(0, 26)];
  return s;
};
const word = (): string =>
  pick(["orders", "customers", "payments", "events", "sessions", "invoices", "items", "users", "accounts"]);
const uuid = (): string =>
  `${hexChars(8)}-${hexChars(4)}-4${hexChars(3)}-${pick(["8", "9", "a", "b"])}${hexChars(3)}-${hexChars(12)}`;
const ip = (): string => `${int(10, 192)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const count = (): string => {
  const n = int(0, 3) === 0 ? int(0, 99) : int(100, 5_000_000);
  return int(0, 2) === 0 ? thousands(n) : String(n);
};
const at = (): Date => new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 6 * 365 * 86_400_000));
const iso = (d: Date): string => d.toISOString();
const logTs = (d: Date): string => iso(d).replace("T", " ").replace(".", ",").replace("Z", "");
const basicTs = (d: Date): string => iso(d).slice(0, 19).replace(/[-:]/g, "");
const ymd = (d: Date): string => iso(d).slice(0, 10).replace(/-/g, "");
const javaDate = (d: Date): string =>
  `${pick(["Mon", "Tue", "Wed", "Thu", "Fri"])} ${pick(["Jan", "Feb", "Mar", "Oct"])} ${pad(d.getUTCDate())} ` +
  `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} CET ${d.getUTCFullYear()}`;
const runKind = (): string => pick(["scheduled", "manual", "backfill", "dataset_triggered"]);

const TEMPLATES: readonly (() => string)[] = [
  () => `task ${int(1, 9999)} failed after ${int(1, 300)} seconds: ${count()} rows rejected`,
  () =>
    `connection to server at "${ip()}", port ${pick(["5432", "6543", "5433"])} failed: timeout after ${int(1, 60)} seconds`,
  () =>
    `ERROR: duplicate key value violates unique constraint "${word()}_pkey" DETAIL: Key (id)=(${int(1, 999_999)}) already exists.`,
  () =>
    `[${logTs(at())}] {taskinstance.py:${int(100, 3000)}} ERROR - Task failed with exception\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: ${int(100, 99_999)}`,
  () =>
    `Marking task as FAILED. dag_id=${word()}_daily, task_id=load_${word()}, run_id=${runKind()}__${iso(at()).replace("Z", "+00:00")}, execution_date=${basicTs(at())}, start_date=${basicTs(at())}`,
  () =>
    `Failure in test not_null_${word()}_customer_id (models/staging/schema.yml)\n  Got ${count()} results, configured to fail if != 0`,
  () =>
    `HTTPSConnectionPool(host='${ip()}', port=${int(30_000, 60_000)}): Max retries exceeded with url: /v1/${word()}?page=${int(1, 500)} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f${hexChars(10)}>: Failed to establish a new connection: [Errno 111] Connection refused'))`,
  () =>
    `${pick(["429 Client Error: Too Many Requests", "503 Server Error: Service Unavailable", "500 Server Error: Internal Server Error"])} for url: https://api.example.com/v1/${word()}?cursor=${hexChars(16)}&limit=${int(10, 1000)}`,
  () =>
    `Pod ${word()}-load-${k8s(10)}-${k8s(5)} returned a failure: OOMKilled (exit code 137) after ${int(1, 5000)}${pick(["ms", "s", " seconds", " minutes"])}`,
  () => `Back-off restarting failed container base in pod etl-${k8s(9)}-${k8s(5)}_airflow(${uuid()})`,
  () =>
    `0/${int(2, 30)} nodes are available: ${int(1, 30)} Insufficient memory. preemption: 0/${int(2, 30)} nodes are available: ${int(1, 30)} No preemption victims found for incoming pod.`,
  () =>
    `pods "etl-run-${k8s(5)}-${k8s(4)}" is forbidden: exceeded quota: compute-resources, requested: limits.memory=${int(1, 8)}Gi, used: limits.memory=${int(8, 15)}Gi, limited: limits.memory=16Gi`,
  () =>
    `Database Error in model stg_${word()} (models/staging/stg_${word()}.sql)\n  000904 (42000): SQL compilation error: error line ${int(1, 200)} at position ${int(1, 80)}\n  invalid identifier '${word().toUpperCase()}_TOTAL'`,
  () =>
    `Parsing error: Unexpected data in record ${count()}, field ${int(1, 20)} ("amount"), metadata "${word()}"; value: '${hexChars(int(2, 8))}'`,
  () =>
    `Component [DBOutputTable:DB_OUTPUT${int(1, 9)}] finished with status ERROR. Caused by: org.postgresql.util.PSQLException: Connection to db.internal:5432 refused. Execution started ${javaDate(at())}, run ${int(1, 99_999)}.`,
  () => `java.io.FileNotFoundException: /data/in/${word()}_${ymd(at())}.csv (No such file or directory)`,
  () =>
    `request ${uuid()} for ${word()}${int(1, 999)}@example.com failed at ${iso(at())}: 503 Service Unavailable`,
  () => `dial tcp ${ip()}:${int(32_768, 60_999)}: connect: connection refused`,
  () =>
    `deadlock detected\nDETAIL:  Process ${int(100, 99_999)} waits for ShareLock on transaction ${int(1000, 9_999_999)}; blocked by process ${int(100, 99_999)}.`,
  () =>
    `null value in column "customer_id" of relation "${word()}" violates not-null constraint\nDETAIL:  Failing row contains (${int(1, 99_999)}, null, ${logTs(at()).slice(0, 19)}+00, ${int(0, 999)}.${pad(int(0, 99))}).`,
  () =>
    `expect_column_values_to_not_be_null: ${count()} unexpected values found. ${int(0, 99)}.${int(0, 9)}% of ${count()} total rows.`,
  () =>
    `OSError: [Errno 28] No space left on device: '/tmp/tmp${hexChars(8)}/part-${pad(int(0, 99_999), 5)}.csv'`,
  () =>
    `s3://bucket/${word()}/${iso(at()).slice(0, 10).replace(/-/g, "/")}/part-${pad(int(0, 9999), 4)}.parquet not found`,
  () =>
    `application_${at().getTime()}_${pad(int(1, 9999), 4)} failed on ip-${ip().replace(/\./g, "-")}.ec2.internal`,
  () =>
    `ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=${int(5, 120)})`,
  () =>
    `Sensor has timed out; run duration of ${int(60, 9000)}.${pad(int(0, 99))} seconds exceeds the specified timeout of 3600.0.`,
  () =>
    `ERROR 1045 (28000): Access denied for user '${word()}'@'${ip()}' (using password: YES) after ${int(1, 9)} attempts`,
  () =>
    `Job took ${int(1, 90)}h${int(1, 59)}m; retried ${int(1, 9)} times; commit ${hexChars(7)} on worker airflow-worker-${int(0, 20)}`,
];

function generate(n: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const message = pick(TEMPLATES)();
    if (seen.has(message)) continue;
    seen.add(message);
    out.push(message);
  }
  return out;
}

async function load(): Promise<Normalize> {
  const target = process.argv[2];
  const url = target ? pathToFileURL(target).href : new URL("../src/core/normalize.ts", import.meta.url).href;
  const mod = (await import(url)) as { normalizeErrorMessage: Normalize };
  return mod.normalizeErrorMessage;
}

function run(normalize: Normalize, messages: readonly string[]): number {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (const message of messages) sink += normalize(message).length;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e3;
  if (sink < 0) console.log(sink); // keep the result alive
  return elapsed / messages.length;
}

const normalize = await load();
const messages = generate(MESSAGES);
const chars = messages.reduce((sum, m) => sum + m.length, 0);
console.log(`messages: ${messages.length}, mean length: ${(chars / messages.length).toFixed(1)} chars`);

// Warm-up on a separate set of distinct messages (so measured calls are not cache hits either way).
run(
  normalize,
  generate(Math.min(10_000, MESSAGES)).map((m) => `warm-up ${m}`),
);
const results: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // A fresh distinct set every round: a memoising implementation gets no hits.
  const set = round === 0 ? messages : messages.map((m) => `${m} #${round}`);
  const us = run(normalize, set);
  results.push(us);
  console.log(
    `round ${round + 1}: ${us.toFixed(2)} µs/call, ${Math.round(1e6 / us).toLocaleString("en")} calls/s`,
  );
}
const sorted = [...results].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
console.log(`median: ${median.toFixed(2)} µs/call, ${Math.round(1e6 / median).toLocaleString("en")} calls/s`);

// Long inputs: linear behaviour on 10,000-character messages.
const long = Array.from({ length: 200 }, () => {
  let s = "";
  while (s.length < 10_000) s += `${pick(TEMPLATES)()}\n`;
  return s.slice(0, 10_000);
});
const longUs = run(normalize, long);
console.log(
  `10,000-char messages: ${longUs.toFixed(1)} µs/call (${(longUs / 100).toFixed(2)} µs per 100 chars)`,
);
