/**
 * reminder_dispatcher (every 15 minutes): wakes up snoozed groups whose snooze ran out, keeps count_24h
 * true as time passes, and walks the reminder ladder of open groups (T2 reminder, T8 reminder with
 * escalation to the secondary owner, then one reminder per local date). Every reminder is claimed in SQL
 * before it is sent, so overlapping runs never send one twice; the Slack sync that ends the run re-renders
 * the roots and posts the escalation's thread reply.
 */
import { v7 as uuidv7 } from "uuid";
import {
  dueReminder,
  ladderAfter,
  localDate,
  localTimeReached,
  type ReminderTier,
} from "../core/reminders.js";
import { type RenderContext, renderReminderDm } from "../core/render/index.js";
import { type DmCandidate, dmCandidates, type OwnershipTables, routeGroup } from "../core/routing.js";
import type { ActivityRow, JsonObject, JsonValue } from "../core/types.js";
import { insertActivities } from "../db/activity.js";
import { loadOwnershipTables } from "../db/ownership.js";
import {
  claimReminder,
  expireSnooze,
  type LadderWrite,
  listExpiredSnoozes,
  loadReminderCandidates,
  type ReminderCandidate,
  refreshCount24h,
  releaseReminder,
} from "../db/reminders.js";
import { throwIfStopped } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { SlackCallError } from "../slack/errors.js";
import type { SlackTarget } from "../slack/index.js";
import { slackAuthError } from "../slack/sync.js";
import type { JobDefinition, JobResult } from "./job.js";

interface PlannedReminder {
  group_id: string;
  tier: ReminderTier;
  recipients: { user_id: string; slack_user_id: string | null; role: string }[];
  text: string;
}

export interface ReminderSummary {
  snoozes_expired: number;
  counts_refreshed: number;
  candidates: number;
  sent: { t2: number; t8: number; daily: number };
  escalations: number;
  undelivered: number;
  /** Left for the next run (rate limit, Slack unreachable). */
  deferred: number;
  skipped?: string;
  /** --dry-run: what would be done. */
  would_expire?: string[];
  would_send?: PlannedReminder[];
}

function renderContext(g: ReminderCandidate, tables: OwnershipTables): RenderContext {
  const slackId = (u: string | null) => (u === null ? null : (tables.slackUserIds.get(u) ?? null));
  return {
    ownerSlackUserId: slackId(g.assigned_to_user_id),
    ownerUserId: g.assigned_to_user_id,
    ownerTeamId: g.assigned_team_id,
    acknowledgedBySlackUserId: null,
    closedReason: null,
    errorMessage: g.last_error_message,
    stage: g.last_stage,
    errorClass: g.last_error_class,
    interactive: false,
  };
}

/** Whom a tier goes to: the owner (or, unmapped, the secondary) for T2 and daily; owner and secondary for T8. */
function recipientsFor(tier: ReminderTier, g: ReminderCandidate, tables: OwnershipTables): DmCandidate[] {
  const route = routeGroup(g, tables);
  const all = dmCandidates(
    { ...route, userId: g.assigned_to_user_id, teamId: g.assigned_team_id },
    tables.slackUserIds,
  );
  // At T8 the secondary owner is the point of the escalation: DM them first.
  if (tier === "t8")
    return [...all].sort((a, b) => (a.role === b.role ? 0 : a.role === "secondary" ? -1 : 1));
  const reachable = all.find((c) => c.slackUserId !== null);
  return reachable ? [reachable] : all.slice(0, 1);
}

function activity(
  now: Date,
  groupId: string,
  action: ActivityRow["action"],
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

export async function dispatchReminders(
  runtime: Runtime,
  options: { dryRun: boolean; target: SlackTarget | null },
): Promise<ReminderSummary> {
  const { db, config, log, now } = runtime;
  const summary: ReminderSummary = {
    snoozes_expired: 0,
    counts_refreshed: 0,
    candidates: 0,
    sent: { t2: 0, t8: 0, daily: 0 },
    escalations: 0,
    undelivered: 0,
    deferred: 0,
  };

  // 1. Snoozes that ran out return to open (as of their snoozed_until).
  const expired = await listExpiredSnoozes(db, now);
  if (options.dryRun) summary.would_expire = expired.map((e) => e.id);
  else for (const e of expired) if (await expireSnooze(db, e.id, now)) summary.snoozes_expired += 1;

  // 2. Rolling counts that time changed.
  if (!options.dryRun) summary.counts_refreshed = await refreshCount24h(db, now);

  // 3. The reminder ladder.
  const settings = {
    t2Hours: config.reminderT2Hours,
    t8Hours: config.reminderT8Hours,
    timeZone: config.timeZone,
    dailyTime: config.dailyDigestTime,
  };
  const today = localDate(now, settings.timeZone);
  const candidates = await loadReminderCandidates(db, {
    now,
    t2Hours: settings.t2Hours,
    t8Hours: settings.t8Hours,
    localDate: today,
    dailyTimeReached: localTimeReached(now, settings.timeZone, settings.dailyTime),
  });
  summary.candidates = candidates.length;
  if (candidates.length === 0) return summary;
  if (options.target === null && !options.dryRun) {
    summary.skipped = "Slack delivery is off (SLACK_BOT_TOKEN is not set); reminders wait";
    return summary;
  }
  const tables = await loadOwnershipTables(db);
  if (options.dryRun) summary.would_send = [];

  for (const [index, g] of candidates.entries()) {
    throwIfStopped(runtime.stopSignal);
    const tier = dueReminder(g, now, settings);
    if (tier === null) continue;
    const recipients = recipientsFor(tier, g, tables);
    const route = routeGroup(g, tables);
    const team = g.assigned_team_id ?? route.owningTeamId;
    const openSince = g.open_since ?? g.first_seen_at;
    const ctx = renderContext(g, tables);
    if (options.dryRun) {
      summary.would_send?.push({
        group_id: g.id,
        tier,
        recipients: recipients.map((r) => ({
          user_id: r.userId,
          slack_user_id: r.slackUserId,
          role: r.role,
        })),
        text: renderReminderDm(g, {
          ...ctx,
          tier,
          openSince,
          now: now.toISOString(),
          permalink: null,
          role: "owner",
        }).text,
      });
      continue;
    }
    const target = options.target;
    if (target === null) break;
    const write: LadderWrite = ladderAfter(tier, now, settings);
    // The T8 escalation is recorded with its claim, in one transaction: even if this process dies before
    // the DMs, the escalation shows (in the root's thread, through the sync) and is never silently lost.
    const escalation =
      tier === "t8"
        ? activity(now, g.id, "escalated", {
            reason: "unacknowledged",
            tier: "t8",
            hours: settings.t8Hours,
            notified: [
              ...recipients.map((r) => `${r.userId} (${r.role === "primary" ? "owner" : "secondary owner"})`),
              ...(team !== null ? [`team ${team} (owning team)`] : []),
            ],
          })
        : null;
    const claimed = await db.transaction(async (tx) => {
      if (!(await claimReminder(tx, g, write))) return false;
      if (escalation) await insertActivities(tx, [escalation]);
      return true;
    });
    if (!claimed) continue;
    if (escalation) summary.escalations += 1;
    // Unowned (no person to DM): the ladder moves on, the escalation names the team, the digest lists it.
    if (recipients.length === 0) {
      summary.undelivered += 1;
      continue;
    }
    let outcome: Awaited<ReturnType<typeof sendReminder>>;
    try {
      outcome = await sendReminder(runtime, target, g, tier, recipients, ctx, openSince);
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      // Give the reminder back only when Slack certainly did not deliver it (rate limit, refusal); after a
      // timeout or a 5xx it may have arrived, and a second copy is worse than a missing one.
      const certainlyNotSent = error.category === "rate_limited" || error.category === "auth";
      if (certainlyNotSent) {
        await releaseReminder(db, g, write, escalation?.id ?? null);
        if (escalation) summary.escalations -= 1;
      } else {
        await insertActivities(db, [
          activity(now, g.id, "reminder_sent", {
            tier,
            local_date: today,
            outcome: "uncertain",
            error: error.slackError,
          }),
        ]);
      }
      if (error.category === "auth") throw slackAuthError(error);
      summary.deferred += candidates.length - index;
      log.warn(
        { error: error.slackError },
        "Slack unavailable for reminders; the rest waits for the next run",
      );
      break;
    }
    await insertActivities(db, [
      activity(now, g.id, "reminder_sent", {
        tier,
        local_date: today,
        recipients: outcome.sent as unknown as JsonValue,
        ...(outcome.problems.length > 0 ? { problems: outcome.problems } : {}),
        outcome: outcome.sent.length > 0 ? "sent" : "undelivered",
      }),
    ]);
    if (outcome.sent.length > 0) summary.sent[tier] += 1;
    else summary.undelivered += 1;
  }
  return summary;
}

/** DMs each recipient; a person who cannot be DMed is recorded as a problem, not a failure of the run. */
async function sendReminder(
  runtime: Runtime,
  target: SlackTarget,
  g: ReminderCandidate,
  tier: ReminderTier,
  recipients: readonly DmCandidate[],
  ctx: RenderContext,
  openSince: string,
): Promise<{
  sent: { user_id: string; slack_user_id: string; role: string; ts: string }[];
  problems: string[];
}> {
  const sent: { user_id: string; slack_user_id: string; role: string; ts: string }[] = [];
  const problems: string[] = [];
  let permalink: string | null = null;
  if (g.slack_root_ts !== null && g.slack_channel_id !== null && target.api.ownsChannel(g.slack_channel_id)) {
    permalink = await target.api.getPermalink(g.slack_channel_id, g.slack_root_ts).catch((error: unknown) => {
      if (error instanceof SlackCallError && ["auth", "rate_limited", "transient"].includes(error.category))
        throw error;
      return null;
    });
  }
  for (const r of recipients) {
    if (r.slackUserId === null) {
      problems.push(`${r.userId}: no Slack user mapping`);
      continue;
    }
    const slackUserId = r.slackUserId;
    try {
      const channel = await target.api.openDm(slackUserId);
      const dm = renderReminderDm(g, {
        ...ctx,
        tier,
        openSince,
        now: runtime.now.toISOString(),
        permalink,
        role: r.role === "primary" ? "owner" : "secondary",
      });
      const posted = await target.api.postMessage({ channel, text: dm.text, blocks: dm.blocks });
      sent.push({ user_id: r.userId, slack_user_id: slackUserId, role: r.role, ts: posted.ts });
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      if (["auth", "rate_limited", "transient"].includes(error.category)) {
        // Someone already got this reminder: keep the claim rather than send it to them twice.
        if (sent.length > 0) {
          problems.push(`${r.userId}: ${error.slackError}`);
          continue;
        }
        throw error;
      }
      problems.push(`${r.userId}: ${error.slackError}`);
    }
  }
  return { sent, problems };
}

export const reminderDispatcher: JobDefinition = {
  id: "reminder_dispatcher",
  description: "Expire snoozes, refresh rolling counts, send T2 / T8 / daily owner reminders with escalation",
  schedule: "*/15 * * * *",
  supportsDryRun: true,
  async run(runtime): Promise<JobResult> {
    const dryRun = runtime.jobOptions?.dryRun === true;
    const target = runtime.slack === undefined ? null : runtime.slack;
    const summary = await dispatchReminders(runtime, { dryRun, target });
    return { outcome: "succeeded", summary: JSON.parse(JSON.stringify(summary)) as JsonObject };
  },
};
