/**
 * What sources need of the groups their signals made: which are still active (with the last signal's
 * identity), and closing them when the source reports the problem gone.
 */
import { v7 as uuidv7 } from "uuid";
import { decideSystemClose } from "../core/lifecycle.js";
import { ACTIVE_STATUSES, type JsonObject } from "../core/types.js";
import { type Db, iso } from "./db.js";
import { applyLockedDecision } from "./group-actions.js";

const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

export interface SourceGroup {
  id: string;
  fingerprint: string;
  agency_id: string | null;
  signal_type: string | null;
  job_name: string | null;
  last_seen_at: string;
  /** From the group's last signal. */
  task_id: string | null;
  run_id: string | null;
  details: JsonObject | null;
  /**
   * Another instance of the same source also fed this group (same DAG and error on two deployments): one
   * deployment's recovery does not prove the other's, so such a group is never closed automatically.
   */
  shared: boolean;
}

/** Active groups whose last signal came from this source instance (`details_json.instance`). */
export async function listActiveSourceGroups(
  db: Db,
  filter: { source: string; instance: string; signalTypes: readonly string[] },
): Promise<SourceGroup[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT g.id, g.fingerprint, g.agency_id, g.signal_type, g.job_name, g.last_seen_at, s.task_id, s.run_id,
       s.details_json AS details,
       EXISTS (
         SELECT 1 FROM reporting.notification_signal o
         WHERE o.fingerprint = g.fingerprint AND o.agency_id IS NOT DISTINCT FROM g.agency_id
           AND o.occurred_at >= g.first_seen_at AND o.source = $1
           AND o.details_json->>'instance' IS DISTINCT FROM $2
       ) AS shared
     FROM reporting.notification_signal_group g
     JOIN reporting.notification_signal s ON s.id = g.last_signal_id
     WHERE g.status IN (${ACTIVE_SQL})
       AND g.signal_type = ANY($3::text[])
       AND s.source = $1 AND s.details_json->>'instance' = $2
     ORDER BY g.id`,
    [filter.source, filter.instance, [...filter.signalTypes]],
  );
  return rows.map((r) => ({ ...r, last_seen_at: iso(r.last_seen_at) }) as unknown as SourceGroup);
}

export interface SystemClose {
  groupId: string;
  reason: string;
  /** When the problem was seen gone: a group that failed at or after it stays open. */
  resolvedAt: string;
  metadata?: JsonObject;
}

/**
 * Closes groups as `system`, each in its own short transaction under the grouping key lock, re-checked
 * against the locked row (a failure ingested meanwhile keeps the group open). Returns the ids closed.
 */
export async function closeGroupsAsSystem(
  db: Db,
  closes: readonly SystemClose[],
  now: Date,
  onError?: (groupId: string, error: unknown) => void,
): Promise<string[]> {
  const closed: string[] = [];
  for (const close of closes) {
    try {
      const done = await applyLockedDecision(db, close.groupId, (group) =>
        decideSystemClose(
          group,
          {
            reason: close.reason,
            resolvedAt: close.resolvedAt,
            ...(close.metadata ? { metadata: close.metadata } : {}),
          },
          { now, newId: () => uuidv7() },
        ),
      );
      if (done) closed.push(close.groupId);
    } catch (error) {
      // One close that fails must not stop the others (or the run): it is tried again next run.
      if (onError === undefined) throw error;
      onError(close.groupId, error);
    }
  }
  return closed;
}
