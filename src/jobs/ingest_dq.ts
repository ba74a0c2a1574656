/**
 * ingest_dq: data-quality results to signals, from (in this order) dbt artifacts, Great Expectations and
 * Soda result files, and a results table in a database (Elementary's preset or a generic one).
 *
 * Files: each artifact (a dbt invocation directory, a GX or Soda file) is ingested in one transaction that
 * also records it in the ledger, so a re-run skips it, a crash never half-writes it, and a file that cannot
 * be read (truncated, unknown schema version, manifest missing) is reported with its path and reason and NOT
 * recorded: it is retried once fixed, while the other files go in. The results table is read incrementally on
 * its time column with an overlap (cursor `dq:<instance>:table`). A later passing result of the same test
 * closes its open group (`recovered`).
 */

import type { OwnershipTables } from "../core/routing.js";
import { prepareSignal } from "../core/signal.js";
import type { SignalInput } from "../core/types.js";
import { advanceTimeCursor, readCursor } from "../db/cursors.js";
import {
  type ResultsPosition,
  readLedger,
  readResultsTable,
  readTestPasses,
  recordLedger,
  recordTestPasses,
} from "../db/dq.js";
import { ingestSignalBatch } from "../db/ingest.js";
import { findAgencyIdsBySlug, loadOwnershipTables } from "../db/ownership.js";
import { openPostgres } from "../db/postgres.js";
import { closeGroupsAsSystem, listActiveSourceGroups, type SystemClose } from "../db/source-groups.js";
import { configError, ObservabilityError, throwIfStopped } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { parseDbtInvocation } from "../sources/dq/dbt.js";
import { contentHash, listDbtInvocations, listJsonFiles, readTextFile } from "../sources/dq/files.js";
import { parseGxValidation } from "../sources/dq/gx.js";
import { DQ_SOURCE, mapDqResult, metaString } from "../sources/dq/map.js";
import { parseSodaScan } from "../sources/dq/soda.js";
import { resultFromTableRow } from "../sources/dq/table.js";
import type { DqParseProblem, DqParseResult, DqResult } from "../sources/dq/types.js";
import type { JobDefinition, JobResult } from "./job.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const TABLE_BATCH = 5_000;
/** At most this many pages of the results table per run (the rest is read by the next run). */
const MAX_TABLE_PAGES = 20;
const DQ_SIGNAL_TYPES = ["dq_test_failed", "dq_test_warned", "dq_model_error"] as const;

export interface DqRunSummary {
  instance: string;
  artifacts: { read: number; skipped_unchanged: number; failed: number };
  results: number;
  signals: { inserted: number; duplicates: number; opened: number; reopened: number };
  table_rows: number;
  recovered: number;
  /** Files (or the results table) that could not be read: path and reason. They are retried next run. */
  problems: DqParseProblem[];
}

interface Candidate {
  key: string;
  path: string;
  /** Reads the artifact (only when it is processed, so one artifact is in memory at a time). */
  read: () => Promise<{ hash: string; parse: () => DqParseResult }>;
}

export async function ingestDq(runtime: Runtime): Promise<DqRunSummary> {
  const { db, config, log, now } = runtime;
  const settings = config.dq;
  const instance = settings.instance;
  if (
    settings.dbtArtifactsDir === undefined &&
    settings.gxResultsDir === undefined &&
    settings.sodaResultsDir === undefined &&
    settings.resultsDatabaseUrl === undefined
  ) {
    throw configError(
      "ingest_dq has nothing to read; set DQ_DBT_ARTIFACTS_DIR, DQ_GX_RESULTS_DIR, DQ_SODA_RESULTS_DIR or DQ_RESULTS_DATABASE_URL",
    );
  }
  const sourceInstance = `${DQ_SOURCE}:${instance}`;
  const summary: DqRunSummary = {
    instance,
    artifacts: { read: 0, skipped_unchanged: 0, failed: 0 },
    results: 0,
    signals: { inserted: 0, duplicates: 0, opened: 0, reopened: 0 },
    table_rows: 0,
    recovered: 0,
    problems: [],
  };
  const problem = (path: string, reason: string) => {
    summary.problems.push({ path, reason });
    summary.artifacts.failed += 1;
    log.warn({ path, reason }, `could not read ${path}: ${reason}`);
  };

  // 1. Find the artifacts, in the order: dbt, GX, Soda (paths only: each is read when processed).
  const ledger = await readLedger(db, sourceInstance);
  const tables = await loadOwnershipTables(db);
  const candidates: Candidate[] = [];
  const listDir = async (
    dir: string | undefined,
    what: string,
    list: (d: string) => Promise<Candidate[]>,
  ) => {
    if (dir === undefined) return;
    try {
      candidates.push(...(await list(dir)));
    } catch (error) {
      problem(
        dir,
        `cannot list the ${what} directory (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path and that the volume is mounted`,
      );
    }
  };
  await listDir(settings.dbtArtifactsDir, "dbt artifacts", async (dir) =>
    (await listDbtInvocations(dir)).map((inv) => ({
      key: inv.key,
      path: `${inv.path}/run_results.json`,
      read: async () => {
        const runResultsPath = `${inv.path}/run_results.json`;
        const runResultsText = (await readTextFile(runResultsPath)) ?? "";
        const manifestText = await readTextFile(`${inv.path}/manifest.json`);
        return {
          hash: contentHash(runResultsText, manifestText),
          parse: () => parseDbtInvocation({ runResultsText, manifestText, path: runResultsPath }),
        };
      },
    })),
  );
  for (const [dir, tool, parse] of [
    [settings.gxResultsDir, "gx", (text: string, path: string) => parseGxValidation({ text, path })],
    [settings.sodaResultsDir, "soda", (text: string, path: string) => parseSodaScan({ text, path })],
  ] as const) {
    await listDir(dir, tool === "gx" ? "Great Expectations results" : "Soda results", async (d) =>
      (await listJsonFiles(d, tool)).map((file) => ({
        key: file.key,
        path: file.path,
        read: async () => {
          const text = (await readTextFile(file.path)) ?? "";
          return { hash: contentHash(text), parse: () => parse(text, file.path) };
        },
      })),
    );
  }

  // 2. One artifact at a time (read, compare, parse, ingest with its ledger row in one transaction, let go):
  //    a file that cannot be read, parsed or stored is reported with its path; the others still go in.
  for (const c of candidates) {
    throwIfStopped(runtime.stopSignal);
    try {
      const { hash, parse } = await c.read();
      if (ledger.get(c.key) === hash) {
        summary.artifacts.skipped_unchanged += 1;
        continue;
      }
      const parsed = parse();
      if (!parsed.ok) {
        problem(parsed.problem.path, parsed.problem.reason);
        continue;
      }
      const ingested = await ingestResults(runtime, tables, parsed.results, async (tx) =>
        recordLedger(tx, {
          sourceInstance,
          artifact: c.key,
          contentHash: hash,
          invocationId: parsed.invocationId,
          results: parsed.results.length,
          now,
        }),
      );
      addCounts(summary, ingested.batch);
      summary.artifacts.read += 1;
      summary.results += parsed.results.length;
    } catch (error) {
      if (error instanceof ObservabilityError && error.code === "interrupted") throw error;
      problem(c.path, error instanceof Error ? error.message : String(error));
    }
  }

  // 3. The results table, page by page in (time, id) order from the cursor minus the overlap, each page in
  //    its own transaction with the cursor: never stuck on a burst of rows sharing one time.
  if (settings.resultsDatabaseUrl !== undefined) {
    const table =
      settings.resultsTable ??
      (settings.resultsPreset === "elementary" ? "elementary_test_results" : "dq_test_results");
    const cursorKey = `${sourceInstance}:table`;
    try {
      const cursor = await readCursor(db, cursorKey);
      const since = new Date(
        cursor !== null
          ? Date.parse(cursor) - settings.overlapMinutes * MINUTE_MS
          : now.getTime() - settings.lookbackHours * HOUR_MS,
      ).toISOString();
      const source = await openPostgres(settings.resultsDatabaseUrl, {
        max: 1,
        variable: "DQ_RESULTS_DATABASE_URL",
      });
      try {
        let position: ResultsPosition = { since };
        for (let page = 0; page < MAX_TABLE_PAGES; page++) {
          throwIfStopped(runtime.stopSignal);
          const rows = await readResultsTable(source, {
            preset: settings.resultsPreset,
            table,
            position,
            limit: TABLE_BATCH,
          });
          const results = rows
            .map((r) => resultFromTableRow(r, settings.resultsPreset))
            .filter((r): r is DqResult => r !== null);
          const last = rows.at(-1);
          const ingested = await ingestResults(runtime, tables, results, async (tx) => {
            if (last !== undefined) await advanceTimeCursor(tx, cursorKey, last.created_at, now);
          });
          addCounts(summary, ingested.batch);
          summary.table_rows += rows.length;
          summary.results += results.length;
          if (last === undefined || rows.length < TABLE_BATCH) break;
          position = { afterTime: last.created_at, afterId: last.id };
        }
      } finally {
        await source.close();
      }
    } catch (error) {
      if (error instanceof ObservabilityError && error.code === "interrupted") throw error;
      const reason = error instanceof Error ? error.message : String(error);
      problem(`${table} (DQ_RESULTS_DATABASE_URL)`, `cannot read the results table: ${reason}`);
    }
  }

  // 4. Recovery: a later passing result of the same test, for the same agency, closes its open group. The
  //    passes are read from notification_dq_test_pass, written with the artifact they came from, so a run
  //    stopped before this step leaves them for the next one.
  if (settings.recovery) {
    const open = await listActiveSourceGroups(db, {
      source: DQ_SOURCE,
      instance,
      signalTypes: DQ_SIGNAL_TYPES,
    });
    const testIdOf = (details: Record<string, unknown> | null) =>
      typeof details?.test_id === "string" ? details.test_id : null;
    const recorded = await readTestPasses(
      db,
      sourceInstance,
      open.map((g) => testIdOf(g.details)).filter((id): id is string => id !== null),
    );
    const closes: SystemClose[] = [];
    for (const g of open) {
      const testId = testIdOf(g.details);
      const pass = testId === null ? undefined : recorded.get(`${g.agency_id ?? ""}|${testId}`);
      if (g.shared || pass === undefined || Date.parse(pass.passedAt) <= Date.parse(g.last_seen_at)) continue;
      closes.push({
        groupId: g.id,
        reason: "recovered",
        resolvedAt: pass.passedAt,
        metadata: { run_id: pass.invocationId, recovered_by: `${pass.tool}_test_passed` },
      });
    }
    summary.recovered = (
      await closeGroupsAsSystem(db, closes, now, (groupId, error) =>
        log.warn(
          { group_id: groupId, err: String(error) },
          "could not close a group; the next run tries again",
        ),
      )
    ).length;
  }
  return summary;
}

function addCounts(
  summary: DqRunSummary,
  b: { inserted: number; duplicates: number; opened: number; reopened: number },
) {
  summary.signals.inserted += b.inserted;
  summary.signals.duplicates += b.duplicates;
  summary.signals.opened += b.opened;
  summary.signals.reopened += b.reopened;
}

/** A passing result, with the agency it belongs to (recovery matches test and agency). */
interface PassSeen {
  result: DqResult;
  agencyId: string | null;
}

/**
 * Maps results (agency and owner from the tool's metadata) and ingests them with `also` in one transaction.
 * An owner is used for routing only if the user map knows that user id; otherwise it stays in the details.
 */
async function ingestResults(
  runtime: Runtime,
  tables: OwnershipTables,
  results: readonly DqResult[],
  also: Parameters<typeof ingestSignalBatch>[2]["alsoInTransaction"],
): Promise<{ batch: Awaited<ReturnType<typeof ingestSignalBatch>>; passes: PassSeen[] }> {
  const { db, config, now } = runtime;
  const settings = config.dq;
  const slugs = [
    ...new Set(
      results.map((r) => metaString(r.meta, settings.agencyMetaKey)).filter((s): s is string => s !== null),
    ),
  ];
  const ids = await findAgencyIdsBySlug(db, slugs);
  const inputs: SignalInput[] = [];
  const passes: PassSeen[] = [];
  for (const r of results) {
    const slug = metaString(r.meta, settings.agencyMetaKey);
    const agencyId = slug === null ? null : (ids.get(slug.toLowerCase()) ?? null);
    if (r.outcome === "pass") passes.push({ result: r, agencyId });
    const owner = metaString(r.meta, settings.ownerMetaKey);
    const known = owner !== null && tables.slackUserIds.has(owner);
    const signal = mapDqResult(r, {
      instance: settings.instance,
      warnSeverity: settings.warnSeverity,
      agency: { slug, id: agencyId },
      owner: known ? owner : null,
    });
    if (signal === null) continue;
    inputs.push(
      owner !== null && !known
        ? { ...signal, details: { ...(signal.details ?? {}), owner_unmapped: owner } }
        : signal,
    );
  }
  const batch = await ingestSignalBatch(
    db,
    inputs.map((i) => prepareSignal(i)),
    {
      now,
      reopenWindowHours: config.reopenWindowHours,
      appBaseUrl: config.appBaseUrl,
      alsoInTransaction: async (tx) => {
        await recordTestPasses(
          tx,
          `${DQ_SOURCE}:${settings.instance}`,
          passes.map((p) => ({
            agencyId: p.agencyId,
            testId: p.result.testId,
            passedAt: p.result.occurredAt,
            invocationId: p.result.invocationId,
            tool: p.result.tool,
          })),
        );
        await also?.(tx);
      },
    },
  );
  return { batch, passes };
}

export const ingestDqJob: JobDefinition = {
  id: "ingest_dq",
  description:
    "Ingest data-quality failures from dbt artifacts, Great Expectations, Soda and a results table",
  schedule: "*/10 * * * *",
  runName: (runtime) => `ingest_dq:${runtime.config.dq.instance}`,
  async run(runtime): Promise<JobResult> {
    const summary = await ingestDq(runtime);
    return {
      // A file that could not be read fails the run (exit 1) so it is noticed; the others went in.
      outcome: summary.problems.length > 0 ? "failed" : "succeeded",
      summary: JSON.parse(JSON.stringify(summary)),
    };
  },
};
