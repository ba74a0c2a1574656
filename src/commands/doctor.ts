/**
 * `observability doctor`: one line per check, PASS or FAIL with the fix, exit 1 if any check fails.
 * Configuration, database, schema, Slack token and channel, each configured source with its credentials,
 * and whether each source has ingested recently.
 */
import { stat } from "node:fs/promises";
import { type Config, loadConfig, redactSecrets } from "../config.js";
import { findStaleSources } from "../core/staleness.js";
import type { Db } from "../db/db.js";
import { readResultsTable } from "../db/dq.js";
import { openPostgres } from "../db/postgres.js";
import { checkSchema } from "../db/schema-check.js";
import { connectAirflow, resolveAirflow } from "../jobs/ingest_airflow.js";
import { connectCloverdx, resolveCloverdx } from "../jobs/ingest_cloverdx.js";
import { loadSourceHealth } from "../jobs/source-health.js";
import type { Logger } from "../log.js";
import { openDatabase } from "../runtime.js";
import { SlackCallError } from "../slack/errors.js";
import { createSlackTarget } from "../slack/index.js";
import type { CommandIo } from "./io.js";
import { writeJsonLine } from "./io.js";

export interface DoctorCheck {
  check: string;
  ok: boolean;
  detail: string;
}

function describe(error: unknown): string {
  if (error instanceof SlackCallError) return `Slack said ${error.slackError} on ${error.method}`;
  return error instanceof Error ? error.message : String(error);
}

async function attempt(checks: DoctorCheck[], check: string, fn: () => Promise<string>): Promise<boolean> {
  try {
    checks.push({ check, ok: true, detail: await fn() });
    return true;
  } catch (error) {
    checks.push({ check, ok: false, detail: describe(error) });
    return false;
  }
}

export async function runDoctor(
  env: CommandIo["env"],
  makeLogger: (config: Config) => Logger,
  now: Date | undefined,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let config: Config;
  try {
    config = loadConfig(env);
    checks.push({ check: "configuration", ok: true, detail: "every variable is valid" });
  } catch (error) {
    checks.push({ check: "configuration", ok: false, detail: describe(error) });
    return checks;
  }
  const log = makeLogger(config);
  let db: Db | undefined;
  const dbOk = await attempt(checks, "database", async () => {
    db = await openDatabase(config, log);
    await db.query("SELECT 1");
    return `reachable (${db.description})`;
  });
  if (dbOk && db !== undefined) {
    const open = db;
    await attempt(checks, "schema", async () => {
      const problems = await checkSchema(open);
      if (problems.length > 0) {
        throw new Error(
          `${problems.length} problem(s), e.g. ${problems[0]?.object}: ${problems[0]?.problem}; run \`observability db migrate\``,
        );
      }
      return "every table, column and index the code uses is present";
    });
  }
  const clock = now ?? new Date();
  await attempt(checks, "slack", async () => {
    const target = createSlackTarget({ config, log, now: clock });
    if (target === null)
      throw new Error("SLACK_BOT_TOKEN is not set: delivery is off; set it (and SLACK_SHARED_CHANNEL_ID)");
    if (target.api.kind === "outbox") return "no token: messages go to the local outbox (embedded database)";
    const who = await target.api.authTest();
    try {
      await target.api.checkChannel(target.channel);
    } catch (error) {
      throw new Error(
        `token works (bot ${who.userId ?? "?"}), but channel ${target.channel} cannot be read (${describe(error)}); invite the bot to it`,
      );
    }
    return `token works (bot ${who.userId ?? "?"}), channel ${target.channel} readable`;
  });
  if (config.airflow.baseUrl !== undefined) {
    await attempt(checks, "airflow", async () => {
      const resolved = resolveAirflow(config);
      const client = await connectAirflow(resolved);
      const errors = await client.listImportErrors();
      return `${client.where} answers (API ${client.version}, instance ${resolved.instance}, ${errors.length} import error(s))`;
    });
  }
  if (config.cloverdx.baseUrl !== undefined) {
    await attempt(checks, "cloverdx", async () => {
      const resolved = resolveCloverdx(config);
      const client = connectCloverdx(resolved);
      // A one-minute window: proves the URL, the credentials and the API, and reads almost nothing.
      await client.listStopped({ from: new Date(clock.getTime() - 60_000), to: clock });
      return `${client.where} answers (${client.api} API, instance ${resolved.instance})`;
    });
  }
  const dq = config.dq;
  for (const [name, dir] of [
    ["dq dbt artifacts", dq.dbtArtifactsDir],
    ["dq great expectations", dq.gxResultsDir],
    ["dq soda", dq.sodaResultsDir],
  ] as const) {
    if (dir === undefined) continue;
    await attempt(checks, name, async () => {
      const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          `${dir} cannot be read (${error.code ?? error.message}); check the path and the volume`,
        );
      });
      if (!info.isDirectory()) throw new Error(`${dir} is not a directory`);
      return `${dir} is readable`;
    });
  }
  if (dq.resultsDatabaseUrl !== undefined) {
    const url = dq.resultsDatabaseUrl;
    const table =
      dq.resultsTable ?? (dq.resultsPreset === "elementary" ? "elementary_test_results" : "dq_test_results");
    await attempt(checks, "dq results table", async () => {
      const source = await openPostgres(url, { max: 1, variable: "DQ_RESULTS_DATABASE_URL" });
      try {
        // Reads no row, but needs the table and every column the preset reads.
        await readResultsTable(source, {
          preset: dq.resultsPreset,
          table,
          position: { since: clock.toISOString() },
          limit: 0,
        });
      } catch (error) {
        throw new Error(
          `${table} cannot be read with the ${dq.resultsPreset} preset (${describe(error)}); check DQ_RESULTS_TABLE and DQ_RESULTS_PRESET`,
        );
      } finally {
        await source.close();
      }
      return `${table} has the columns the ${dq.resultsPreset} preset reads`;
    });
  }
  if (dbOk && db !== undefined) {
    const open = db;
    await attempt(checks, "freshness", async () => {
      const health = await loadSourceHealth(open, config, clock);
      const stale = findStaleSources(health, clock, config.sourceStaleHours);
      if (stale.length > 0) {
        throw new Error(
          `${stale.map((s) => `${s.source} ${s.lastSuccessAt === null ? "has never succeeded" : `last succeeded at ${s.lastSuccessAt}`}`).join("; ")} (threshold SOURCE_STALE_HOURS=${config.sourceStaleHours}); see \`observability runs list\``,
        );
      }
      return health.length === 0 ? "no source configured" : `${health.length} source run(s) fresh`;
    });
    await open.close();
  }
  // Never a secret in the report, whatever an error said.
  return checks.map((c) => ({ ...c, detail: redactSecrets(c.detail, config.secrets) }));
}

export function printDoctor(io: CommandIo, checks: readonly DoctorCheck[], json: boolean): number {
  if (json) writeJsonLine(io, checks);
  else
    for (const c of checks) io.stdout.write(`${c.ok ? "PASS" : "FAIL"}  ${c.check.padEnd(22)} ${c.detail}\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}
