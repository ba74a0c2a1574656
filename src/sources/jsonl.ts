/**
 * Generic ingestion of JSON-lines signals (`observability ingest --file`). The input is streamed: at
 * most one batch is held in memory, and each batch commits in its own transaction.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { parseSignalInput, prepareSignal } from "../core/signal.js";
import type { SignalRow } from "../core/types.js";
import type { Db } from "../db/db.js";
import { type BatchResult, type IngestOptions, ingestSignalBatch } from "../db/ingest.js";
import { ObservabilityError, throwIfStopped } from "../errors.js";

export interface RejectedLine {
  line: number;
  reason: string;
}

export interface IngestSummary {
  received: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  opened: number;
  attached: number;
  reopened: number;
  escalated: number;
  /** The first rejected lines (at most `MAX_REPORTED_REJECTIONS`), with their reasons. */
  rejections: RejectedLine[];
}

export const MAX_REPORTED_REJECTIONS = 100;
export const DEFAULT_BATCH_SIZE = 20_000;
/** How many lines to parse between turns of the event loop (see ingestJsonLines). */
const YIELD_EVERY_LINES = 200;
/** Flush a batch early when its text passes this size, so a few huge lines cannot exhaust memory. */
const MAX_BATCH_CHARS = 16 * 1024 * 1024;

export function emptySummary(): IngestSummary {
  return {
    received: 0,
    inserted: 0,
    duplicates: 0,
    rejected: 0,
    opened: 0,
    attached: 0,
    reopened: 0,
    escalated: 0,
    rejections: [],
  };
}

export function addBatch(summary: IngestSummary, batch: BatchResult): void {
  summary.inserted += batch.inserted;
  summary.duplicates += batch.duplicates;
  summary.opened += batch.opened;
  summary.attached += batch.attached;
  summary.reopened += batch.reopened;
  summary.escalated += batch.escalated;
}

export function addRejection(summary: IngestSummary, rejection: RejectedLine): void {
  summary.rejected += 1;
  if (summary.rejections.length < MAX_REPORTED_REJECTIONS) summary.rejections.push(rejection);
}

/** Parses one line: JSON, then the signal schema. */
export function parseSignalLine(text: string): { ok: true; row: SignalRow } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = parseSignalInput(raw);
  return parsed.ok ? { ok: true, row: prepareSignal(parsed.value) } : parsed;
}

/**
 * Streams JSON lines into the grouping engine. Batches commit one after another, in input order, but the
 * next batch is parsed and fingerprinted while the database works on the previous one, so the CPU work of
 * this process overlaps with the server's; at most two batches are held in memory.
 */
export async function ingestJsonLines(
  db: Db,
  input: Readable,
  options: IngestOptions & {
    batchSize?: number;
    onRejected?: (rejection: RejectedLine) => void;
    onBatch?: (summary: IngestSummary) => void;
    /** Stop at the next batch boundary (the batch in flight commits first). */
    stopSignal?: AbortSignal;
  },
): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const summary = emptySummary();
  let batch: SignalRow[] = [];
  let batchChars = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let batchFirstLine = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    const firstLine = batchFirstLine;
    batch = [];
    batchChars = 0;
    await inFlight;
    throwIfStopped(options.stopSignal);
    inFlight = ingestSignalBatch(db, rows, options).then(
      (result) => {
        addBatch(summary, result);
        options.onBatch?.(summary);
      },
      (error: unknown) => {
        throw new ObservabilityError(
          "ingest_batch_failed",
          `the batch starting at line ${firstLine} was not stored (${error instanceof Error ? error.message : String(error)}); ${summary.inserted + summary.duplicates} signals before it are committed, and running the same input again is safe (stored signals are skipped)`,
          { cause: error },
        );
      },
    );
    // The failure is raised by the next flush (or the final await); this only keeps Node from reporting it
    // as unhandled while the next batch is being parsed.
    inFlight.catch(() => {});
  };
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    // Parsing is synchronous work: give the event loop a turn now and then, so the database's replies to
    // the batch in flight are handled promptly and its next statement goes out while we keep parsing.
    if (lineNumber % YIELD_EVERY_LINES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (text.trim() === "") continue;
    summary.received += 1;
    const parsed = parseSignalLine(text);
    if (!parsed.ok) {
      const rejection = { line: lineNumber, reason: parsed.reason };
      addRejection(summary, rejection);
      options.onRejected?.(rejection);
      continue;
    }
    if (batch.length === 0) batchFirstLine = lineNumber;
    batch.push(parsed.row);
    batchChars += text.length;
    if (batch.length >= batchSize || batchChars >= MAX_BATCH_CHARS) await flush();
  }
  await flush();
  await inFlight;
  return summary;
}
