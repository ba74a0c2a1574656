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
  hasReopenedActivity,
  insertActivity,
  latestActivityId,
  listThreadEvents,
  loadSyncCandidates,
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
import { ObservabilityError } from "../errors.js";
import type { Logger } from "../log.js";
import { ROOT_METADATA_EVENT, type SlackApi } from "./api.js";
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
}

export interface SyncSummary {
  mode: SlackApi["kind"];
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

export function emptySyncSummary(mode: SlackApi["kind"]): SyncSummary {
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

  // 1. Route groups entering an open period, then claim the owner notifications of open ones.
  const routes: RouteWrite[] = [];
  for (const g of groups) {
    if (g.opened_notified_at !== null && g.assignment_rule !== null) continue;
    const route = routeGroup(g, tables);
    routes.push({ id: g.id, userId: route.userId, teamId: route.teamId, rule: route.rule });
    g.assigned_to_user_id = route.userId;
    g.assigned_team_id = route.teamId;
    g.assignment_rule = route.rule;
  }
  await saveRoutes(db, routes);
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

function slackAuthError(error: SlackCallError): ObservabilityError {
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
  const channel = group.slack_channel_id ?? ctx.channel;
  const broken = ctx.brokenChannels.get(channel);
  if (broken !== undefined) {
    // Same channel failed for an earlier group this run: do not call again, record the same reason.
    throw new SlackCallError({ method: "chat.postMessage", slackError: broken });
  }

  let rootTs = group.slack_root_ts;
  let rootChannel = group.slack_channel_id;
  let freshRoot = false;
  try {
    if (rootTs === null || rootChannel === null) {
      ({ ts: rootTs, channel: rootChannel } = await postRoot(ctx, group, message, null));
      freshRoot = true;
    } else if (message.hash !== group.slack_message_hash) {
      const outcome = await updateRoot(ctx, group, rootChannel, rootTs, message);
      if (outcome.reposted) {
        ({ ts: rootTs, channel: rootChannel } = outcome.root);
        freshRoot = true;
      }
    } else {
      summary.unchanged += 1;
    }
  } catch (error) {
    if (error instanceof SlackCallError && error.category === "channel")
      ctx.brokenChannels.set(channel, error.slackError);
    throw error;
  }

  if (!freshRoot) await replyInThread(ctx, group, rootChannel, rootTs);
  // The owner DM, once per open period: claimed right before sending, given back if it cannot be sent, so
  // only a process killed in between can lose it.
  if (group.status === "open" && group.opened_notified_at === null) {
    const claimed = await claimOpenNotification(ctx.db, group.id, ctx.now);
    if (!claimed) return;
    try {
      await notifyOwner(ctx, group, renderCtx, rootChannel, rootTs);
    } catch (error) {
      await releaseOpenNotification(ctx.db, group.id, ctx.now);
      throw error;
    }
  }
}

async function postRoot(
  ctx: GroupSyncContext,
  group: SyncGroup,
  message: RenderedMessage,
  replacing: { ts: string; reason: string } | null,
): Promise<{ channel: string; ts: string }> {
  const { db, now, summary } = ctx;
  const channel = ctx.channel;
  // A run that died between its post and storing the ts left an intent: look for that message first.
  if (replacing === null && group.slack_post_started_at !== null) {
    const oldest = Math.floor(Date.parse(group.slack_post_started_at) / 1000) - 3600;
    const found = await withRateLimit(ctx, () =>
      ctx.slack.findMessageByMetadata({
        channel,
        eventType: ROOT_METADATA_EVENT,
        key: "group_id",
        value: group.id,
        oldestEpochSeconds: oldest,
      }),
    );
    if (found !== null) {
      ctx.log.info(
        { group_id: group.id, ts: found },
        "found the root message an interrupted run posted; adopting it",
      );
      // Stored with no hash, so it is brought up to date right away.
      await storeRoot(db, {
        id: group.id,
        channel,
        ts: found,
        hash: null,
        now,
        threadCursor: await latestActivityId(db, group.id),
        activity: systemActivity(now, group.id, "slack_posted", {
          kind: "root",
          channel,
          ts: found,
          recovered: "found by metadata after an interrupted run",
        }),
      });
      await updateRoot(
        ctx,
        { ...group, slack_root_ts: found, slack_channel_id: channel },
        channel,
        found,
        message,
      );
      return { channel, ts: found };
    }
  }
  if (!(await markRootIntent(db, group.id, now)) && replacing === null) {
    throw new SlackCallError({
      method: "chat.postMessage",
      slackError: "root_posted_concurrently",
      category: "other",
    });
  }
  const metadata = { event_type: ROOT_METADATA_EVENT, event_payload: { group_id: group.id } };
  let fallback: string | null = null;
  let posted: { channel: string; ts: string };
  try {
    posted = await withRateLimit(ctx, () =>
      ctx.slack.postMessage({ channel, text: message.text, blocks: message.blocks, metadata }),
    );
  } catch (error) {
    if (!(error instanceof SlackCallError) || error.category !== "content") throw error;
    fallback = error.slackError;
    logContentRejected(ctx, group.id, error);
    const minimal = renderMinimalText(group, renderContextFor(group, ctx.tables, ctx.interactive));
    posted = await withRateLimit(ctx, () => ctx.slack.postMessage({ channel, text: minimal.text, metadata }));
    summary.text_fallbacks += 1;
  }
  // The thread starts after everything the fresh root already shows.
  const cursor = await latestActivityId(db, group.id);
  await storeRoot(db, {
    id: group.id,
    channel: posted.channel,
    ts: posted.ts,
    hash: message.hash,
    now,
    threadCursor: cursor,
    activity: systemActivity(now, group.id, "slack_posted", {
      kind: "root",
      channel: posted.channel,
      ts: posted.ts,
      ...(replacing ? { replaces_ts: replacing.ts, reason: replacing.reason } : {}),
      ...(fallback ? { fallback: "minimal_text", slack_error: fallback } : {}),
    }),
  });
  if (replacing) summary.reposted += 1;
  else summary.posted += 1;
  return posted;
}

async function updateRoot(
  ctx: GroupSyncContext,
  group: SyncGroup,
  channel: string,
  ts: string,
  message: RenderedMessage,
): Promise<{ reposted: false } | { reposted: true; root: { channel: string; ts: string } }> {
  const { db, now, summary } = ctx;
  let fallback: string | null = null;
  try {
    await withRateLimit(ctx, () =>
      ctx.slack.updateMessage({ channel, ts, text: message.text, blocks: message.blocks }),
    );
  } catch (error) {
    if (!(error instanceof SlackCallError)) throw error;
    if (error.category === "message_gone") {
      ctx.log.warn(
        { group_id: group.id, ts, error: error.slackError },
        "root message gone; posting a fresh one",
      );
      const root = await postRoot(ctx, { ...group, slack_post_started_at: null }, message, {
        ts,
        reason: `previous root ${error.slackError}`,
      });
      return { reposted: true, root };
    }
    if (error.category !== "content") throw error;
    fallback = error.slackError;
    logContentRejected(ctx, group.id, error);
    const minimal = renderMinimalText(group, renderContextFor(group, ctx.tables, ctx.interactive));
    await withRateLimit(ctx, () => ctx.slack.updateMessage({ channel, ts, text: minimal.text, blocks: [] }));
    summary.text_fallbacks += 1;
  }
  await storeUpdate(db, {
    id: group.id,
    hash: message.hash,
    now,
    activity: systemActivity(now, group.id, "slack_updated", {
      channel,
      ts,
      ...(fallback ? { fallback: "minimal_text", slack_error: fallback } : {}),
    }),
  });
  summary.updated += 1;
  return { reposted: false };
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
      return { kind: "reopened" };
    case "escalated":
      return { kind: "escalated", from: text("from") ?? "?", to: text("to") ?? "?" };
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
async function replyInThread(ctx: GroupSyncContext, group: SyncGroup, channel: string, rootTs: string) {
  const { db, now } = ctx;
  const events = await listThreadEvents(db, group.id, group.slack_thread_cursor);
  const last = events.at(-1);
  if (last === undefined) return;
  if (!(await moveThreadCursor(db, group.id, group.slack_thread_cursor, last.id))) return;
  const reply = renderThreadReply(
    group,
    events.map((e) => toThreadEvent(e, ctx.tables)),
  );
  try {
    const posted = await withRateLimit(ctx, () =>
      ctx.slack.postMessage({ channel, text: reply.text, blocks: reply.blocks, threadTs: rootTs }),
    );
    await insertActivity(
      db,
      systemActivity(now, group.id, "slack_posted", {
        kind: "thread_reply",
        channel,
        ts: posted.ts,
        events: events.map((e) => e.action),
      }),
    );
    ctx.summary.thread_replies += 1;
  } catch (error) {
    // Not sent: give the events back to the next run.
    await moveThreadCursor(db, group.id, last.id, group.slack_thread_cursor).catch(() => undefined);
    throw error;
  }
}

/**
 * The owner DM for a claimed notification: primary owner, then secondary, each through the user map and
 * conversations.open; when nobody could be DMed, a mention-free note in the root's thread says so.
 */
async function notifyOwner(
  ctx: GroupSyncContext,
  group: SyncGroup,
  renderCtx: RenderContext,
  channel: string,
  rootTs: string,
) {
  const { db, now, summary } = ctx;
  const route = routeGroup(group, ctx.tables);
  // The stored assignment wins over a fresh route (it may have been set by a person).
  const candidates = dmCandidates(
    { ...route, userId: group.assigned_to_user_id, teamId: group.assigned_team_id },
    ctx.tables.slackUserIds,
  );
  const reason = (await hasReopenedActivity(db, group.id)) ? "reopened" : "opened";
  if (candidates.length === 0) {
    await insertActivity(
      db,
      systemActivity(now, group.id, "slack_posted", {
        kind: "owner_dm",
        outcome: "unowned",
        rule: group.assignment_rule,
        team_id: group.assigned_team_id,
      }),
    );
    return;
  }
  const problems: string[] = [];
  let permalink: string | null | undefined;
  for (const candidate of candidates) {
    if (candidate.slackUserId === null) {
      problems.push(`${candidate.userId}: no Slack user mapping`);
      continue;
    }
    try {
      permalink ??= await withRateLimit(ctx, () => ctx.slack.getPermalink(channel, rootTs)).catch(
        (error: unknown) => {
          if (
            error instanceof SlackCallError &&
            (error.category === "auth" || error.category === "rate_limited")
          )
            throw error;
          return null;
        },
      );
      const slackUserId = candidate.slackUserId;
      const dmChannel = await withRateLimit(ctx, () => ctx.slack.openDm(slackUserId));
      const dm: SlackMessage = renderOwnerDm(group, {
        ...renderCtx,
        permalink,
        reason,
        role: candidate.role,
      });
      const posted = await withRateLimit(ctx, () =>
        ctx.slack.postMessage({ channel: dmChannel, text: dm.text, blocks: dm.blocks }),
      );
      await insertActivity(
        db,
        systemActivity(now, group.id, "slack_posted", {
          kind: "owner_dm",
          outcome: "sent",
          role: candidate.role,
          user_id: candidate.userId,
          slack_user_id: slackUserId,
          channel: dmChannel,
          ts: posted.ts,
          reason,
          rule: group.assignment_rule,
          ...(problems.length > 0 ? { skipped: problems } : {}),
        }),
      );
      summary.dms += 1;
      if (candidate.role !== "primary") summary.dm_fallbacks += 1;
      return;
    } catch (error) {
      if (!(error instanceof SlackCallError) || (error.category !== "dm" && error.category !== "other"))
        throw error;
      ctx.log.warn(
        { group_id: group.id, user_id: candidate.userId, error: error.slackError },
        "owner DM failed; trying the next person",
      );
      problems.push(`${candidate.userId}: ${error.slackError}`);
    }
  }
  // Nobody could be DMed: say so where people look, without pinging anyone.
  const note = renderUndeliveredDmNote(group, renderCtx, problems);
  const posted = await withRateLimit(ctx, () =>
    ctx.slack.postMessage({ channel, text: note.text, blocks: note.blocks, threadTs: rootTs }),
  );
  await insertActivity(
    db,
    systemActivity(now, group.id, "slack_posted", {
      kind: "owner_dm",
      outcome: "undelivered",
      problems,
      note_channel: channel,
      note_ts: posted.ts,
      rule: group.assignment_rule,
    }),
  );
  summary.dm_undelivered += 1;
}
