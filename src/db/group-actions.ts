import { v7 as uuidv7 } from "uuid";
import { decideUserAction, type UserAction, type UserActionResult } from "../core/lifecycle.js";
import type { GroupRow } from "../core/types.js";
import { ObservabilityError } from "../errors.js";
import { insertActivities } from "./activity.js";
import type { Db } from "./db.js";
import { findActiveGroupId, findGroup, lockGroupKeys, updateGroupLifecycle } from "./groups.js";
import { transactionWithRetry } from "./ingest.js";

/**
 * Applies a person's action (acknowledge, snooze, close, reopen) under the same key lock as ingestion,
 * and records it as `user` activity. Refusals and unknown ids are errors with a message to show as is.
 */
export async function applyUserAction(
  db: Db,
  groupId: string,
  action: UserAction,
  ctx: { now: Date; userId: string },
): Promise<GroupRow> {
  return transactionWithRetry(db, async (tx) => {
    const unlocked = await findGroup(tx, groupId);
    if (unlocked === null) throw new ObservabilityError("not_found", `no signal group with id ${groupId}`);
    await lockGroupKeys(tx, [unlocked.fingerprint]);
    const group = await findGroup(tx, groupId, true);
    if (group === null) throw new ObservabilityError("not_found", `no signal group with id ${groupId}`);
    if (action.kind === "reopen" && group.status === "closed") {
      const active = await findActiveGroupId(tx, group);
      if (active !== null) {
        throw new ObservabilityError(
          "transition_refused",
          `cannot reopen group ${group.id}: group ${active} is already active for the same problem; act on that one`,
        );
      }
    }
    const decision = decideUserAction(group, action, {
      now: ctx.now,
      userId: ctx.userId,
      newId: () => uuidv7(),
    });
    if (!decision.ok) throw new ObservabilityError("transition_refused", decision.reason);
    await updateGroupLifecycle(tx, [decision.group], new Map([[group.id, group]]));
    await insertActivities(tx, [decision.activity]);
    return decision.group;
  });
}

/**
 * Applies a system decision to one group in its own transaction, under the grouping key lock and with the
 * row locked, so it is decided on the current state. False when the decision refused (nothing written).
 */
export async function applyLockedDecision(
  db: Db,
  groupId: string,
  decide: (group: GroupRow) => UserActionResult,
): Promise<GroupRow | null> {
  return transactionWithRetry(db, async (tx) => {
    const unlocked = await findGroup(tx, groupId);
    if (unlocked === null) return null;
    await lockGroupKeys(tx, [unlocked.fingerprint]);
    const group = await findGroup(tx, groupId, true);
    if (group === null) return null;
    const decision = decide(group);
    if (!decision.ok) return null;
    await updateGroupLifecycle(tx, [decision.group], new Map([[group.id, group]]));
    await insertActivities(tx, [decision.activity]);
    return decision.group;
  });
}
