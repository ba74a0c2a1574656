/**
 * prune (daily): deletes signals older than SIGNAL_RETENTION_DAYS, and inbox rows processed that long ago, in
 * bounded batches (each its own short transaction, so the table is never locked for long and a stop signal
 * is honoured between batches). A signal an active group points to is kept.
 */
import { deleteOldInboxRows, deleteOldSignals } from "../db/prune.js";
import { throwIfStopped } from "../errors.js";
import type { JobDefinition, JobResult } from "./job.js";

export const PRUNE_BATCH = 10_000;
const DAY_MS = 86_400_000;

export const pruneJob: JobDefinition = {
  id: "prune",
  description:
    "Delete signals (and processed inbox rows) older than SIGNAL_RETENTION_DAYS, in bounded batches",
  schedule: "30 3 * * *",
  async run(runtime): Promise<JobResult> {
    const { db, config, now, log } = runtime;
    const cutoff = new Date(now.getTime() - config.signalRetentionDays * DAY_MS);
    let signals = 0;
    let inbox = 0;
    let batches = 0;
    for (;;) {
      throwIfStopped(runtime.stopSignal);
      const n = await deleteOldSignals(db, cutoff, PRUNE_BATCH);
      signals += n;
      batches += 1;
      if (n < PRUNE_BATCH) break;
    }
    for (;;) {
      throwIfStopped(runtime.stopSignal);
      const n = await deleteOldInboxRows(db, cutoff, PRUNE_BATCH);
      inbox += n;
      batches += 1;
      if (n < PRUNE_BATCH) break;
    }
    log.info({ signals_deleted: signals, inbox_rows_deleted: inbox, cutoff: cutoff.toISOString() }, "pruned");
    return {
      outcome: "succeeded",
      summary: {
        retention_days: config.signalRetentionDays,
        cutoff: cutoff.toISOString(),
        signals_deleted: signals,
        inbox_rows_deleted: inbox,
        batches,
      },
    };
  },
};
