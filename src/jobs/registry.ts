import { dailyDigest } from "./daily_digest.js";
import { ingestAirflowJob } from "./ingest_airflow.js";
import { ingestInbox } from "./ingest_inbox.js";
import type { JobDefinition } from "./job.js";
import { reminderDispatcher } from "./reminder_dispatcher.js";
import { slackSync } from "./slack_sync.js";

/** Every job the CLI can run. Only jobs that really work are listed; later sources add theirs here. */
export const JOBS: readonly JobDefinition[] = [
  ingestInbox,
  ingestAirflowJob,
  reminderDispatcher,
  dailyDigest,
  slackSync,
];

export function findJob(id: string): JobDefinition | undefined {
  return JOBS.find((j) => j.id === id);
}
