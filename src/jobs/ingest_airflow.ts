/**
 * ingest_airflow: pulls failures from one Airflow deployment (REST API v1 or v2) since its cursor, turns
 * them into signals, closes the groups of pipelines that recovered and of import errors that went away, and
 * drains the inbox rows Airflow callbacks pushed. One CronJob per deployment: each instance has its own name,
 * dedup-key prefix, cursor and run lock.
 *
 * Order of writes, so that a failure at any point loses nothing and half-writes nothing: (1) all signals of
 * the window in one transaction, (2) closes, each its own transaction, (3) the cursor. A run that fails
 * before (3) is simply repeated by the next one (signals are idempotent, closes re-evaluated).
 */
import { type AirflowSettings, type Config, DEFAULT_AIRFLOW_SEVERITIES } from "../config.js";
import { prepareSignal, signalId } from "../core/signal.js";
import type { SignalInput, SignalRow } from "../core/types.js";
import { advanceTimeCursor, readCursor } from "../db/cursors.js";
import { listPendingInboxJobNames } from "../db/inbox.js";
import { ingestSignalBatch, transactionWithRetry } from "../db/ingest.js";
import { findAgencyIdsBySlug } from "../db/ownership.js";
import { findExistingSignalIds } from "../db/signals.js";
import { closeGroupsAsSystem, listActiveSourceGroups, type SystemClose } from "../db/source-groups.js";
import { configError, throwIfStopped } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { type AgencyRules, parseAgencyRules, resolveAgencySlug } from "../sources/airflow/agency.js";
import { type AirflowClient, createAirflowClient, detectApiVersion } from "../sources/airflow/client.js";
import { type AirflowAuth, createAirflowHttp } from "../sources/airflow/http.js";
import { importErrorKey, importErrorSummary } from "../sources/airflow/import-errors.js";
import {
  AIRFLOW_SOURCE,
  type MapContext,
  mapDagRunFailure,
  mapImportError,
  mapSlaMiss,
  mapTaskFailure,
} from "../sources/airflow/map.js";
import type { AirflowDag, AirflowTaskInstance, LogError } from "../sources/airflow/types.js";
import { drainInbox } from "./ingest_inbox.js";
import type { JobDefinition, JobResult } from "./job.js";
import {
  type InboxCounts,
  instanceFromUrl,
  mapLimit,
  maxIso,
  pullJobResult,
  pullThenDrain,
  pullWindow,
  type SignalCounts,
  signalCounts,
} from "./source-pull.js";

export { instanceFromUrl };

const LOG_CONCURRENCY = 4;

export interface ResolvedAirflow {
  settings: AirflowSettings & { baseUrl: string };
  instance: string;
  auth: AirflowAuth;
  agencyRules: AgencyRules;
}

/** Everything the job needs from configuration, or one configuration error (exit 2) naming what to set. */
export function resolveAirflow(config: Config): ResolvedAirflow {
  const settings = config.airflow;
  if (settings.baseUrl === undefined) {
    throw configError(
      "AIRFLOW_BASE_URL is not set; set it to the Airflow web server / API server URL (e.g. https://airflow.example.com)",
    );
  }
  let auth: AirflowAuth;
  if (settings.token !== undefined) auth = { kind: "token", token: settings.token };
  else if (settings.username !== undefined && settings.password !== undefined) {
    auth =
      settings.apiVersion === "v1"
        ? { kind: "basic", username: settings.username, password: settings.password }
        : // v2 (and auto, decided later) exchange them for a JWT; see connectAirflow.
          { kind: "jwt", username: settings.username, password: settings.password };
  } else {
    throw configError(
      "Airflow credentials are not set; set AIRFLOW_USERNAME and AIRFLOW_PASSWORD, or AIRFLOW_TOKEN",
    );
  }
  const agencyRules = parseAgencyRules(settings.agencyRules, settings.agencyTagPrefix);
  return {
    settings: { ...settings, baseUrl: settings.baseUrl },
    instance: settings.instance ?? instanceFromUrl(settings.baseUrl),
    auth,
    agencyRules,
  };
}

/** The client for the configured (or detected) API version, with the matching authentication. */
export async function connectAirflow(
  resolved: ResolvedAirflow,
  options: { onPage?: (what: string, fetched: number, total: number) => void; retryDelayMs?: number } = {},
): Promise<AirflowClient> {
  const { settings } = resolved;
  const httpFor = (auth: AirflowAuth) =>
    createAirflowHttp({
      baseUrl: settings.baseUrl,
      auth,
      timeoutMs: settings.timeoutSeconds * 1000,
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    });
  let http = httpFor(resolved.auth);
  const version = settings.apiVersion === "auto" ? await detectApiVersion(http) : settings.apiVersion;
  // Username and password mean Basic auth on Airflow 2 and a JWT from /auth/token on Airflow 3.
  if (version === "v1" && resolved.auth.kind === "jwt") {
    http = httpFor({ kind: "basic", username: resolved.auth.username, password: resolved.auth.password });
  }
  return createAirflowClient(http, version, {
    pageLimit: settings.pageLimit,
    ...(options.onPage ? { onPage: options.onPage } : {}),
  });
}

function runKey(dagId: string, dagRunId: string): string {
  return `${dagId}\u0000${dagRunId}`;
}

function taskLabel(ti: AirflowTaskInstance): string {
  return ti.map_index >= 0 ? `${ti.task_id}[${ti.map_index}]` : ti.task_id;
}

export interface AirflowRunSummary {
  instance: string;
  api_version: string;
  window: { from: string; to: string };
  task_failures: number;
  dag_run_failures: number;
  import_errors: number;
  sla_misses: number;
  logs_missing: number;
  /** Logs that could not be read (5xx, permission, timeout): the signal is kept without error text. */
  logs_failed: number;
  signals: SignalCounts;
  recovered: number;
  import_errors_resolved: number;
  /** Closes that failed this run (tried again next run). */
  close_failures: number;
  cursor: string | null;
  inbox: InboxCounts;
}

/** Whether run/task `b` is later than the failure `a` (logical dates when both have one, else start times). */
function isLaterRun(
  b: { logical_date: string | null; start_date: string | null },
  failure: { logicalDate: string | null; lastSeenAt: string },
): boolean {
  if (b.logical_date !== null && failure.logicalDate !== null) {
    return Date.parse(b.logical_date) > Date.parse(failure.logicalDate);
  }
  return b.start_date !== null && Date.parse(b.start_date) > Date.parse(failure.lastSeenAt);
}

export async function ingestAirflow(runtime: Runtime, resolved: ResolvedAirflow): Promise<AirflowRunSummary> {
  const { log } = runtime;
  const { instance } = resolved;
  const cursorKey = `${AIRFLOW_SOURCE}:${instance}`;
  const state: { client: AirflowClient | null; dags: Map<string, AirflowDag | null> } = {
    client: null,
    dags: new Map(),
  };
  // Rows pushed by Airflow callbacks are drained even when the pull failed (the push does not need the API),
  // completed with the same agency rules as pulled signals.
  return pullThenDrain(
    () => pullAirflow(runtime, resolved, state),
    () => drainPushedRows(runtime, resolved, state, [AIRFLOW_SOURCE, cursorKey]),
    log,
    "could not drain the Airflow inbox rows",
  );
}

async function drainPushedRows(
  runtime: Runtime,
  resolved: ResolvedAirflow,
  state: { client: AirflowClient | null; dags: Map<string, AirflowDag | null> },
  sources: readonly string[],
): Promise<InboxCounts> {
  const { db, log } = runtime;
  const jobNames = await listPendingInboxJobNames(db, sources);
  if (jobNames.length === 0) return { received: 0, rejected: 0 };
  if (state.client !== null) {
    const client = state.client;
    const missing = jobNames.filter((j) => !state.dags.has(j));
    await mapLimit(missing, LOG_CONCURRENCY, async (id) => {
      state.dags.set(id, await client.getDag(id).catch(() => null));
    });
  }
  const slugOf = (dagId: string) =>
    resolveAgencySlug({ dag_id: dagId, tags: state.dags.get(dagId)?.tags ?? [] }, resolved.agencyRules)
      ?.slug ?? null;
  const slugs = [...new Set(jobNames.map(slugOf).filter((s): s is string => s !== null))];
  const ids = await findAgencyIdsBySlug(db, slugs);
  const summary = await drainInbox(runtime, {
    sources,
    transform: (input) => {
      // A callback knows the DAG but not our agency rules: resolve them as for pulled signals.
      if (input.agency_id || input.agency_slug || !input.job_name) return input;
      const slug = slugOf(input.job_name);
      return slug === null
        ? input
        : { ...input, agency_slug: slug, agency_id: ids.get(slug.toLowerCase()) ?? null };
    },
  });
  if (summary.rejected > 0)
    log.warn({ rejected: summary.rejected }, "some pushed Airflow rows were rejected");
  return { received: summary.received, rejected: summary.rejected };
}

async function pullAirflow(
  runtime: Runtime,
  resolved: ResolvedAirflow,
  state: { client: AirflowClient | null; dags: Map<string, AirflowDag | null> },
): Promise<Omit<AirflowRunSummary, "inbox">> {
  const { db, log, now } = runtime;
  const { settings, instance, agencyRules } = resolved;
  const progress = runtime.jobOptions?.progress;
  const client = await connectAirflow(resolved, {
    ...(progress ? { onPage: (what, fetched, total) => progress(`${what}: ${fetched}/${total}`) } : {}),
  });
  state.client = client;
  const dags = state.dags;
  const cursorKey = `${AIRFLOW_SOURCE}:${instance}`;
  const cursor = await readCursor(db, cursorKey);
  const { window } = pullWindow(settings, cursor, runtime.jobOptions?.since, now);
  log.info({ instance, api_version: client.version, window }, "reading Airflow");

  // 1. Read what the window needs (no writes yet). Successful task instances are read across all DAGs only
  //    for v1 SLA misses; recovery reads them per DAG, and only for DAGs with open groups (step 4).
  const slaOn = settings.slaMisses && client.version === "v1";
  const tis = await client.listTaskInstances(slaOn ? ["failed", "success"] : ["failed"], window);
  const runs = await client.listDagRuns(settings.recovery ? ["failed", "success"] : ["failed"], window);
  const importErrors = await client.listImportErrors();
  const failedTis = tis.filter((t) => t.state === "failed");
  const failedRuns = runs.filter((r) => r.state === "failed");

  // Per run with a failure: its failed and upstream_failed tasks (blocked downstream; failed-task count).
  const runsToInspect = new Map<string, { dagId: string; dagRunId: string }>();
  for (const x of [...failedTis, ...failedRuns]) {
    runsToInspect.set(runKey(x.dag_id, x.dag_run_id), { dagId: x.dag_id, dagRunId: x.dag_run_id });
  }
  const runTasks = new Map<string, AirflowTaskInstance[]>();
  await mapLimit([...runsToInspect.entries()], LOG_CONCURRENCY, async ([key, r]) => {
    runTasks.set(key, await client.listRunTaskInstances(r.dagId, r.dagRunId, ["failed", "upstream_failed"]));
  });
  const blockedIn = (dagId: string, dagRunId: string) =>
    (runTasks.get(runKey(dagId, dagRunId)) ?? [])
      .filter((t) => t.state === "upstream_failed")
      .map(taskLabel)
      .sort();
  const runFailedTasks = (dagId: string, dagRunId: string) =>
    (runTasks.get(runKey(dagId, dagRunId)) ?? []).filter((t) => t.state === "failed").length;
  const dagRunFailures = failedRuns.filter((r) => runFailedTasks(r.dag_id, r.dag_run_id) === 0);
  const slaTis = slaOn ? tis.filter((t) => t.sla_miss !== null) : [];

  // DAG details once per DAG per run.
  const dagIds = [...new Set([...failedTis, ...dagRunFailures, ...slaTis].map((x) => x.dag_id))].sort();
  await mapLimit(dagIds, LOG_CONCURRENCY, async (id) => {
    dags.set(id, await client.getDag(id));
  });

  // Agencies: slug by rule, id through the database; an unknown agency keeps its slug and never drops a signal.
  const slugOf = (dagId: string) =>
    resolveAgencySlug({ dag_id: dagId, tags: dags.get(dagId)?.tags ?? [] }, agencyRules)?.slug ?? null;
  const importDagId = (filename: string) => (filename.split("/").pop() ?? filename).replace(/\.py$/, "");
  const slugs = new Set<string>();
  for (const id of dagIds) {
    const s = slugOf(id);
    if (s !== null) slugs.add(s);
  }
  for (const e of importErrors) {
    const s = resolveAgencySlug({ dag_id: importDagId(e.filename), tags: [] }, agencyRules)?.slug;
    if (s) slugs.add(s);
  }
  const agencyIds = await findAgencyIdsBySlug(db, [...slugs]);
  const agency = (slug: string | null) => ({
    slug,
    id: slug === null ? null : (agencyIds.get(slug.toLowerCase()) ?? null),
  });
  const severities = { ...DEFAULT_AIRFLOW_SEVERITIES, ...settings.severities };
  const ctx = (slug: string | null): MapContext => ({ instance, severities, agency: agency(slug) });

  // Logs, only for failures not ingested before (the overlap re-reads them every run), and never fatal: a log
  // that cannot be read leaves its signal without error text.
  const taskCtx = (ti: AirflowTaskInstance) => ({
    ...ctx(slugOf(ti.dag_id)),
    blocked: blockedIn(ti.dag_id, ti.dag_run_id),
    now,
  });
  const known = await findExistingSignalIds(
    db,
    failedTis.map((ti) => signalId(mapTaskFailure(ti, { ...taskCtx(ti), logError: null }))),
  );
  let logsFailed = 0;
  const logs = await mapLimit(
    failedTis,
    LOG_CONCURRENCY,
    async (ti): Promise<LogError | null | "skipped"> => {
      if (!settings.fetchLogs) return "skipped";
      if (known.has(signalId(mapTaskFailure(ti, { ...taskCtx(ti), logError: null })))) return "skipped";
      try {
        return await client.getLogError(ti);
      } catch (error) {
        logsFailed += 1;
        log.warn(
          {
            dag_id: ti.dag_id,
            task_id: ti.task_id,
            try_number: ti.try_number,
            err: error instanceof Error ? error.message : String(error),
          },
          "could not read a task log; the failure is kept without its error text",
        );
        return "skipped";
      }
    },
  );

  // 2. Map to signals.
  const inputs: SignalInput[] = [];
  failedTis.forEach((ti, i) => {
    const logError = logs[i];
    inputs.push(
      mapTaskFailure(ti, {
        ...taskCtx(ti),
        logError: logError === "skipped" || logError === undefined ? null : logError,
      }),
    );
  });
  for (const run of dagRunFailures) {
    inputs.push(
      mapDagRunFailure(run, {
        ...ctx(slugOf(run.dag_id)),
        timeoutSeconds: dags.get(run.dag_id)?.dagrun_timeout_seconds ?? null,
        blocked: blockedIn(run.dag_id, run.dag_run_id),
        now,
      }),
    );
  }
  const importKeys = new Set<string>();
  for (const e of importErrors) {
    // Airflow 3 names files relative to their bundle: the bundle is part of the identity.
    const file = e.bundle_name ? `${e.bundle_name}/${e.filename}` : e.filename;
    const key = importErrorKey(file, e.stack_trace);
    importKeys.add(key);
    const slug = resolveAgencySlug({ dag_id: importDagId(e.filename), tags: [] }, agencyRules)?.slug ?? null;
    inputs.push(mapImportError(e, { ...ctx(slug), key, summary: importErrorSummary(e.stack_trace), now }));
  }
  for (const ti of slaTis) {
    const signal = mapSlaMiss(ti, { ...ctx(slugOf(ti.dag_id)), now });
    if (signal) inputs.push(signal);
  }
  const rows: SignalRow[] = inputs.map((input) => prepareSignal(input));

  // 3. Write: signals in one transaction (not started if the run was asked to stop while reading).
  throwIfStopped(runtime.stopSignal);
  const batch = await ingestSignalBatch(db, rows, {
    now,
    reopenWindowHours: runtime.config.reopenWindowHours,
    appBaseUrl: runtime.config.appBaseUrl,
  });

  // 4. Close what went away: recovered pipelines, resolved import errors. A group also fed by another
  //    deployment is left alone (this deployment's recovery proves nothing about the other).
  let closeFailures = 0;
  const onCloseError = (groupId: string, error: unknown) => {
    closeFailures += 1;
    log.warn({ group_id: groupId, err: String(error) }, "could not close a group; the next run tries again");
  };
  const closes: SystemClose[] = [];
  if (settings.recovery) {
    const open = (
      await listActiveSourceGroups(db, {
        source: AIRFLOW_SOURCE,
        instance,
        signalTypes: ["task_failed", "dag_run_failed"],
      })
    ).filter((g) => !g.shared && g.job_name !== null);
    const successRuns = runs.filter((r) => r.state === "success" && r.end_date !== null);
    // Successful task instances of the DAGs with open task groups (already read across DAGs for v1 SLAs).
    const taskDags = [...new Set(open.filter((g) => g.task_id !== null).map((g) => g.job_name as string))];
    const successTis = slaOn
      ? tis.filter((t) => t.state === "success" && t.end_date !== null)
      : (
          await mapLimit(taskDags, LOG_CONCURRENCY, (dagId) =>
            client.listTaskInstances(["success"], window, dagId),
          )
        ).flat();
    for (const g of open) {
      const failure = {
        runId: g.run_id,
        logicalDate: typeof g.details?.logical_date === "string" ? g.details.logical_date : null,
        mapIndex: typeof g.details?.map_index === "number" ? g.details.map_index : -1,
        lastSeenAt: g.last_seen_at,
      };
      // Proof of recovery: a *different, later* run of the DAG that succeeded after the failure, or the same
      // task (same map index) succeeding in such a run. A success inside the failing run proves nothing.
      const laterRun = successRuns
        .filter((r) => r.dag_id === g.job_name && r.dag_run_id !== failure.runId && isLaterRun(r, failure))
        .filter((r) => Date.parse(r.end_date ?? "") > Date.parse(g.last_seen_at))
        .sort((a, b) => Date.parse(b.end_date ?? "") - Date.parse(a.end_date ?? ""))[0];
      const laterTask =
        g.task_id === null
          ? undefined
          : successTis
              .filter(
                (t) =>
                  t.dag_id === g.job_name &&
                  t.task_id === g.task_id &&
                  t.map_index === failure.mapIndex &&
                  t.dag_run_id !== failure.runId &&
                  isLaterRun(t, failure) &&
                  Date.parse(t.end_date ?? "") > Date.parse(g.last_seen_at),
              )
              .sort((a, b) => Date.parse(b.end_date ?? "") - Date.parse(a.end_date ?? ""))[0];
      if (laterRun?.end_date) {
        closes.push({
          groupId: g.id,
          reason: "recovered",
          resolvedAt: laterRun.end_date,
          metadata: { run_id: laterRun.dag_run_id, recovered_by: "dag_run_succeeded" },
        });
      } else if (laterTask?.end_date) {
        closes.push({
          groupId: g.id,
          reason: "recovered",
          resolvedAt: laterTask.end_date,
          metadata: {
            run_id: laterTask.dag_run_id,
            task_id: laterTask.task_id,
            recovered_by: "task_succeeded",
          },
        });
      }
    }
  }
  const recovered = (await closeGroupsAsSystem(db, closes, now, onCloseError)).length;
  const importOpen = await listActiveSourceGroups(db, {
    source: AIRFLOW_SOURCE,
    instance,
    signalTypes: ["dag_import_error"],
  });
  const gone: SystemClose[] = importOpen
    .filter((g) => {
      const key = g.details?.import_key;
      return !g.shared && typeof key === "string" && !importKeys.has(key);
    })
    .map((g) => ({
      groupId: g.id,
      reason: "import error resolved",
      // Leaving the snapshot is the proof, whatever Airflow's clock said about the error's time.
      resolvedAt: new Date(Math.max(now.getTime(), Date.parse(g.last_seen_at) + 1)).toISOString(),
      metadata: { filename: g.details?.filename ?? null },
    }));
  const importResolved = (await closeGroupsAsSystem(db, gone, now, onCloseError)).length;

  // 5. Advance the cursor to the newest end_date read across all DAGs (Airflow's clock, never the job's).
  const newest = maxIso([...tis.map((t) => t.end_date), ...runs.map((r) => r.end_date)]);
  if (newest !== null) await transactionWithRetry(db, (tx) => advanceTimeCursor(tx, cursorKey, newest, now));

  return {
    instance,
    api_version: client.version,
    window,
    task_failures: failedTis.length,
    dag_run_failures: dagRunFailures.length,
    import_errors: importErrors.length,
    sla_misses: slaTis.length,
    logs_missing: logs.filter((l) => l === null).length,
    logs_failed: logsFailed,
    signals: signalCounts(batch),
    recovered,
    import_errors_resolved: importResolved,
    close_failures: closeFailures,
    cursor: newest ?? cursor,
  };
}

export const ingestAirflowJob: JobDefinition = {
  id: "ingest_airflow",
  description:
    "Pull failed tasks, failed DAG runs, import errors and SLA misses from Airflow; close recovered groups",
  schedule: "*/5 * * * *",
  acceptsSince: true,
  runName: (runtime) => `ingest_airflow:${resolveAirflow(runtime.config).instance}`,
  async run(runtime): Promise<JobResult> {
    return pullJobResult(await ingestAirflow(runtime, resolveAirflow(runtime.config)));
  },
};
