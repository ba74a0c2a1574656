/**
 * Slack sync: makes Slack show what the database says. For each candidate group, in order:
 *  1. route it when it starts an open period (new or reopened);
 *  2. post its root message (intent marked first; a lost root is found again by its metadata) or update it
 *     when the rendered hash changed (at most one update per group per run);
 *  3. summarise lifecycle events since the last one in a single thread reply;
 *  4. claim and send the owner DM once per open period, falling back to the secondary owner, then to a
 *     mention-free note in the root's thread.
 * Every Slack failure is classified (errors.ts): a broken token stops the run, a channel problem is recorded
 * on the group, a rate limit waits if the run's budget allows and otherwise leaves the group for next time.
 */
import { v7 as uuidv7 } from "uuid";
import {
  type RenderContext,
  type RenderedMessage,
  renderGroupMessage,
  renderMinimalText,
  renderOwnerDm,
  renderThreadReply,
  renderUndeliveredDmNote,
  type SlackMessage,
  type ThreadEvent,
} from "../core/render/index.js";
import { dmCandidates, type OwnershipTables, routeGroup } from "../core/routing.js";
import type { ActivityAction, ActivityRow, JsonObject } from "../core/types.js";
import type { Db } from "../db/db.js";
import { loadOwnershipTables } from "../db/ownership.js";
import {
  claimOpenNotification,
  insertActivity,
  listThreadEvents,
  loadSyncCandidates,
  markRepostIntent,
  markRootIntent,
  moveThreadCursor,
  type RouteWrite,
  recordSlackError,
  releaseOpenNotification,
  type SyncGroup,
  saveRoutes,
  storeRoot,
  storeUpdate,
  type ThreadActivity,
} from "../db/slack.js";
import { ObservabilityError, throwIfStopped } from "../errors.js";
import type { Logger } from "../log.js";
import { type PostMessageArgs, ROOT_METADATA_EVENT, type SlackApi } from "./api.js";
import { SlackCallError } from "./errors.js";

export interface SyncOptions {
  db: Db;
  slack: SlackApi;
  log: Logger;
  now: Date;
  /** Channel for new root messages. */
  channel: string;
  interactive: boolean;
  /** Total time this run may spend waiting for Slack rate limits (ms). */
  rateLimitBudgetMs: number;
  /** Waits (injectable so tests can observe the wait without taking it). */
  sleep?: (ms: number) => Promise<void>;
  /** Only these groups (interactions, tests). */
  groupIds?: readonly string[];
  /** Stop between groups when aborted. */
  stopSignal?: AbortSignal;
}

export interface SyncSummary {
  /** Where messages went; "off" without a token on a shared database. */
  mode: SlackApi["kind"] | "off";
  groups: number;
  posted: number;
  reposted: number;
  updated: number;
  unchanged: number;
  thread_replies: number;
  dms: number;
  dm_fallbacks: number;
  dm_undelivered: number;
  text_fallbacks: number;
  rate_limit_waited_ms: number;
  /** Left for the next run (rate limit beyond the budget, Slack unreachable). */
  deferred: number;
  /** Groups that could not be delivered this run; the reason is on the group and in `errors`. */
  failed: number;
  errors: { group_id: string; error: string }[];
  /** Set when this run did not sync because another run was syncing. */
  skipped?: string;
}

export function emptySyncSummary(mode: SyncSummary["mode"]): SyncSummary {
  return {
    mode,
    groups: 0,
    posted: 0,
    reposted: 0,
    updated: 0,
    unchanged: 0,
    thread_replies: 0,
    dms: 0,
    dm_fallbacks: 0,
    dm_undelivered: 0,
    text_fallbacks: 0,
    rate_limit_waited_ms: 0,
    deferred: 0,
    failed: 0,
    errors: [],
  };
}

/** Stops the rest of the run's Slack work (rate limit beyond budget, Slack unreachable). */
class DeferRun extends Error {}

const MAX_CONSECUTIVE_TRANSIENT = 3;
const ERRORS_IN_SUMMARY = 20;

export async function syncSlack(options: SyncOptions): Promise<SyncSummary> {
  const { db, log, now } = options;
  const summary = emptySyncSummary(options.slack.kind);
  const tables = await loadOwnershipTables(db);
  const groups = await loadSyncCandidates(db, {
    now,
    ...(options.groupIds ? { ids: options.groupIds } : {}),
  });
  summary.groups = groups.length;

  // 1. Route groups never routed (an assignment someone made first is kept, as rule `manual`).
  const routes: RouteWrite[] = [];
  for (const g of groups) {
    if (g.assignment_rule !== null) continue;
    const route = routeGroup(g, tables);
    routes.push({ id: g.id, userId: route.userId, teamId: route.teamId, rule: route.rule });
  }
  const stored = new Map((await saveRoutes(db, routes)).map((r) => [r.id, r]));
  for (const g of groups) {
    const r = stored.get(g.id);
    if (r === undefined) continue;
    g.assigned_to_user_id = r.assigned_to_user_id;
    g.assigned_team_id = r.assigned_team_id;
    g.assignment_rule = r.assignment_rule;
  }

  const brokenChannels = new Map<string, string>();
  const ctx: GroupSyncContext = {
    ...options,
    tables,
    summary,
    brokenChannels,
    budget: { remainingMs: options.rateLimitBudgetMs },
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };

  let consecutiveTransient = 0;
  try {
    for (const [index, group] of groups.entries()) {
      throwIfStopped(options.stopSignal);
      try {
        await syncGroup(ctx, group);
        consecutiveTransient = 0;
      } catch (error) {
        if (!(error instanceof SlackCallError)) throw error;
        // Auth problems end the run (a claim this group took was given back by syncGroup).
        if (error.category === "auth") throw slackAuthError(error);
        if (error.category === "rate_limited") {
          summary.deferred += groups.length - index;
          log.warn(
            { retry_after_s: error.retryAfterSeconds, deferred: groups.length - index },
            "Slack rate limit longer than this run's wait budget; the remaining groups wait for the next run",
          );
          throw new DeferRun();
        }
        noteFailure(ctx, group.id, error);
        await recordSlackError(db, group.id, error.slackError, now);
        if (error.category === "transient" && ++consecutiveTransient >= MAX_CONSECUTIVE_TRANSIENT) {
          summary.deferred += groups.length - index - 1;
          log.error(
            { error: error.slackError },
            "Slack unreachable; the remaining groups wait for the next run",
          );
          throw new DeferRun();
        }
      }
    }
  } catch (error) {
    if (!(error instanceof DeferRun)) throw error;
  }
  return summary;
}

interface GroupSyncContext extends SyncOptions {
  tables: OwnershipTables;
  summary: SyncSummary;
  brokenChannels: Map<string, string>;
  budget: { remainingMs: number };
  sleep: (ms: number) => Promise<void>;
}

function noteFailure(ctx: GroupSyncContext, groupId: string, error: SlackCallError) {
  ctx.summary.failed += 1;
  if (ctx.summary.errors.length < ERRORS_IN_SUMMARY) {
    ctx.summary.errors.push({ group_id: groupId, error: `${error.method}: ${error.slackError}` });
  }
  ctx.log.warn(
    { group_id: groupId, method: error.method, error: error.slackError, details: error.details },
    "Slack delivery failed for a group",
  );
}

export function slackAuthError(error: SlackCallError): ObservabilityError {
  const scope =
    error.slackError === "missing_scope" && error.details.length > 0 ? ` (${error.details.join(", ")})` : "";
  return new ObservabilityError(
    "slack_auth",
    `Slack rejected the bot token (${error.slackError}${scope} on ${error.method}); install the app again or create a new bot token with the chat:write, im:write and channels:history scopes and set SLACK_BOT_TOKEN. Nothing was lost: the next run delivers what this one could not`,
    { cause: error },
  );
}

/** Calls Slack, waiting out a 429 while the run's budget allows; beyond it the error propagates. */
async function withRateLimit<T>(ctx: GroupSyncContext, call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SlackCallError) || error.category !== "rate_limited") throw error;
      const waitMs = Math.max(1, error.retryAfterSeconds ?? 60) * 1000;
      if (waitMs > ctx.budget.remainingMs) throw error;
      ctx.budget.remainingMs -= waitMs;
      ctx.summary.rate_limit_waited_ms += waitMs;
      ctx.log.info({ method: error.method, wait_ms: waitMs }, "Slack rate limit; waiting as asked");
      await ctx.sleep(waitMs);
    }
  }
}

function renderContextFor(group: SyncGroup, tables: OwnershipTables, interactive: boolean): RenderContext {
  const slackId = (userId: string | null) =>
    userId === null ? null : (tables.slackUserIds.get(userId) ?? null);
  return {
    ownerSlackUserId: slackId(group.assigned_to_user_id),
    ownerUserId: group.assigned_to_user_id,
    ownerTeamId: group.assigned_team_id,
    acknowledgedBySlackUserId: slackId(group.acknowledged_by_user_id),
    closedReason: group.closed_reason,
    errorMessage: group.last_error_message,
    stage: group.last_stage,
    errorClass: group.last_error_class,
    interactive,
  };
}

export { renderContextFor };

function systemActivity(
  now: Date,
  groupId: string,
  action: ActivityAction,
  metadata: JsonObject,
): ActivityRow {
  return {
    id: uuidv7(),
    signal_group_id: groupId,
    created_at: now.toISOString(),
    actor_type: "system",
    actor_user_id: null,
    action,
    metadata_json: metadata,
  };
}

async function syncGroup(ctx: GroupSyncContext, group: SyncGroup): Promise<void> {
  const { summary } = ctx;
  const renderCtx = renderContextFor(group, ctx.tables, ctx.interactive);
  const message = renderGroupMessage(group, renderCtx);
  const storedRoot =
    group.slack_root_ts !== null &&
    group.slack_channel_id !== null &&
    ctx.slack.ownsChannel(group.slack_channel_id)
      ? { channel: group.slack_channel_id, ts: group.slack_root_ts }
      : null;

  let root: { channel: string; ts: string } | null = null;
  let freshRoot = false;
  let rootError: SlackCallError | null = null;
  try {
    const broken = ctx.brokenChannels.get(storedRoot?.channel ?? ctx.channel);
    if (broken !== undefined) {
      // The same channel failed for an earlier group this run: do not call it again, record the same reason.
      throw new SlackCallError({
        method: storedRoot ? "chat.update" : "chat.postMessage",
        slackError: broken,
      });
    }
    if (storedRoot === null) {
      const replacing =
        group.slack_root_ts !== null
          ? {
              ts: group.slack_root_ts,
              reason: "previous root was written to another target (outbox or Slack)",
            }
          : null;
      root = await postRoot(ctx, group, message, replacing);
      freshRoot = true;
    } else if (message.hash !== group.slack_message_hash) {
      const outcome = await updateRoot(ctx, group, storedRoot, message);
      root = outcome.root;
      freshRoot = outcome.reposted;
    } else {
      root = storedRoot;
      summary.unchanged += 1;
    }
  } catch (error) {
    if (!(error instanceof SlackCallError) || error.category !== "channel") throw error;
    ctx.brokenChannels.set(storedRoot?.channel ?? ctx.channel, error.slackError);
    rootError = error;
  }

  if (root !== null && !freshRoot && group.has_thread_events) await replyInThread(ctx, group, root);
  // The owner hears about it even when the channel is broken (the DM then has no link to the root).
  await notifyOwnerOnce(ctx, group, renderCtx, root);
  if (rootError !== null) throw rootError;
}

/**
 * The owner DM, once per open period: claimed right before sending and given back if nothing could be
 * delivered. A claim whose outcome was never recorded (the claiming run died) is sent again.
 */
async function notifyOwnerOnce(
  ctx: GroupSyncContext,
  group: SyncGroup,
  renderCtx: RenderContext,
  root: { channel: string; ts: string } | null,
) {
  if (group.status !== "open") return;
  if (group.opened_notified_at === null) {
    if (!(await claimOpenNotification(ctx.db, group.id, ctx.now))) return;
  } else if (group.owner_dm_unrecorded) {
    ctx.log.warn(
      { group_id: group.id },
      "a run died between claiming and recording an owner DM; sending it again",
    );
  } else {
    return;
  }
  const delivery = { delivered: false };
  try {
    await notifyOwner(ctx, group, renderCtx, root, delivery);
  } catch (error) {
    // Give the claim back only if nothing reached anyone; a failed write after a send must not send twice.
    if (!delivery.delivered && group.opened_notified_at === null) {
      await releaseOpenNotification(ctx.db, group.id, ctx.now);
    }
    throw error;
  }
}

/** Posts with a text-only retry when Slack refuses the blocks (invalid_blocks, msg_too_long, ...). */
async function postWithTextFallback(
  ctx: GroupSyncContext,
  groupId: string,
  args: PostMessageArgs,
  minimalText: () => string,
): Promise<{ channel: string; ts: string; fallback: string | null }> {
  try {
    return { ...(await withRateLimit(ctx, () => ctx.slack.postMessage(args))), fallback: null };
  } catch (error) {
    if (!(error instanceof SlackCallError) || error.category !== "content") throw error;
    logContentRejected(ctx, groupId, error);
    const { blocks: _blocks, ...rest } = args;
    const posted = await withRateLimit(ctx, () => ctx.slack.postMessage({ ...rest, text: minimalText() }));
    ctx.summary.text_fallbacks += 1;
    return { ...posted, fallback: error.slackError };
  }
}

/**
 * Posts a root message: the first one, or a replacement for one that is gone (`replacing`). The intent is
 * committed first; if an earlier run left an intent, the message it may have posted is looked for by its
 * metadata before posting again.
 */
async function postRoot(
  ctx: GroupSyncContext,
  group: SyncGroup,
  message: RenderedMessage,
  replacing: { ts: string; reason: string } | null,
): Promise<{ channel: string; ts: string }> {
  const { db, now, summary } = ctx;
  const channel = ctx.channel;
  if (group.slack_post_started_at !== null) {
    const startedAt = Math.floor(Date.parse(group.slack_post_started_at) / 1000);
    const found = await withRateLimit(ctx, () =>
      ctx.slack.findMessageByMetadata({
        channel,
        eventType: ROOT_METADATA_EVENT,
        key: "group_id",
        value: group.id,
        // The intent is written just before the post; Slack's clock may differ from ours by a little.
        oldestEpochSeconds: startedAt - 3600,
        latestEpochSeconds: startedAt + 3600,
        ...(replacing ? { newerThanTs: replacing.ts } : {}),
      }),
    );
    if (found !== null) {
      ctx.log.info(
        { group_id: group.id, ts: found },
        "found the root message an interrupted run posted; adopting it",
      );
      // Stored without a hash, so it is brought up to date right away.
      await storeRoot(db, {
        id: group.id,
        channel,
        ts: found,
        hash: null,
        now,
        threadCursor: group.latest_activity_id,
        activity: systemActivity(now, group.id, "slack_posted", {
          kind: "root",
          channel,
          ts: found,
          recovered: "found by metadata after an interrupted run",
        }),
      });
      const adopted = {
        ...group,
        slack_root_ts: found,
        slack_channel_id: channel,
        slack_post_started_at: null,
      };
      await updateRoot(ctx, adopted, { channel, ts: found }, message);
      return { channel, ts: found };
    }
  }
  const marked = replacing
    ? await markRepostIntent(db, group.id, replacing.ts, now, group.slack_post_started_at)
    : await markRootIntent(db, group.id, now, group.slack_post_started_at);
  if (!marked) {
    // Another run posted or is posting this root; it owns it.
    throw new SlackCallError({
      method: "chat.postMessage",
      slackError: "root_changed_concurrently",
      category: "other",
    });
  }
  const metadata = { event_type: ROOT_METADATA_EVENT, event_payload: { group_id: group.id } };
  const posted = await postWithTextFallback(
    ctx,
    group.id,
    { channel, text: message.text, blocks: message.blocks, metadata },
    () => renderMinimalText(group, renderContextFor(group, ctx.tables, ctx.interactive)).text,
  );
  // The thread starts after everything this rendering already shows (read in the same statement as it).
  await storeRoot(db, {
    id: group.id,
    channel: posted.channel,
    ts: posted.ts,
    hash: message.hash,
    now,
    threadCursor: group.latest_activity_id,
    activity: systemActivity(now, group.id, "slack_posted", {
      kind: "root",
      channel: posted.channel,
      ts: posted.ts,
      ...(replacing ? { replaces_ts: replacing.ts, reason: replacing.reason } : {}),
      ...(posted.fallback ? { fallback: "minimal_text", slack_error: posted.fallback } : {}),
    }),
  });
  if (replacing) summary.reposted += 1;
  else summary.posted += 1;
  return { channel: posted.channel, ts: posted.ts };
}

/**
 * Updates the root in place. A root that is gone, cannot be edited, or sits in a channel that no longer
 * works while another channel is configured, is replaced by a fresh root in the configured channel.
 */
async function updateRoot(
  ctx: GroupSyncContext,
  group: SyncGroup,
  root: { channel: string; ts: string },
  message: RenderedMessage,
): Promise<{ reposted: boolean; root: { channel: string; ts: string } }> {
  const { db, now, summary } = ctx;
  let fallback: string | null = null;
  try {
    await withRateLimit(ctx, () =>
      ctx.slack.updateMessage({
        channel: root.channel,
        ts: root.ts,
        text: message.text,
        blocks: message.blocks,
      }),
    );
  } catch (error) {
    if (!(error instanceof SlackCallError)) throw error;
    const movedChannel = error.category === "channel" && root.channel !== ctx.channel;
    if (error.category === "message_gone" || movedChannel) {
      ctx.log.warn(
        { group_id: group.id, ts: root.ts, error: error.slackError },
        "root message unusable; posting a fresh one",
      );
      const fresh = await postRoot(ctx, group, message, {
        ts: root.ts,
        reason: `previous root ${error.slackError}`,
      });
      return { reposted: true, root: fresh };
    }
    if (error.category !== "content") throw error;
    fallback = error.slackError;
    logContentRejected(ctx, group.id, error);
    const minimal = renderMinimalText(group, renderContextFor(group, ctx.tables, ctx.interactive));
    await withRateLimit(ctx, () =>
      ctx.slack.updateMessage({ channel: root.channel, ts: root.ts, text: minimal.text, blocks: [] }),
    );
    summary.text_fallbacks += 1;
  }
  await storeUpdate(db, {
    id: group.id,
    hash: message.hash,
    now,
    activity: systemActivity(now, group.id, "slack_updated", {
      channel: root.channel,
      ts: root.ts,
      ...(fallback ? { fallback: "minimal_text", slack_error: fallback } : {}),
    }),
  });
  summary.updated += 1;
  return { reposted: false, root };
}

function logContentRejected(ctx: GroupSyncContext, groupId: string, error: SlackCallError) {
  ctx.log.warn(
    { group_id: groupId, method: error.method, error: error.slackError, details: error.details },
    "Slack rejected the rendered message; sent a minimal text version instead",
  );
}

function toThreadEvent(a: ThreadActivity, tables: OwnershipTables): ThreadEvent {
  const meta = a.metadata_json ?? {};
  const text = (key: string) => (typeof meta[key] === "string" ? (meta[key] as string) : null);
  switch (a.action) {
    case "reopened":
      // A snooze running out is recorded as a reopen from "snoozed"; it reads differently in the thread.
      return text("from") === "snoozed" ? { kind: "snooze_expired" } : { kind: "reopened" };
    case "escalated": {
      // The T8 reminder escalates to more people; a severity escalation carries from/to.
      if (text("reason") === "unacknowledged") {
        const notified = Array.isArray(meta.notified) ? meta.notified.map(String) : [];
        return {
          kind: "reminder_escalated",
          hours: typeof meta.hours === "number" ? meta.hours : 0,
          notified,
        };
      }
      return { kind: "escalated", from: text("from") ?? "?", to: text("to") ?? "?" };
    }
    case "closed":
      return { kind: "closed", reason: text("reason") };
    case "acknowledged":
      return {
        kind: "acknowledged",
        byUserId: a.actor_user_id,
        bySlackUserId: a.actor_user_id === null ? null : (tables.slackUserIds.get(a.actor_user_id) ?? null),
      };
    case "snoozed":
      return { kind: "snoozed", until: text("until") ?? "" };
  }
}

/** One reply for all lifecycle events since the last reply (claimed by moving the cursor first). */
async function replyInThread(ctx: GroupSyncContext, group: SyncGroup, root: { channel: string; ts: string }) {
  const { db, now } = ctx;
  const events = await listThreadEvents(db, group.id, group.slack_thread_cursor);
  const last = events.at(-1);
  if (last === undefined) return;
  if (!(await moveThreadCursor(db, group.id, group.slack_thread_cursor, last.id))) return;
  const reply = renderThreadReply(
    group,
    events.map((e) => toThreadEvent(e, ctx.tables)),
  );
  let posted: { ts: string; fallback: string | null };
  try {
    posted = await postWithTextFallback(
      ctx,
      group.id,
      { channel: root.channel, text: reply.text, blocks: reply.blocks, threadTs: root.ts },
      () => reply.text,
    );
  } catch (error) {
    // Not sent: give the events back to the next run.
    await moveThreadCursor(db, group.id, last.id, group.slack_thread_cursor).catch(() => undefined);
    throw error;
  }
  await insertActivity(
    db,
    systemActivity(now, group.id, "slack_posted", {
      kind: "thread_reply",
      channel: root.channel,
      ts: posted.ts,
      events: events.map((e) => e.action),
    }),
  );
  ctx.summary.thread_replies += 1;
}

/**
 * The owner DM: the assigned owner, then the secondary owner, each through the user map and
 * conversations.open; a person who cannot be DMed for any reason but a broken token, a rate limit or Slack
 * being down is skipped and recorded. When nobody could be DMed, a mention-free note in the root's thread
 * says so (or, without a root, the outcome is recorded and logged).
 */
async function notifyOwner(
  ctx: GroupSyncContext,
  group: SyncGroup,
  renderCtx: RenderContext,
  root: { channel: string; ts: string } | null,
  delivery: { delivered: boolean },
) {
  const { db, now, summary } = ctx;
  const route = routeGroup(group, ctx.tables);
  // The stored assignment wins over a fresh route (it may have been set by a person).
  const candidates = dmCandidates(
    { ...route, userId: group.assigned_to_user_id, teamId: group.assigned_team_id },
    ctx.tables.slackUserIds,
  );
  const reason = group.was_reopened ? "reopened" : "opened";
  const record = (metadata: JsonObject) =>
    insertActivity(
      db,
      systemActivity(now, group.id, "slack_posted", {
        kind: "owner_dm",
        rule: group.assignment_rule,
        reason,
        ...metadata,
      }),
    );
  if (candidates.length === 0) {
    await record({ outcome: "unowned", team_id: group.assigned_team_id });
    return;
  }
  const problems: string[] = [];
  let permalink: string | null | undefined = root === null ? null : undefined;
  for (const candidate of candidates) {
    const slackUserId = candidate.slackUserId;
    if (slackUserId === null) {
      problems.push(`${candidate.userId}: no Slack user mapping`);
      continue;
    }
    try {
      if (permalink === undefined && root !== null) {
        permalink = await withRateLimit(ctx, () => ctx.slack.getPermalink(root.channel, root.ts)).catch(
          (error: unknown) => {
            if (error instanceof SlackCallError && isRunLevel(error)) throw error;
            return null;
          },
        );
      }
      const dmChannel = await withRateLimit(ctx, () => ctx.slack.openDm(slackUserId));
      const dm: SlackMessage = renderOwnerDm(group, {
        ...renderCtx,
        permalink: permalink ?? null,
        reason,
        role: candidate.role,
      });
      const posted = await postWithTextFallback(
        ctx,
        group.id,
        { channel: dmChannel, text: dm.text, blocks: dm.blocks },
        () => dm.text,
      );
      delivery.delivered = true;
      await record({
        outcome: "sent",
        role: candidate.role,
        user_id: candidate.userId,
        slack_user_id: slackUserId,
        channel: dmChannel,
        ts: posted.ts,
        ...(problems.length > 0 ? { skipped: problems } : {}),
      });
      summary.dms += 1;
      if (candidate.role !== "primary") summary.dm_fallbacks += 1;
      return;
    } catch (error) {
      if (!(error instanceof SlackCallError) || isRunLevel(error)) throw error;
      ctx.log.warn(
        { group_id: group.id, user_id: candidate.userId, error: error.slackError },
        "owner DM failed; trying the next person",
      );
      problems.push(`${candidate.userId}: ${error.slackError}`);
    }
  }
  summary.dm_undelivered += 1;
  if (root === null) {
    ctx.log.warn(
      { group_id: group.id, problems },
      "nobody could be DMed and the group has no root message to note it in",
    );
    await record({ outcome: "undelivered", problems });
    delivery.delivered = true;
    return;
  }
  // Nobody could be DMed: say so where people look, without pinging anyone.
  const note = renderUndeliveredDmNote(group, renderCtx, problems);
  const posted = await postWithTextFallback(
    ctx,
    group.id,
    { channel: root.channel, text: note.text, blocks: note.blocks, threadTs: root.ts },
    () => note.text,
  );
  delivery.delivered = true;
  await record({ outcome: "undelivered", problems, note_channel: root.channel, note_ts: posted.ts });
}

/** Errors that are about the run (token, rate limit, Slack down), not about one person or message. */
function isRunLevel(error: SlackCallError): boolean {
  return error.category === "auth" || error.category === "rate_limited" || error.category === "transient";
}
