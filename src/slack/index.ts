/** Builds the Slack side of a run from configuration, and runs the sync every job ends with. */
import { join } from "node:path";
import { configError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { SlackApi } from "./api.js";
import { createOutboxSlack, OUTBOX_CHANNEL, OUTBOX_FILE } from "./outbox-slack.js";
import { emptySyncSummary, type SyncSummary, syncSlack } from "./sync.js";
import { createWebApiSlack } from "./web-api-slack.js";

/** Session advisory lock held while a run syncs Slack. */
export const SLACK_SYNC_LOCK = "observability:slack-sync";
/** How long a run waits for another run's sync to finish before leaving its changes to the next run. */
export const DEFAULT_SYNC_LOCK_WAIT_MS = 30_000;

export interface SlackTarget {
  api: SlackApi;
  channel: string;
}

/**
 * Where Slack messages go:
 * - SLACK_BOT_TOKEN set: the Web API (SLACK_SHARED_CHANNEL_ID required, exit 2 without it);
 * - no token, embedded database (or SLACK_OUTBOX=true): the local outbox file, announced in one log line;
 * - no token with DATABASE_URL: nowhere (null). Delivery is off and nothing is marked as sent, so the groups
 *   are delivered once a token is configured (a missing Secret must not write fake Slack state into a
 *   shared database).
 */
export function createSlackTarget(runtime: Pick<Runtime, "config" | "log" | "now">): SlackTarget | null {
  const { config, log } = runtime;
  const token = config.slack.botToken;
  if (token === undefined) {
    if (config.databaseUrl !== undefined && !config.slack.outbox) {
      log.warn(
        "SLACK_BOT_TOKEN is not set: Slack delivery is off for this run (groups are kept and delivered once it is set; SLACK_OUTBOX=true writes a local outbox instead)",
      );
      return null;
    }
    const path = join(config.dataDir, OUTBOX_FILE);
    log.info(
      { outbox: path },
      `SLACK_BOT_TOKEN is not set: Slack messages are written to ${path} instead of being sent`,
    );
    return {
      api: createOutboxSlack(path, () => runtime.now),
      channel: config.slack.sharedChannelId ?? OUTBOX_CHANNEL,
    };
  }
  const channel = config.slack.sharedChannelId;
  if (channel === undefined) {
    throw configError(
      "SLACK_SHARED_CHANNEL_ID is not set; set it to the id of the channel for alert messages (e.g. C0123456789) and invite the bot to that channel",
    );
  }
  return { api: createWebApiSlack({ token, apiUrl: config.slack.apiUrl, log }), channel };
}

export interface SlackSyncOptions {
  /** The target built before the job ran (undefined: build it now; null: delivery is off). */
  target?: SlackTarget | null;
  groupIds?: readonly string[];
  sleep?: (ms: number) => Promise<void>;
  lockWaitMs?: number;
}

/** Brings Slack up to date with the database (the last step of every job). */
export async function runSlackSync(runtime: Runtime, options: SlackSyncOptions = {}): Promise<SyncSummary> {
  const target =
    options.target !== undefined
      ? options.target
      : runtime.slack !== undefined
        ? runtime.slack
        : createSlackTarget(runtime);
  if (target === null) return { ...emptySyncSummary("off"), skipped: "SLACK_BOT_TOKEN is not set" };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // One sync at a time: two runs syncing at once could both post a root for the same new group. A run that
  // finds the lock taken waits a little (the holder is usually about to finish) and then leaves its changes
  // to the next run.
  const waitMs = options.lockWaitMs ?? DEFAULT_SYNC_LOCK_WAIT_MS;
  let release = await runtime.db.tryAdvisoryLock(SLACK_SYNC_LOCK);
  for (let waited = 0; release === null && waited < waitMs; waited += 250) {
    await new Promise<void>((r) => setTimeout(r, 250));
    release = await runtime.db.tryAdvisoryLock(SLACK_SYNC_LOCK);
  }
  if (release === null) {
    runtime.log.info("another run is still syncing Slack; this run's changes go out with the next sync");
    return { ...emptySyncSummary(target.api.kind), skipped: "another run is syncing Slack" };
  }
  try {
    return await syncSlack({
      db: runtime.db,
      slack: target.api,
      log: runtime.log,
      now: runtime.now,
      channel: target.channel,
      interactive: runtime.config.slack.interactive,
      rateLimitBudgetMs: runtime.config.slack.rateLimitWaitSeconds * 1000,
      sleep,
      ...(options.groupIds ? { groupIds: options.groupIds } : {}),
      ...(runtime.stopSignal ? { stopSignal: runtime.stopSignal } : {}),
    });
  } finally {
    await release().catch((error: unknown) =>
      runtime.log.warn({ err: String(error) }, "could not release the Slack sync lock"),
    );
  }
}

export type { SlackApi } from "./api.js";
export type { SyncSummary } from "./sync.js";
