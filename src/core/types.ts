/** Domain vocabulary shared by core/, db/ and the jobs. Pure data, no behaviour. */

export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const GROUP_STATUSES = ["open", "acknowledged", "snoozed", "closed"] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

export const ACTIVE_STATUSES = ["open", "acknowledged", "snoozed"] as const satisfies readonly GroupStatus[];

export const ACTIVITY_ACTIONS = [
  "opened",
  "escalated",
  "acknowledged",
  "snoozed",
  "closed",
  "reopened",
  "slack_posted",
  "slack_updated",
  "reminder_sent",
  "digest_sent",
] as const;
export type ActivityAction = (typeof ACTIVITY_ACTIONS)[number];

export type ActorType = "system" | "user";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A signal as a source hands it over, before ids and fingerprints. Timestamps are ISO 8601 text. */
export interface SignalInput {
  source: string;
  signal_type: string;
  severity: Severity;
  occurred_at: string;
  agency_id?: string | null;
  agency_slug?: string | null;
  job_name?: string | null;
  run_id?: string | null;
  task_id?: string | null;
  stage?: string | null;
  error_class?: string | null;
  error_message?: string | null;
  summary?: string | null;
  details?: JsonObject | null;
  /** The source's natural key for this event; re-ingesting the same key is a no-op. */
  dedup_key?: string | null;
}

/** A row of reporting.notification_signal (created_at is the database's). */
export interface SignalRow {
  id: string;
  occurred_at: string;
  source: string;
  signal_type: string;
  severity: Severity;
  agency_id: string | null;
  agency_slug: string | null;
  job_name: string | null;
  run_id: string | null;
  task_id: string | null;
  stage: string | null;
  error_class: string | null;
  error_message: string | null;
  fingerprint: string;
  summary: string | null;
  details_json: JsonObject | null;
}

/** A row of reporting.notification_signal_group, timestamps as ISO text, dates as YYYY-MM-DD. */
export interface GroupRow {
  id: string;
  fingerprint: string;
  status: GroupStatus;
  current_severity: Severity;
  agency_id: string | null;
  agency_slug: string | null;
  job_name: string | null;
  signal_type: string | null;
  first_seen_at: string;
  last_seen_at: string;
  count_total: number;
  count_24h: number;
  /** The `now` count_24h was computed for (backend-only; null forces a full recount). */
  count_24h_as_of: string | null;
  last_signal_id: string | null;
  assigned_to_user_id: string | null;
  assigned_team_id: string | null;
  acknowledged_at: string | null;
  acknowledged_by_user_id: string | null;
  snoozed_until: string | null;
  opened_notified_at: string | null;
  last_reminded_at: string | null;
  last_daily_reminder_date: string | null;
  last_escalated_at: string | null;
  slack_channel_id: string | null;
  slack_root_ts: string | null;
  ui_url: string | null;
  closed_at: string | null;
  last_slack_updated_at: string | null;
  slack_message_hash: string | null;
  /** When the group last became open (opened, reopened, back from a snooze); the reminder ladder counts from it. */
  open_since: string | null;
}

export interface ActivityRow {
  id: string;
  signal_group_id: string;
  created_at: string;
  actor_type: ActorType;
  actor_user_id: string | null;
  action: ActivityAction;
  metadata_json: JsonObject | null;
}

export function severityRank(severity: Severity): number {
  switch (severity) {
    case "info":
      return 0;
    case "warning":
      return 1;
    case "error":
      return 2;
    case "critical":
      return 3;
  }
}

export function isActiveStatus(status: GroupStatus): boolean {
  switch (status) {
    case "open":
    case "acknowledged":
    case "snoozed":
      return true;
    case "closed":
      return false;
  }
}
