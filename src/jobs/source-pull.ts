/**
 * What the jobs that pull from a source server (ingest_airflow, ingest_cloverdx) share: naming an instance,
 * the window a run reads, bounded-concurrency reads, the newest time read, and the shape of their results.
 * No I/O of its own and no clock (the caller passes `now`).
 */
import type { BatchResult } from "../db/ingest.js";
import type { Logger } from "../log.js";
import type { JobResult } from "./job.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A name for a server from its URL when no instance name is configured: host, port and path. */
export function instanceFromUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  const raw = `${u.host}${u.pathname.replace(/\/+$/, "")}`;
  return raw.replace(/[^A-Za-z0-9._:-]+/g, "-").slice(0, 100);
}

/**
 * The window a run reads, up to `now`: from `since` (a backfill) when given, else from the cursor less the
 * overlap, else (first run) from `lookbackHours` ago.
 */
export function pullWindow(
  settings: { overlapMinutes: number; lookbackHours: number },
  cursor: string | null,
  since: Date | undefined,
  now: Date,
): { fromMs: number; window: { from: string; to: string } } {
  const fromMs =
    since !== undefined
      ? since.getTime()
      : cursor !== null
        ? Date.parse(cursor) - settings.overlapMinutes * MINUTE_MS
        : now.getTime() - settings.lookbackHours * HOUR_MS;
  return { fromMs, window: { from: new Date(fromMs).toISOString(), to: now.toISOString() } };
}

/** Runs `fn` over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The latest of ISO times (nulls skipped; the first of equal times), or null when there is none. */
export function maxIso(values: Iterable<string | null>): string | null {
  let best: string | null = null;
  for (const v of values) if (v !== null && (best === null || Date.parse(v) > Date.parse(best))) best = v;
  return best;
}

/** The counts of a signal batch a run reports. */
export interface SignalCounts {
  received: number;
  inserted: number;
  duplicates: number;
  opened: number;
  reopened: number;
  escalated: number;
}

export function signalCounts(batch: BatchResult): SignalCounts {
  return {
    received: batch.received,
    inserted: batch.inserted,
    duplicates: batch.duplicates,
    opened: batch.opened,
    reopened: batch.reopened,
    escalated: batch.escalated,
  };
}

export interface InboxCounts {
  received: number;
  rejected: number;
}

/**
 * Pulls, then drains the inbox rows the source pushed, even when the pull failed (the push does not need
 * the server). A pull error wins: it is thrown after the drain, whose own error is then only logged (with
 * `drainFailedMessage`). A drain error after a successful pull is thrown.
 */
export async function pullThenDrain<P extends object>(
  pull: () => Promise<P>,
  drain: () => Promise<InboxCounts>,
  log: Logger,
  drainFailedMessage: string,
): Promise<P & { inbox: InboxCounts }> {
  let pulled: P | undefined;
  let pullError: unknown;
  try {
    pulled = await pull();
  } catch (error) {
    pullError = error;
  }
  const inbox = await drain().catch((error: unknown) => {
    if (pulled !== undefined) throw error;
    log.warn({ err: String(error) }, drainFailedMessage);
    return { received: 0, rejected: 0 };
  });
  if (pulled === undefined) throw pullError;
  return { ...pulled, inbox };
}

/** A pull run's result: "failed" when pushed rows were rejected or groups could not be closed. */
export function pullJobResult(summary: { inbox: InboxCounts; close_failures: number }): JobResult {
  return {
    outcome: summary.inbox.rejected > 0 || summary.close_failures > 0 ? "failed" : "succeeded",
    summary: JSON.parse(JSON.stringify(summary)),
  };
}
