/**
 * slack_sync: brings every group's Slack message up to date without ingesting anything. Every other job
 * ends with the same sync; this one exists so a status change made in the UI or the CLI reaches Slack on its
 * own schedule, and so an operator can push it by hand.
 */
import { runSlackSync } from "../slack/index.js";
import type { JobDefinition, JobResult } from "./job.js";

export const slackSync: JobDefinition = {
  id: "slack_sync",
  description: "Bring Slack up to date: post, update and thread group messages, DM owners",
  schedule: "*/5 * * * *",
  syncsSlack: false,
  async run(runtime): Promise<JobResult> {
    const summary = await runSlackSync(runtime);
    return { outcome: summary.failed > 0 ? "failed" : "succeeded", summary: { slack: { ...summary } } };
  },
};
