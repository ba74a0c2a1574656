/**
 * ingest_cloverdx: pulls failed runs from one CloverDX Server (REST API, or the Simple HTTP API) since its
 * cursor, turns them into signals (one per root run: a failing child and its jobflow are one group), closes
 * the groups of jobs that later succeeded, and drains the inbox rows CloverDX event listeners pushed. One
 * CronJob per server: each instance has its own name, dedup-key prefix, cursor and run lock.
 *
 * Order of writes, as in ingest_airflow: (1) all signals of the window in one transaction, (2) closes, each
 * its own transaction, (3) the cursor. A run that fails before (3) is repeated by the next one.
 */
import type { CloverdxSettings, Config } from "../config.js";
import { prepareSignal, signalId } from "../core/signal.js";
import type { JsonObject, SignalInput } from "../core/types.js";
import { advanceTimeCursor, readCursor } from "../db/cursors.js";
import { ingestSignalBatch, transactionWithRetry } from "../db/ingest.js";
import { findAgencyIdsBySlug } from "../db/ownership.js";
import { findExistingSignalIds } from "../db/signals.js";
import { closeGroupsAsSystem, listActiveSourceGroups, type SystemClose } from "../db/source-groups.js";
import { configError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import {
  parseSandboxAgencyRules,
  resolveSandboxAgency,
  type SandboxAgencyRules,
} from "../sources/cloverdx/agency.js";
import { type CloverdxClient, createRestClient, createSimpleClient } from "../sources/cloverdx/client.js";
import { createCloverdxHttp } from "../sources/cloverdx/http.js";
import { extractLogError } from "../sources/cloverdx/log.js";
import {
  CLOVERDX_SOURCE,
  classifyStatus,
  inferParentsFromTiming,
  type MapContext,
  mapFailures,
  rootRunIdOf,
  SIGNAL_TYPES,
} from "../sources/cloverdx/map.js";
import type { CloverdxExecution, CloverdxLogError } from "../sources/cloverdx/types.js";
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

/** A name for a server from its URL when CLOVERDX_INSTANCE is not set: host, port and path. */
export const cloverdxInstanceFromUrl = instanceFromUrl;

const LOG_CONCURRENCY = 4;
/** Ancestors looked up per failing run at most (a jobflow nesting deeper than this is not expected). */
const MAX_ANCESTOR_DEPTH = 20;

export interface ResolvedCloverdx {
  settings: CloverdxSettings & { baseUrl: string; username: string; password: string };
  instance: string;
  agencyRules: SandboxAgencyRules;
}

/** Everything the job needs from configuration, or one configuration error (exit 2) naming what to set. */
export function resolveCloverdx(config: Config): ResolvedCloverdx {
  const settings = config.cloverdx;
  if (settings.baseUrl === undefined) {
    throw configError(
      "CLOVERDX_BASE_URL is not set; set it to the CloverDX Server URL (e.g. https://cloverdx.example.com/clover)",
    );
  }
  if (settings.username === undefined || settings.password === undefined) {
    throw configError("CloverDX credentials are not set; set CLOVERDX_USERNAME and CLOVERDX_PASSWORD");
  }
  return {
    settings: {
      ...settings,
      baseUrl: settings.baseUrl,
      username: settings.username,
      password: settings.password,
    },
    instance: settings.instance ?? cloverdxInstanceFromUrl(settings.baseUrl),
    agencyRules: parseSandboxAgencyRules(settings.agencyRules),
  };
}

export interface CloverdxRunOptions {
  /** Backoff between HTTP retries (tests set 0). */
  retryDelayMs?: number;
}

export function connectCloverdx(
  resolved: ResolvedCloverdx,
  options: CloverdxRunOptions & { onPage?: (fetched: number, total: number | null) => void } = {},
): CloverdxClient {
  const { settings } = resolved;
  const http = createCloverdxHttp({
    baseUrl: settings.baseUrl,
    username: settings.username,
    password: settings.password,
    timeoutMs: settings.timeoutSeconds * 1000,
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
  });
  const clientOptions = {
    pageSize: settings.pageSize,
    serverTimeZone: settings.serverTimeZone,
    ...(options.onPage ? { onPage: options.onPage } : {}),
  };
  return settings.api === "simple"
    ? createSimpleClient(http, clientOptions)
    : createRestClient(http, clientOptions);
}

export interface CloverdxRunSummary {
  instance: string;
  api: "rest" | "simple";
  window: { from: string; to: string };
  executions_read: number;
  /** Records or lines that could not be read (skipped). */
  records_skipped: number;
  failed_runs: number;
  /** Root runs with a failure: one signal each. */
  failed_roots: number;
  logs_read: number;
  logs_missing: number;
  logs_failed: number;
  signals: SignalCounts;
  recovered: number;
  close_failures: number;
  cursor: string | null;
  inbox: InboxCounts;
}

export async function ingestCloverdx(
  runtime: Runtime,
  resolved: ResolvedCloverdx,
  options: CloverdxRunOptions = {},
): Promise<CloverdxRunSummary> {
  const { log } = runtime;
  // Pushed rows do not need the server: drained even when the pull failed.
  return pullThenDrain(
    () => pullCloverdx(runtime, resolved, options),
    () => drainPushedRows(runtime, resolved),
    log,
    "could not drain the CloverDX inbox rows",
  );
}

async function drainPushedRows(runtime: Runtime, resolved: ResolvedCloverdx): Promise<InboxCounts> {
  const { db, log } = runtime;
  const { instance, agencyRules } = resolved;
  const sources = [CLOVERDX_SOURCE, `${CLOVERDX_SOURCE}:${instance}`];
  const ids = await findAgencyIdsBySlug(db, [...new Set(agencyRules.values())]);
  const summary = await drainInbox(runtime, {
    sources,
    transform: (input) => {
      const details: JsonObject = { ...(input.details ?? {}) };
      // One source name for pushed and pulled signals, so their ids (and dedup) match; the instance
      // says which server, as recovery expects.
      if (typeof details.instance !== "string") details.instance = instance;
      const out: SignalInput = { ...input, source: CLOVERDX_SOURCE, details };
      if (input.agency_id || input.agency_slug) return out;
      const sandbox = typeof details.sandbox === "string" ? details.sandbox : null;
      const slug = resolveSandboxAgency(sandbox, agencyRules);
      return slug === null ? out : { ...out, agency_slug: slug, agency_id: ids.get(slug) ?? null };
    },
  });
  if (summary.rejected > 0)
    log.warn({ rejected: summary.rejected }, "some pushed CloverDX rows were rejected");
  return { received: summary.received, rejected: summary.rejected };
}

/** Looks up ancestors of failing runs that the window did not include (REST only). */
async function completeAncestors(
  client: CloverdxClient,
  failing: readonly CloverdxExecution[],
  byId: Map<string, CloverdxExecution>,
): Promise<void> {
  const missing = new Set<string>();
  for (let depth = 0; depth < MAX_ANCESTOR_DEPTH; depth++) {
    missing.clear();
    for (const e of failing) {
      let current: CloverdxExecution | undefined = e;
      for (let i = 0; current !== undefined && i < MAX_ANCESTOR_DEPTH; i++) {
        const up: string | null = current.parentRunId;
        if (up === null) break;
        const parent = byId.get(up);
        if (parent === undefined) {
          missing.add(up);
          break;
        }
        current = parent;
      }
      const root = e.rootRunId;
      if (root !== null && !byId.has(root)) missing.add(root);
    }
    if (missing.size === 0) return;
    const found = await mapLimit([...missing], LOG_CONCURRENCY, (id) => client.getExecution(id));
    let added = 0;
    [...missing].forEach((id, i) => {
      const e = found[i];
      // A run that is gone (404) is remembered as unknown, so it is not asked for again.
      byId.set(id, e ?? placeholder(id));
      if (e) added += 1;
    });
    if (added === 0) return;
  }
}

function placeholder(runId: string): CloverdxExecution {
  return {
    runId,
    status: "N_A_MISSING",
    sandbox: null,
    jobFile: null,
    executionType: null,
    parentRunId: null,
    rootRunId: null,
    submitTime: null,
    startTime: null,
    stopTime: null,
    errorMessage: null,
    exception: null,
    errorComponentId: null,
    errorComponentType: null,
    executedBy: null,
    clusterNode: null,
  };
}

async function pullCloverdx(
  runtime: Runtime,
  resolved: ResolvedCloverdx,
  options: CloverdxRunOptions,
): Promise<Omit<CloverdxRunSummary, "inbox">> {
  const { db, log, now } = runtime;
  const { settings, instance, agencyRules } = resolved;
  const progress = runtime.jobOptions?.progress;
  const client = connectCloverdx(resolved, {
    ...options,
    ...(progress
      ? { onPage: (fetched, total) => progress(`executions: ${fetched}${total === null ? "" : `/${total}`}`) }
      : {}),
  });
  const cursorKey = `${CLOVERDX_SOURCE}:${instance}`;
  const cursor = await readCursor(db, cursorKey);
  // The overlap re-reads runs that finished out of order and absorbs the APIs' minute-precision filters.
  const { fromMs, window } = pullWindow(settings, cursor, runtime.jobOptions?.since, now);
  log.info({ instance, api: client.api, window }, "reading CloverDX");

  // 1. Read (no writes yet): every run that stopped in the window; successes are needed for recovery.
  const read = await client.listStopped({ from: new Date(fromMs), to: now });
  if (read.skipped > 0)
    log.warn({ skipped: read.skipped }, "some CloverDX execution records could not be read and were skipped");
  const executions =
    client.api === "simple"
      ? inferParentsFromTiming(read.executions, settings.includeAborted)
      : read.executions;
  const byId = new Map(executions.map((e) => [e.runId, e] as const));
  const failing = executions.filter((e) => classifyStatus(e.status, settings.includeAborted) !== null);
  if (client.api === "rest") await completeAncestors(client, failing, byId);

  // Agencies: slug by sandbox rule, id through the database; an unknown agency never drops a signal.
  const slugs = [...new Set(agencyRules.values())];
  const agencyIds = await findAgencyIdsBySlug(db, slugs);
  const agencyOf = (sandbox: string | null) => {
    const slug = resolveSandboxAgency(sandbox, agencyRules);
    return { slug, id: slug === null ? null : (agencyIds.get(slug) ?? null) };
  };
  const baseCtx: Omit<MapContext, "logErrors"> = {
    instance,
    includeAborted: settings.includeAborted,
    agencyOf,
    now,
  };

  // 2. Logs, only for failed runs without an error message whose signal is not stored yet (the overlap
  //    re-reads them every run); never fatal.
  const first = mapFailures(failing, byId, { ...baseCtx, logErrors: new Map() });
  const known = await findExistingSignalIds(
    db,
    first.map((s) => signalId(s)),
  );
  const needLog = settings.fetchLogs
    ? first
        .filter((s) => !known.has(signalId(s)))
        .map((s) => byId.get(String(s.details?.run_id ?? "")))
        .filter(
          (e): e is CloverdxExecution => e !== undefined && e.errorMessage === null && e.status === "ERROR",
        )
    : [];
  const logErrors = new Map<string, CloverdxLogError>();
  let logsMissing = 0;
  let logsFailed = 0;
  await mapLimit(needLog, LOG_CONCURRENCY, async (e) => {
    try {
      const text = await client.getLog(e.runId);
      if (text === null) logsMissing += 1;
      else logErrors.set(e.runId, extractLogError(text));
    } catch (error) {
      logsFailed += 1;
      log.warn(
        { run_id: e.runId, err: error instanceof Error ? error.message : String(error) },
        "could not read a run log; the failure is kept without its error text",
      );
    }
  });
  const inputs = logErrors.size > 0 ? mapFailures(failing, byId, { ...baseCtx, logErrors }) : first;

  // 3. Write: signals in one transaction.
  const batch = await ingestSignalBatch(
    db,
    inputs.map((i) => prepareSignal(i)),
    {
      now,
      reopenWindowHours: runtime.config.reopenWindowHours,
      appBaseUrl: runtime.config.appBaseUrl,
    },
  );

  // 4. Recovery: a different run of the same job file that started after the failure and succeeded. A
  //    group also fed by another server is left alone (this server's success proves nothing there).
  let closeFailures = 0;
  const closes: SystemClose[] = [];
  if (settings.recovery) {
    const open = (
      await listActiveSourceGroups(db, {
        source: CLOVERDX_SOURCE,
        instance,
        signalTypes: Object.values(SIGNAL_TYPES),
      })
    ).filter((g) => !g.shared && g.job_name !== null);
    const successes = executions.filter((e) => e.status === "FINISHED_OK" && e.stopTime !== null);
    for (const g of open) {
      const failedAt = Date.parse(g.last_seen_at);
      const later = successes
        .filter((s) => {
          const started = s.startTime ?? s.submitTime;
          return (
            s.jobFile === g.job_name &&
            s.runId !== g.run_id &&
            rootRunIdOf(s, byId) !== g.run_id &&
            started !== null &&
            Date.parse(started) > failedAt &&
            Date.parse(s.stopTime ?? "") > failedAt
          );
        })
        .sort((a, b) => Date.parse(b.stopTime ?? "") - Date.parse(a.stopTime ?? ""))[0];
      if (later?.stopTime) {
        closes.push({
          groupId: g.id,
          reason: "recovered",
          resolvedAt: later.stopTime,
          metadata: { run_id: later.runId, job_file: later.jobFile, recovered_by: "run_succeeded" },
        });
      }
    }
  }
  const recovered = (
    await closeGroupsAsSystem(db, closes, now, (groupId, error) => {
      closeFailures += 1;
      log.warn(
        { group_id: groupId, err: String(error) },
        "could not close a group; the next run tries again",
      );
    })
  ).length;

  // 5. Cursor: the newest stop time read (the server's clock, never the job's).
  const newest = maxIso(read.executions.map((e) => e.stopTime));
  if (newest !== null) await transactionWithRetry(db, (tx) => advanceTimeCursor(tx, cursorKey, newest, now));

  return {
    instance,
    api: client.api,
    window,
    executions_read: read.executions.length,
    records_skipped: read.skipped,
    failed_runs: failing.length,
    failed_roots: inputs.length,
    logs_read: logErrors.size,
    logs_missing: logsMissing,
    logs_failed: logsFailed,
    signals: signalCounts(batch),
    recovered,
    close_failures: closeFailures,
    cursor: newest ?? cursor,
  };
}

export function createIngestCloverdxJob(options: CloverdxRunOptions = {}): JobDefinition {
  return {
    id: "ingest_cloverdx",
    description:
      "Pull failed, timed-out and interrupted CloverDX runs (one group per root run); close recovered groups",
    schedule: "*/5 * * * *",
    acceptsSince: true,
    runName: (runtime) => `ingest_cloverdx:${resolveCloverdx(runtime.config).instance}`,
    async run(runtime): Promise<JobResult> {
      return pullJobResult(await ingestCloverdx(runtime, resolveCloverdx(runtime.config), options));
    },
  };
}

export const ingestCloverdxJob: JobDefinition = createIngestCloverdxJob();
