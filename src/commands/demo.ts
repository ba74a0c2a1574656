/**
 * `observability demo`: a simulated day with no services. The built-in fakes (Slack, Airflow, CloverDX) serve
 * the bundled sample data in examples/demo/ on loopback; the real jobs run against them on a fresh embedded
 * database at injected times; what Slack then holds is written as JSON and as an HTML page.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, loadConfig } from "../config.js";
import type { AgencyOwner } from "../core/routing.js";
import type { Db } from "../db/db.js";
import { applyUserAction } from "../db/group-actions.js";
import { listGroups } from "../db/groups.js";
import { upsertOwnership } from "../db/ownership.js";
import { ObservabilityError } from "../errors.js";
import {
  type FakeDagInput,
  type FakeDagRunInput,
  type FakeImportErrorInput,
  type FakeLogKey,
  type FakeTaskInstanceInput,
  startFakeAirflow,
} from "../fakes/airflow.js";
import { type FakeExecutionInput, startFakeCloverdx } from "../fakes/cloverdx.js";
import { type FakeMessage, type FakeSlack, startFakeSlack } from "../fakes/slack.js";
import { DIGEST_METADATA_EVENT } from "../jobs/daily_digest.js";
import { findJob } from "../jobs/registry.js";
import { runJob } from "../jobs/run-job.js";
import { createLogger, type Logger } from "../log.js";
import { createRuntime, openDatabase } from "../runtime.js";
import { type DemoOutbox, renderDemoPage } from "./demo-page.js";
import type { CommandIo } from "./io.js";

export const DEFAULT_DEMO_DIR = join(".observability", "demo");
/** examples/demo/ of the checkout: two levels up from src/commands/ and from dist/commands/ alike. */
const SAMPLE_DIR = fileURLToPath(new URL("../../examples/demo/", import.meta.url));

const TOKEN = "xoxb-demo-token";
const CHANNEL = { id: "C0DATAALERTS", name: "data-alerts" };
const TIME_ZONE = "Europe/Berlin";

interface AirflowBatch {
  dagRuns: FakeDagRunInput[];
  taskInstances: FakeTaskInstanceInput[];
}

interface AirflowSample extends AirflowBatch {
  dags: FakeDagInput[];
  logs: { key: FakeLogKey; lines: string[] }[];
  importErrors: FakeImportErrorInput[];
  /** Served from the afternoon on: the run that recovers a failure. */
  recovery: AirflowBatch;
}

interface OwnershipSample {
  agencies: AgencyOwner[];
  users: { user_id: string; slack_user_id: string; name: string }[];
}

/** A step of the simulated day: a job, or something a person does. */
type Step =
  | { at: string; job: string }
  | { at: string; acknowledge: { jobName: string; userId: string } }
  | { at: string; airflowRecovers: true };

const DAY_1 = "2024-05-01";
const DAY_2 = "2024-05-02";
const STEPS: readonly Step[] = [
  { at: `${DAY_1}T08:00:00Z`, job: "ingest_airflow" },
  { at: `${DAY_1}T08:00:00Z`, job: "ingest_cloverdx" },
  { at: `${DAY_1}T08:00:00Z`, job: "ingest_dq" },
  { at: `${DAY_1}T10:00:00Z`, job: "reminder_dispatcher" },
  { at: `${DAY_1}T10:20:00Z`, acknowledge: { jobName: "orders_daily", userId: "alice" } },
  { at: `${DAY_1}T10:20:00Z`, job: "slack_sync" },
  { at: `${DAY_1}T16:30:00Z`, job: "reminder_dispatcher" },
  { at: `${DAY_1}T17:00:00Z`, airflowRecovers: true },
  { at: `${DAY_1}T17:00:00Z`, job: "ingest_airflow" },
  // The sources are ingested every few minutes in production: keep them fresh before the digest.
  { at: `${DAY_2}T07:00:00Z`, job: "ingest_airflow" },
  { at: `${DAY_2}T07:00:00Z`, job: "ingest_cloverdx" },
  { at: `${DAY_2}T07:00:00Z`, job: "ingest_dq" },
  { at: `${DAY_2}T07:05:00Z`, job: "daily_digest" },
];

function readSample<T>(name: string): T {
  const path = join(SAMPLE_DIR, name);
  if (!existsSync(path)) {
    throw new ObservabilityError(
      "demo_data_missing",
      `the demo's sample data is missing (${path}); run the demo from a checkout of the repository`,
    );
  }
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export interface DemoResult {
  indexHtml: string;
  outboxJson: string;
}

/** Runs the simulated day into `outDir` (its previous demo output is removed first). */
export async function runDemo(io: CommandIo, outDir: string = DEFAULT_DEMO_DIR): Promise<DemoResult> {
  const dir = resolve(outDir);
  const stateDir = join(dir, "state");
  const indexHtml = join(dir, "index.html");
  const outboxJson = join(dir, "slack-outbox.json");
  // Only what the demo itself writes is removed: --out may name a directory that holds other files.
  for (const path of [stateDir, indexHtml, outboxJson]) rmSync(path, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const airflowSample = readSample<AirflowSample>("airflow.json");
  const cloverSample = readSample<{ executions: FakeExecutionInput[] }>("cloverdx.json");
  const ownership = readSample<OwnershipSample>("ownership.json");

  let simulatedNow = Date.parse(STEPS[0]?.at ?? `${DAY_1}T08:00:00Z`);
  const slack = await startFakeSlack({ tokens: [TOKEN], channels: [CHANNEL.id], clock: () => simulatedNow });
  const airflow = await startFakeAirflow({ version: "v1" });
  const clover = await startFakeCloverdx();
  let db: Db | undefined;
  try {
    seedAirflow(airflow, airflowSample);
    for (const e of cloverSample.executions) clover.addExecution(e);

    const config = loadConfig({
      LOG_LEVEL: io.env.LOG_LEVEL ?? "warn",
      OBSERVABILITY_DATA_DIR: stateDir,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SHARED_CHANNEL_ID: CHANNEL.id,
      SLACK_API_URL: slack.url,
      APP_BASE_URL: "https://observability.example.com",
      NOTIFICATION_TIMEZONE: TIME_ZONE,
      AIRFLOW_BASE_URL: airflow.url,
      AIRFLOW_API_VERSION: "v1",
      AIRFLOW_USERNAME: "admin",
      AIRFLOW_PASSWORD: "admin",
      AIRFLOW_INSTANCE: "prod",
      CLOVERDX_BASE_URL: clover.url,
      CLOVERDX_USERNAME: "clover",
      CLOVERDX_PASSWORD: "clover",
      CLOVERDX_INSTANCE: "prod",
      CLOVERDX_AGENCY_RULES: "ACME_ETL=acme,GLOBEX_BILLING=globex",
      DQ_DBT_ARTIFACTS_DIR: join(SAMPLE_DIR, "dbt"),
    });
    const log = createLogger({
      level: config.logLevel,
      secrets: config.secrets,
      base: { command: "demo" },
      destination: io.stderr,
    });
    db = await openDatabase(config, log);
    await upsertOwnership(db, { agencyOwners: ownership.agencies, slackUsers: ownership.users });

    const timeline: DemoOutbox["timeline"] = [];
    for (const step of STEPS) {
      simulatedNow = Date.parse(step.at);
      const entry = await runStep(step, { db, config, log, io, airflow, sample: airflowSample });
      timeline.push({ at: step.at, ...entry });
      io.stderr.write(`demo: ${step.at} ${entry.step}: ${entry.outcome}\n`);
    }

    const outbox = collectOutbox(slack, ownership, timeline);
    writeFileSync(outboxJson, `${JSON.stringify(outbox, null, 2)}\n`);
    writeFileSync(indexHtml, renderDemoPage(outbox));
    return { indexHtml, outboxJson };
  } finally {
    await db?.close();
    await Promise.all([slack.close(), airflow.close(), clover.close()]);
  }
}

function seedAirflow(airflow: Awaited<ReturnType<typeof startFakeAirflow>>, sample: AirflowSample): void {
  for (const dag of sample.dags) airflow.addDag(dag);
  for (const run of sample.dagRuns) airflow.addDagRun(run);
  for (const ti of sample.taskInstances) airflow.addTaskInstance(ti);
  for (const { key, lines } of sample.logs) airflow.setLog(key, { text: lines.join("\n") });
  airflow.setImportErrors(sample.importErrors);
}

async function runStep(
  step: Step,
  ctx: {
    db: Db;
    config: Config;
    log: Logger;
    io: CommandIo;
    airflow: Awaited<ReturnType<typeof startFakeAirflow>>;
    sample: AirflowSample;
  },
): Promise<{ step: string; outcome: string; summary?: unknown }> {
  const now = new Date(step.at);
  if ("airflowRecovers" in step) {
    for (const run of ctx.sample.recovery.dagRuns) ctx.airflow.addDagRun(run);
    for (const ti of ctx.sample.recovery.taskInstances) ctx.airflow.addTaskInstance(ti);
    const dags = [...new Set(ctx.sample.recovery.dagRuns.map((r) => r.dag_id))].join(", ");
    return { step: "Airflow: a later run succeeds", outcome: dags };
  }
  if ("acknowledge" in step) {
    const { jobName, userId } = step.acknowledge;
    const groups = await listGroups(ctx.db, { statuses: ["open"], limit: 1000 });
    const group = groups.find((g) => g.job_name === jobName);
    if (group === undefined) throw new Error(`demo: no open group for ${jobName} to acknowledge`);
    await applyUserAction(ctx.db, group.id, { kind: "acknowledge" }, { now, userId });
    return { step: `${userId} acknowledges ${jobName}`, outcome: "acknowledged" };
  }
  const job = findJob(step.job);
  if (job === undefined) throw new Error(`demo: unknown job ${step.job}`);
  const runtime = await createRuntime(ctx.config, ctx.log, { now, db: ctx.db });
  const outcome = await runJob(job, {
    ...runtime,
    log: ctx.log.child({ job: job.id, run_id: runtime.runId }),
    ...(ctx.io.stopSignal ? { stopSignal: ctx.io.stopSignal } : {}),
  });
  if (outcome.status === "failed") {
    throw new ObservabilityError(
      "demo_failed",
      `demo: ${job.id} at ${step.at} failed: ${JSON.stringify(outcome.summary)}`,
    );
  }
  return { step: job.id, outcome: outcome.status, summary: outcome.summary };
}

function collectOutbox(
  slack: FakeSlack,
  ownership: OwnershipSample,
  timeline: DemoOutbox["timeline"],
): DemoOutbox {
  const message = (m: FakeMessage) => ({
    ts: m.ts,
    time: new Date(Number(m.ts.split(".")[0]) * 1000).toISOString(),
    text: m.text,
    blocks: m.blocks ?? null,
    edited: m.edited,
  });
  return {
    workspace: "Acme Data Platform",
    timeZone: TIME_ZONE,
    channel: CHANNEL,
    users: ownership.users,
    timeline,
    channelMessages: slack.rootMessages(CHANNEL.id).map((root) => ({
      ...message(root),
      digest: root.metadata?.event_type === DIGEST_METADATA_EVENT,
      replies: slack.threadReplies(CHANNEL.id, root.ts).map(message),
    })),
    dms: ownership.users
      .map((u) => ({ ...u, messages: slack.dmsTo(u.slack_user_id).map(message) }))
      .filter((u) => u.messages.length > 0),
  };
}
