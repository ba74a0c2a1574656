/**
 * The grouping engine's write path: one transaction per batch inserts the signals (idempotent ids),
 * locks the affected keys in a fixed order, lets core/lifecycle decide, and writes groups and activity.
 */
import { v7 as uuidv7 } from "uuid";
import { type CountAdjustment, decideGrouping, type GroupingSignal } from "../core/lifecycle.js";
import type { ActivityRow, GroupRow, SignalRow } from "../core/types.js";
import { sqlState } from "../errors.js";
import { insertActivities } from "./activity.js";
import type { Db, Queryable } from "./db.js";
import {
  countSignalsInRanges,
  insertGroups,
  loadGroupsForUpdate,
  lockGroupKeys,
  updateGroupLifecycle,
} from "./groups.js";
import { insertSignals } from "./signals.js";

export interface IngestOptions {
  now: Date;
  reopenWindowHours: number;
  appBaseUrl: string | undefined;
  /** Extra writes that must commit with the batch (advance a cursor, mark inbox rows processed). */
  alsoInTransaction?: (tx: Queryable) => Promise<void>;
  newId?: () => string;
}

export interface BatchResult {
  received: number;
  inserted: number;
  duplicates: number;
  /** Groups opened. */
  opened: number;
  /** New signals that joined an existing group (active, reopened, or a closed one they predate). */
  attached: number;
  reopened: number;
  escalated: number;
  /** Groups touched by the batch (for the Slack sync that follows). */
  groupIds: string[];
}

const RETRYABLE = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected (cannot happen with ordered locks; kept as a safety net)
  "23505", // unique_violation on the active-group index, if a writer ever skips the key locks
]);
const MAX_ATTEMPTS = 3;

/** Runs a transaction, and runs it again (up to 3 times in all) after a transient conflict. */
export async function transactionWithRetry<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= MAX_ATTEMPTS || state === undefined || !RETRYABLE.has(state)) throw error;
    }
  }
}

/** Ingests one batch of prepared signals in one transaction, retrying transient conflicts. */
export function ingestSignalBatch(
  db: Db,
  rows: readonly SignalRow[],
  options: IngestOptions,
): Promise<BatchResult> {
  return transactionWithRetry(db, (tx) => ingestSignalsInTransaction(tx, rows, options));
}

function keyOf(agencyId: string | null, fingerprint: string): string {
  return `${agencyId ?? ""}\u0000${agencyId === null ? "n" : "v"}\u0000${fingerprint}`;
}

/** The batch's work inside a caller's transaction (the inbox drain selects and marks rows in it too). */
export async function ingestSignalsInTransaction(
  tx: Queryable,
  rows: readonly SignalRow[],
  options: IngestOptions,
): Promise<BatchResult> {
  // One row per id: a batch that repeats a signal counts the repeat as a duplicate.
  const unique = new Map<string, SignalRow>();
  for (const row of rows) if (!unique.has(row.id)) unique.set(row.id, row);
  // In one global order (time, then id): concurrent batches sharing signals then take the unique-index locks
  // in the same order and cannot deadlock on them. Time first keeps the insert order close to the input's,
  // which the (fingerprint, occurred_at) index likes.
  const ordered = [...unique.values()].sort((a, b) =>
    a.occurred_at === b.occurred_at ? (a.id < b.id ? -1 : 1) : a.occurred_at < b.occurred_at ? -1 : 1,
  );
  const insertedIds = await insertSignals(tx, ordered);

  const byKey = new Map<string, GroupingSignal[]>();
  for (const row of unique.values()) {
    if (!insertedIds.has(row.id)) continue;
    const key = keyOf(row.agency_id, row.fingerprint);
    const list = byKey.get(key) ?? [];
    byKey.set(key, list);
    list.push({
      id: row.id,
      occurred_at: row.occurred_at,
      severity: row.severity,
      agency_id: row.agency_id,
      agency_slug: row.agency_slug,
      job_name: row.job_name,
      signal_type: row.signal_type,
      fingerprint: row.fingerprint,
    });
  }

  const result: BatchResult = {
    received: rows.length,
    inserted: insertedIds.size,
    duplicates: rows.length - insertedIds.size,
    opened: 0,
    attached: 0,
    reopened: 0,
    escalated: 0,
    groupIds: [],
  };
  if (byKey.size === 0) {
    await options.alsoInTransaction?.(tx);
    return result;
  }

  const fingerprints = [...new Set([...byKey.values()].map((list) => list[0]?.fingerprint ?? ""))].sort();
  await lockGroupKeys(tx, fingerprints);
  const existing = new Map<string, GroupRow>();
  for (const g of await loadGroupsForUpdate(tx, fingerprints))
    existing.set(keyOf(g.agency_id, g.fingerprint), g);

  const ctx = {
    now: options.now,
    reopenWindowHours: options.reopenWindowHours,
    appBaseUrl: options.appBaseUrl,
    newId: options.newId ?? (() => uuidv7()),
  };
  const inserts: GroupRow[] = [];
  const updates: GroupRow[] = [];
  const activities: ActivityRow[] = [];
  const adjustments: CountAdjustment[] = [];
  for (const [key, signals] of byKey) {
    const decision = decideGrouping(existing.get(key) ?? null, signals, ctx);
    inserts.push(...decision.inserts);
    updates.push(...decision.updates);
    activities.push(...decision.activities);
    adjustments.push(...decision.countAdjustments);
  }
  await finishCounts(tx, [...inserts, ...updates], adjustments);
  for (const a of activities) {
    if (a.action === "opened" || a.action === "reopened" || a.action === "escalated") result[a.action] += 1;
  }
  // Each open or reopen was caused by one signal; every other new signal attached to a group.
  result.attached = result.inserted - result.opened - result.reopened;

  await insertGroups(tx, inserts);
  await updateGroupLifecycle(tx, updates, new Map([...existing.values()].map((g) => [g.id, g])));
  await insertActivities(tx, activities);
  result.groupIds = [...inserts, ...updates].map((g) => g.id);
  await options.alsoInTransaction?.(tx);
  return result;
}

/** Applies the counts only the database can give (signals of earlier batches) to the groups in place. */
async function finishCounts(tx: Queryable, groups: GroupRow[], adjustments: readonly CountAdjustment[]) {
  if (adjustments.length === 0) return;
  const byId = new Map(groups.map((g) => [g.id, g]));
  const counts = await countSignalsInRanges(
    tx,
    adjustments.map((a) => {
      const g = byId.get(a.groupId);
      return {
        fingerprint: g?.fingerprint ?? "",
        agency_id: g?.agency_id ?? null,
        after: a.after,
        until: a.kind === "decay" ? a.until : null,
        minOccurredAt: a.minOccurredAt,
        closedAt: a.closedAt,
      };
    }),
  );
  adjustments.forEach((a, i) => {
    const g = byId.get(a.groupId);
    const n = counts[i] ?? 0;
    if (g) g.count_24h = a.kind === "recount" ? n : g.count_24h - n;
  });
}
