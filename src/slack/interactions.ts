/**
 * Interactive buttons, for organisations that run a receiver (this backend has no web server). The
 * receiver verifies the request with `verifySlackRequest`, then hands the payload here: the action is
 * applied to the group as the Slack user (mapped back through the user map), recorded as `user` activity,
 * and the re-rendered root message is returned for the receiver to show (e.g. via the payload's
 * response_url with replace_original). The next sync of any job brings the stored hash up to date.
 */
import type { Config } from "../config.js";
import type { UserAction } from "../core/lifecycle.js";
import { ACTION_IDS, renderGroupMessage, type SlackMessage } from "../core/render/index.js";
import type { GroupRow } from "../core/types.js";
import { type Db, readDatabaseNow } from "../db/db.js";
import { applyUserAction } from "../db/group-actions.js";
import { findUserBySlackId, loadOwnershipTables } from "../db/ownership.js";
import { loadSyncCandidates } from "../db/slack.js";
import { ObservabilityError } from "../errors.js";
import { renderContextFor } from "./sync.js";

export type InteractionResult =
  | {
      ok: true;
      groupId: string;
      action: InteractionAction;
      /** The internal user id the action was recorded as. */
      userId: string;
      group: GroupRow;
      /** The group's root message, re-rendered after the action. */
      message: SlackMessage;
    }
  /** Refused or not understood; `message` is meant for the clicking user (an ephemeral reply). */
  | { ok: false; message: string };

export type InteractionAction =
  | "acknowledge"
  | "snooze_1h"
  | "snooze_4h"
  | "snooze_24h"
  | "close"
  | "open_ui";

const ACTIONS: Readonly<Record<string, InteractionAction>> = {
  [ACTION_IDS.acknowledge]: "acknowledge",
  [ACTION_IDS.snooze1h]: "snooze_1h",
  [ACTION_IDS.snooze4h]: "snooze_4h",
  [ACTION_IDS.snooze24h]: "snooze_24h",
  [ACTION_IDS.close]: "close",
  [ACTION_IDS.open]: "open_ui",
};

const HOUR_MS = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What we read of a block_actions payload. */
interface ParsedInteraction {
  action: InteractionAction;
  groupId: string;
  slackUserId: string;
}

/** Accepts the payload as an object, as its JSON text, or as the raw form body (`payload=<json>`). */
export function parseInteractionPayload(payload: unknown): ParsedInteraction | { error: string } {
  let value = payload;
  if (typeof value === "string") {
    const text = value.trimStart().startsWith("payload=")
      ? (new URLSearchParams(value).get("payload") ?? "")
      : value;
    try {
      value = JSON.parse(text);
    } catch {
      return { error: "the interaction payload is not JSON" };
    }
  }
  if (typeof value !== "object" || value === null)
    return { error: "the interaction payload is not an object" };
  const p = value as { type?: unknown; user?: { id?: unknown }; actions?: unknown };
  if (p.type !== "block_actions") return { error: `unsupported interaction type ${JSON.stringify(p.type)}` };
  const slackUserId = p.user?.id;
  if (typeof slackUserId !== "string" || slackUserId === "")
    return { error: "the payload names no Slack user" };
  const first = Array.isArray(p.actions)
    ? (p.actions[0] as { action_id?: unknown; value?: unknown })
    : undefined;
  const action = typeof first?.action_id === "string" ? ACTIONS[first.action_id] : undefined;
  if (action === undefined) return { error: `unknown action ${JSON.stringify(first?.action_id ?? null)}` };
  const groupId = first?.value;
  if (typeof groupId !== "string" || !UUID.test(groupId)) {
    return { error: "the button carries no signal group id" };
  }
  return { action, groupId, slackUserId };
}

function toUserAction(action: InteractionAction, now: Date): UserAction | null {
  switch (action) {
    case "acknowledge":
      return { kind: "acknowledge" };
    case "snooze_1h":
      return { kind: "snooze", until: new Date(now.getTime() + HOUR_MS) };
    case "snooze_4h":
      return { kind: "snooze", until: new Date(now.getTime() + 4 * HOUR_MS) };
    case "snooze_24h":
      return { kind: "snooze", until: new Date(now.getTime() + 24 * HOUR_MS) };
    case "close":
      return { kind: "close", reason: "closed from Slack" };
    case "open_ui":
      return null;
  }
}

export async function handleSlackInteraction(
  payload: unknown,
  deps: { db: Db; config: Pick<Config, "slack">; now?: Date },
): Promise<InteractionResult> {
  const parsed = parseInteractionPayload(payload);
  if ("error" in parsed) return { ok: false, message: parsed.error };
  const { db } = deps;
  const now = deps.now ?? (await readDatabaseNow(db));
  // A Slack user with no entry in the user map still acts, under an id that says where it came from.
  const userId = (await findUserBySlackId(db, parsed.slackUserId)) ?? `slack:${parsed.slackUserId}`;
  const action = toUserAction(parsed.action, now);
  if (action !== null) {
    try {
      await applyUserAction(db, parsed.groupId, action, { now, userId });
    } catch (error) {
      if (
        error instanceof ObservabilityError &&
        (error.code === "transition_refused" || error.code === "not_found")
      ) {
        return { ok: false, message: error.message };
      }
      throw error;
    }
  }
  const [group] = await loadSyncCandidates(db, { now, ids: [parsed.groupId], anyStatus: true });
  if (group === undefined) return { ok: false, message: `no signal group with id ${parsed.groupId}` };
  const tables = await loadOwnershipTables(db);
  const { hash: _hash, ...message } = renderGroupMessage(
    group,
    renderContextFor(group, tables, deps.config.slack.interactive),
  );
  return { ok: true, groupId: group.id, action: parsed.action, userId, group, message };
}
