/**
 * ingest_inbox: drains the signal inbox (the push channel) through the generic ingestion. Each batch of
 * claimed rows is ingested and marked processed in one transaction, so a crash never loses or doubles a
 * row; a malformed payload is marked with its reason and never blocks the rows behind it.
 */
import { parseSignalInput, prepareSignal } from "../core/signal.js";
import type { SignalRow } from "../core/types.js";
import { claimInboxRows, markInboxRowsProcessed } from "../db/inbox.js";
import { ingestSignalsInTransaction, transactionWithRetry } from "../db/ingest.js";
import type { Runtime } from "../runtime.js";
import { addBatch, addRejection, emptySummary, type IngestSummary } from "../sources/jsonl.js";
import type { JobDefinition, JobResult } from "./job.js";

export const INBOX_BATCH_SIZE = 1_000;

export async function drainInbox(
  runtime: Runtime,
  options: { sources?: readonly string[]; batchSize?: number } = {},
): Promise<IngestSummary> {
  const { db, config, now, log } = runtime;
  const summary = emptySummary();
  for (;;) {
    const claimed = await transactionWithRetry(db, async (tx) => {
      const rows = await claimInboxRows(tx, {
        limit: options.batchSize ?? INBOX_BATCH_SIZE,
        ...(options.sources ? { sources: options.sources } : {}),
      });
      const signals: SignalRow[] = [];
      const marks: { id: number; error: string | null }[] = [];
      const rejected: { line: number; reason: string }[] = [];
      for (const row of rows) {
        const payload =
          typeof row.payload === "object" && row.payload !== null && !("source" in row.payload)
            ? { ...row.payload, source: row.source }
            : row.payload;
        const parsed = parseSignalInput(payload);
        if (parsed.ok) {
          signals.push(prepareSignal(parsed.value));
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
      return { count: rows.length, batch, rejected };
    });
    if (claimed.count === 0) break;
    summary.received += claimed.count;
    addBatch(summary, claimed.batch);
    for (const r of claimed.rejected) {
      addRejection(summary, r);
      log.warn({ inbox_id: r.line, reason: r.reason }, "inbox row rejected");
    }
  }
  return summary;
}

export const ingestInbox: JobDefinition = {
  id: "ingest_inbox",
  description: "Drain the signal inbox (rows pushed by callbacks and listeners) into signals and groups",
  schedule: "*/5 * * * *",
  async run(runtime): Promise<JobResult> {
    const summary = await drainInbox(runtime);
    const { rejections, ...counts } = summary;
    return {
      outcome: summary.rejected > 0 ? "failed" : "succeeded",
      summary: { ...counts, rejected_inbox_ids: rejections.map((r) => r.line) },
    };
  },
};
