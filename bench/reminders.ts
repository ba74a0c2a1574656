/**
 * bench/reminders: reminder_dispatcher over 100,000 open groups of which none is due, and daily_digest over
 * 100,000 open groups, on a real PostgreSQL. Prints time and peak memory (RSS); asserts nothing.
 *
 *   npm run bench:reminders          (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 *
 * Uses a scratch database `observability_bench_reminders`, dropped at the end. Targets (issue 5): the
 * dispatcher under 1 s, the digest under 2 s, both under 200 MB.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { migrate } from "../src/db/migrate.js";
import { openPostgres } from "../src/db/postgres.js";
import { sendDailyDigest } from "../src/jobs/daily_digest.js";
import { dispatchReminders } from "../src/jobs/reminder_dispatcher.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";

const GROUPS = Number(process.env.BENCH_GROUPS ?? 100_000);
const ADMIN = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = "observability_bench_reminders";
const NOW = new Date("2026-01-10T12:00:00Z");

async function main() {
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${NAME}`);
  const url = new URL(ADMIN);
  url.pathname = `/${NAME}`;
  const db = await openPostgres(url.toString());
  try {
    await migrate(db, { withCore: true });
    // 100,000 open groups, all escalated and reminded today already (nothing due), half with rolling counts
    // already at 0: the dispatcher's steady state.
    await db.query(
      `INSERT INTO reporting.notification_signal_group
         (id, fingerprint, status, current_severity, agency_id, agency_slug, job_name, signal_type, first_seen_at,
          last_seen_at, count_total, count_24h, count_24h_as_of, assigned_to_user_id, open_since, opened_notified_at,
          last_reminded_at, last_escalated_at, last_daily_reminder_date, ui_url)
       SELECT gen_random_uuid(), md5(i::text), 'open', CASE WHEN i % 7 = 0 THEN 'critical' ELSE 'error' END,
         'agency-' || (i % 50), 'agency' || (i % 50), 'dag_' || (i % 4000), 'task_failed',
         $1::timestamptz - (i % 500) * interval '1 hour', $1::timestamptz - interval '2 days', 1 + i % 90, 0,
         $1::timestamptz, 'user-' || (i % 300), $1::timestamptz - (i % 500 + 10) * interval '1 hour', $1::timestamptz,
         $1::timestamptz - interval '1 hour', $1::timestamptz - interval '3 hours', $2::date,
         'https://ops.example.com/signal-groups/' || i
       FROM generate_series(1, $3::int) AS i`,
      [NOW.toISOString(), "2026-01-10", GROUPS],
    );
    await db.exec("ANALYZE reporting.notification_signal_group");
    const config = loadConfig({ DATABASE_URL: url.toString(), NOTIFICATION_TIMEZONE: "UTC" });
    const runtime: Runtime = {
      db,
      config,
      log: createLogger({ level: "silent", secrets: [] }),
      now: NOW,
      runId: randomUUID(),
      close: async () => undefined,
    };

    const measure = async (label: string, fn: () => Promise<unknown>) => {
      global.gc?.();
      let peak = process.memoryUsage().rss;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 10);
      const t0 = performance.now();
      const result = await fn();
      const ms = performance.now() - t0;
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      console.log(`${label}: ${ms.toFixed(0)} ms, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
      return result;
    };
    const reminders = (await measure(`reminder_dispatcher over ${GROUPS} open groups, none due`, () =>
      dispatchReminders(runtime, { dryRun: false, target: null }),
    )) as { candidates: number };
    console.log(`  candidates examined: ${reminders.candidates}`);
    const digest = (await measure(`daily_digest over ${GROUPS} open groups (rendered, not posted)`, () =>
      sendDailyDigest(runtime, { dryRun: true, target: null }),
    )) as { groups_listed?: number };
    console.log(`  groups listed in the message: ${digest.groups_listed}`);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
