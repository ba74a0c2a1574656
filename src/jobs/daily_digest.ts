/**
 * daily_digest (hourly, or once at DAILY_DIGEST_TIME): one digest per local date in NOTIFICATION_TIMEZONE,
 * posted to the shared channel once the local time has passed DAILY_DIGEST_TIME. The date is claimed in
 * `notification_digest` before the post, so repeated and overlapping runs send it once, a skipped run is
 * caught up by the next one the same day, and a day with no groups still counts as done. Only the current
 * local date is ever sent: yesterday's digest is never posted late.
 */
import { v7 as uuidv7 } from "uuid";
import { renderDigest } from "../core/digest.js";
import { localDate, localTimeReached } from "../core/reminders.js";
import { findStaleSources } from "../core/staleness.js";
import type { JsonObject } from "../core/types.js";
import {
  claimDigest,
  completeDigest,
  insertDigestActivities,
  loadDigestGroups,
  readDigestState,
  releaseDigest,
  takeOverDigestClaim,
} from "../db/digest.js";
import { loadOwnershipTables } from "../db/ownership.js";
import type { Runtime } from "../runtime.js";
import { SlackCallError } from "../slack/errors.js";
import type { SlackTarget } from "../slack/index.js";
import { slackAuthError } from "../slack/sync.js";
import type { JobDefinition, JobResult } from "./job.js";
import { loadSourceHealth } from "./source-health.js";

/** Metadata on every digest post: a run that lost track of its post finds it by the date. */
export const DIGEST_METADATA_EVENT = "observability_daily_digest";
/** A claim older than this without a recorded post is taken over (its run died or timed out). */
const STALE_CLAIM_MS = 10 * 60_000;

export interface DigestSummary {
  local_date: string;
  time_zone: string;
  sent: boolean;
  skipped?: string;
  groups_listed?: number;
  counts?: JsonObject;
  all_clear?: boolean;
  ts?: string;
  error?: string;
  /** The digest an interrupted run had posted was found and recorded instead of posting again. */
  recovered?: boolean;
  /** --dry-run: the message that would be posted. */
  would_send?: JsonObject;
}

export async function sendDailyDigest(
  runtime: Runtime,
  options: { dryRun: boolean; target: SlackTarget | null },
): Promise<DigestSummary> {
  const { db, config, now, log } = runtime;
  const date = localDate(now, config.timeZone);
  const base: DigestSummary = { local_date: date, time_zone: config.timeZone, sent: false };
  if (!localTimeReached(now, config.timeZone, config.dailyDigestTime)) {
    return { ...base, skipped: `before DAILY_DIGEST_TIME ${config.dailyDigestTime} (${config.timeZone})` };
  }
  const state = await readDigestState(db, date);
  if (state.kind === "sent") return { ...base, skipped: "already sent for this date" };
  if (state.kind === "claimed" && now.getTime() - Date.parse(state.claimedAt) < STALE_CLAIM_MS) {
    return { ...base, skipped: "another run is sending this date's digest" };
  }

  const groups = await loadDigestGroups(db, now);
  const tables = await loadOwnershipTables(db);
  // The notifier watches itself: a source that stopped ingesting is said in the digest.
  const staleSources = findStaleSources(
    await loadSourceHealth(db, config, now),
    now,
    config.sourceStaleHours,
  );
  const rendered = renderDigest({
    staleSources,
    localDate: date,
    timeZone: config.timeZone,
    now: now.toISOString(),
    groups,
    slackUserIds: tables.slackUserIds,
    appBaseUrl: config.appBaseUrl,
  });
  const counts = JSON.parse(JSON.stringify(rendered.counts)) as JsonObject;
  if (options.dryRun) {
    return {
      ...base,
      counts,
      all_clear: rendered.allClear,
      groups_listed: rendered.listedGroupIds.length,
      would_send: JSON.parse(JSON.stringify(rendered.message)) as JsonObject,
    };
  }
  const target = options.target;
  if (target === null) return { ...base, skipped: "Slack delivery is off (SLACK_BOT_TOKEN is not set)" };
  const metadata = { event_type: DIGEST_METADATA_EVENT, event_payload: { local_date: date } };
  if (state.kind === "claimed") {
    // A run claimed this date and never recorded the post (it died, or its post timed out): the digest may
    // be in the channel already. Look for it by its metadata before posting again.
    if (!(await takeOverDigestClaim(db, { localDate: date, claimedAt: state.claimedAt, now }))) {
      return { ...base, skipped: "another run is sending this date's digest" };
    }
    const claimedSec = Math.floor(Date.parse(state.claimedAt) / 1000);
    const found = await target.api
      .findMessageByMetadata({
        channel: target.channel,
        eventType: DIGEST_METADATA_EVENT,
        key: "local_date",
        value: date,
        oldestEpochSeconds: claimedSec - 3600,
        latestEpochSeconds: claimedSec + 3600,
      })
      .catch(() => null);
    if (found !== null) {
      log.info({ local_date: date, ts: found }, "found the digest an interrupted run posted; recording it");
      await completeDigest(db, { localDate: date, now, channel: target.channel, ts: found, summary: counts });
      return { ...base, sent: true, ts: found, counts, all_clear: rendered.allClear, recovered: true };
    }
  } else if (!(await claimDigest(db, { localDate: date, timeZone: config.timeZone, now }))) {
    return { ...base, skipped: "another run is sending this date's digest" };
  }
  let posted: { channel: string; ts: string };
  try {
    posted = await target.api.postMessage({
      channel: target.channel,
      text: rendered.message.text,
      blocks: rendered.message.blocks,
      metadata,
    });
  } catch (error) {
    if (!(error instanceof SlackCallError)) throw error;
    // Slack certainly did not post it (a refusal or a rate limit): give the date back for the next run. After
    // a timeout or 5xx it may have been posted: keep the claim; a run after STALE_CLAIM_MS looks for it.
    if (error.category !== "transient") await releaseDigest(db, date);
    if (error.category === "auth") throw slackAuthError(error);
    log.warn({ error: error.slackError }, "the daily digest could not be posted; a later run tries again");
    return { ...base, error: `${error.method}: ${error.slackError}` };
  }
  await completeDigest(db, { localDate: date, now, channel: posted.channel, ts: posted.ts, summary: counts });
  await insertDigestActivities(db, {
    groupIds: rendered.listedGroupIds,
    localDate: date,
    ts: posted.ts,
    now,
    newId: () => uuidv7(),
  });
  return {
    ...base,
    sent: true,
    ts: posted.ts,
    counts,
    all_clear: rendered.allClear,
    groups_listed: rendered.listedGroupIds.length,
  };
}

export const dailyDigest: JobDefinition = {
  id: "daily_digest",
  description: "Post the daily digest to the shared channel once per local date after DAILY_DIGEST_TIME",
  schedule: "0 * * * *",
  supportsDryRun: true,
  async run(runtime): Promise<JobResult> {
    const dryRun = runtime.jobOptions?.dryRun === true;
    const target = runtime.slack === undefined ? null : runtime.slack;
    const summary = await sendDailyDigest(runtime, { dryRun, target });
    return {
      outcome: summary.error !== undefined ? "failed" : "succeeded",
      summary: JSON.parse(JSON.stringify(summary)) as JsonObject,
    };
  },
};
