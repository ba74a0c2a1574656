/** Builds the Slack side of a run from configuration, and runs the sync every job ends with. */
import { join } from "node:path";
import { configError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { SlackApi } from "./api.js";
import { createOutboxSlack, OUTBOX_CHANNEL, OUTBOX_FILE } from "./outbox-slack.js";
import { emptySyncSummary, type SyncSummary, syncSlack } from "./sync.js";

/** Session advisory lock held while a run syncs Slack. */
export const SLACK_SYNC_LOCK = "observability:slack-sync";

import { createWebApiSlack } from "./web-api-slack.js";

export interface SlackTarget {
  api: SlackApi;
  channel: string;
}

/**
 * The Web API when SLACK_BOT_TOKEN is set (then SLACK_SHARED_CHANNEL_ID is required), otherwise the local
 * outbox file in the data directory, announced in one log line.
 */
export function createSlackTarget(runtime: Pick<Runtime, "config" | "log" | "now">): SlackTarget {
  const { config, log } = runtime;
  const token = config.slack.botToken;
  if (token === undefined) {
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

/** Brings Slack up to date with the database (the last step of every job). */
export async function runSlackSync(
  runtime: Runtime,
  options: { target?: SlackTarget; groupIds?: readonly string[]; sleep?: (ms: number) => Promise<void> } = {},
): Promise<SyncSummary> {
  const target = options.target ?? runtime.slack ?? createSlackTarget(runtime);
  // One sync at a time: two jobs syncing at once could both post a root for the same new group.
  const release = await runtime.db.tryAdvisoryLock(SLACK_SYNC_LOCK);
  if (release === null) {
    runtime.log.info("another run is syncing Slack; it will deliver this run's changes too");
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
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.groupIds ? { groupIds: options.groupIds } : {}),
    });
  } finally {
    await release().catch((error: unknown) =>
      runtime.log.warn({ err: String(error) }, "could not release the Slack sync lock"),
    );
  }
}

export type { SlackApi } from "./api.js";
export type { SyncSummary } from "./sync.js";
