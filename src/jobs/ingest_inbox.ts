/**
 * ingest_inbox: drains the signal inbox (the push channel) through the generic ingestion. Each batch of
 * claimed rows is ingested and marked processed in one transaction, so a crash never loses or doubles a
 * row; a malformed payload is marked with its reason and never blocks the rows behind it.
 */
import { parseSignalInput, prepareSignal } from "../core/signal.js";
import type { SignalInput, SignalRow } from "../core/types.js";
import type { Queryable } from "../db/db.js";
import { claimInboxRows, markInboxRowsProcessed } from "../db/inbox.js";
import { type BatchResult, ingestSignalsInTransaction, transactionWithRetry } from "../db/ingest.js";
import { sqlState, throwIfStopped } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { addBatch, addRejection, emptySummary, type IngestSummary } from "../sources/jsonl.js";
import type { JobDefinition, JobResult } from "./job.js";

export const INBOX_BATCH_SIZE = 1_000;
/** Inbox sources drained by their source job (with its agency rules), not by ingest_inbox. */
export const SOURCE_JOB_PREFIXES = ["airflow", "cloverdx"] as const;

export interface DrainOptions {
  sources?: readonly string[];
  batchSize?: number;
  /** Completes a pushed signal before it is ingested (e.g. a source job resolving its agency). */
  transform?: (input: SignalInput) => SignalInput;
  /** Leave rows of these sources (`airflow`, `airflow:<instance>`, ...) to their own job. */
  excludeSourcePrefixes?: readonly string[];
}

export async function drainInbox(runtime: Runtime, options: DrainOptions = {}): Promise<IngestSummary> {
  const { db, now, log } = runtime;
  const batchSize = options.batchSize ?? INBOX_BATCH_SIZE;
  const summary = emptySummary();
  // After the database refuses a batch's data, the next rows go one at a time, so the one bad row is
  // found, marked with the database's reason, and the rows behind it still get in.
  let oneByOne = 0;
  for (;;) {
    throwIfStopped(runtime.stopSignal);
    const limit = oneByOne > 0 ? 1 : batchSize;
    let claimed: Awaited<ReturnType<typeof drainOnce>>;
    try {
      claimed = await transactionWithRetry(db, (tx) => drainOnce(tx, runtime, limit, options));
    } catch (error) {
      if (!isDataException(error)) throw error;
      if (limit > 1) {
        log.warn(
          { err: String(error) },
          "the database refused a batch of inbox rows; retrying them one by one",
        );
        oneByOne = batchSize;
        continue;
      }
      const reason = `the database refused the payload: ${error instanceof Error ? error.message : String(error)}`;
      claimed = await transactionWithRetry(db, async (tx) => {
        const rows = await claimInboxRows(tx, {
          limit: 1,
          ...(options.sources ? { sources: options.sources } : {}),
          ...(options.excludeSourcePrefixes ? { excludeSourcePrefixes: options.excludeSourcePrefixes } : {}),
        });
        await markInboxRowsProcessed(
          tx,
          rows.map((r) => ({ id: Number(r.id), error: reason })),
          now,
        );
        return {
          count: rows.length,
          batch: undefined,
          rejected: rows.map((r) => ({ line: Number(r.id), reason })),
        };
      });
    }
    if (claimed.count === 0) break;
    oneByOne = Math.max(0, oneByOne - claimed.count);
    summary.received += claimed.count;
    if (claimed.batch) addBatch(summary, claimed.batch);
    for (const r of claimed.rejected) {
      addRejection(summary, r);
      log.warn({ inbox_id: r.line, reason: r.reason }, "inbox row rejected");
    }
  }
  return summary;
}

/** Claims up to `limit` rows, ingests the valid ones and marks all of them, in the caller's transaction. */
async function drainOnce(tx: Queryable, runtime: Runtime, limit: number, options: DrainOptions) {
  const { config, now } = runtime;
  const { sources, transform, excludeSourcePrefixes } = options;
  const rows = await claimInboxRows(tx, {
    limit,
    ...(sources ? { sources } : {}),
    ...(excludeSourcePrefixes ? { excludeSourcePrefixes } : {}),
  });
  const signals: SignalRow[] = [];
  const marks: { id: number; error: string | null }[] = [];
  const rejected: { line: number; reason: string }[] = [];
  for (const row of rows) {
    const payload = row.payload as Record<string, unknown> | null;
    const withSource =
      typeof payload === "object" && payload !== null && !Array.isArray(payload) && payload.source == null
        ? { ...payload, source: row.source }
        : payload;
    const parsed = parseSignalInput(withSource);
    if (parsed.ok) {
      signals.push(prepareSignal(transform ? transform(parsed.value) : parsed.value));
      marks.push({ id: Number(row.id), error: null });
    } else {
      marks.push({ id: Number(row.id), error: parsed.reason });
      rejected.push({ line: Number(row.id), reason: parsed.reason });
    }
  }
  const batch = await ingestSignalsInTransaction(tx, signals, {
    now,
    reopenWindowHours: config.reopenWindowHours,
    appBaseUrl: config.appBaseUrl,
  });
  await markInboxRowsProcessed(tx, marks, now);
  return { count: rows.length, batch: batch as BatchResult | undefined, rejected };
}

/**
 * The database refused a value: SQLSTATE class 22 (bad encoding, out-of-range time, ...), or a NOT NULL or
 * CHECK constraint of the shared schema that our validation does not know about.
 */
function isDataException(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith("22") || state === "23502" || state === "23514");
}

export const ingestInbox: JobDefinition = {
  id: "ingest_inbox",
  description: "Drain the signal inbox (rows pushed by callbacks and listeners) into signals and groups",
  schedule: "*/5 * * * *",
  async run(runtime): Promise<JobResult> {
    // Airflow and CloverDX rows are drained by their own jobs, which resolve the agency the same way as for
    // pulled signals; everything else is drained here.
    const summary = await drainInbox(runtime, { excludeSourcePrefixes: SOURCE_JOB_PREFIXES });
    const { rejections, ...counts } = summary;
    return {
      outcome: summary.rejected > 0 ? "failed" : "succeeded",
      summary: { ...counts, rejected_inbox_ids: rejections.map((r) => r.line) },
    };
  },
};
