import { dailyDigest } from "./daily_digest.js";
import { ingestAirflowJob } from "./ingest_airflow.js";
import { ingestCloverdxJob } from "./ingest_cloverdx.js";
import { ingestDqJob } from "./ingest_dq.js";
import { ingestInbox } from "./ingest_inbox.js";
import type { JobDefinition } from "./job.js";
import { pruneJob } from "./prune.js";
import { reminderDispatcher } from "./reminder_dispatcher.js";
import { slackSync } from "./slack_sync.js";

/** Every job the CLI can run: the spec's five, the inbox drain, the Slack sync and retention. */
export const JOBS: readonly JobDefinition[] = [
  ingestAirflowJob,
  ingestCloverdxJob,
  ingestDqJob,
  reminderDispatcher,
  dailyDigest,
  ingestInbox,
  slackSync,
  pruneJob,
];

export function findJob(id: string): JobDefinition | undefined {
  return JOBS.find((j) => j.id === id);
}
