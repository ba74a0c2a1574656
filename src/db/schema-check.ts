import type { Queryable } from "./db.js";

/**
 * Everything the code reads or writes, by table. `db check` compares the live database with this list,
 * so a shared-schema change that drops or renames something we use is caught before a job fails on it.
 */
export const EXPECTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  notification_signal: [
    "id",
    "created_at",
    "occurred_at",
    "source",
    "signal_type",
    "severity",
    "agency_id",
    "agency_slug",
    "job_name",
    "run_id",
    "task_id",
    "stage",
    "error_class",
    "error_message",
    "fingerprint",
    "summary",
    "details_json",
  ],
  notification_signal_group: [
    "id",
    "fingerprint",
    "status",
    "current_severity",
    "agency_id",
    "agency_slug",
    "job_name",
    "signal_type",
    "first_seen_at",
    "last_seen_at",
    "count_total",
    "count_24h",
    "last_signal_id",
    "assigned_to_user_id",
    "assigned_team_id",
    "acknowledged_at",
    "acknowledged_by_user_id",
    "snoozed_until",
    "opened_notified_at",
    "last_reminded_at",
    "last_daily_reminder_date",
    "last_escalated_at",
    "slack_channel_id",
    "slack_root_ts",
    "ui_url",
    "closed_at",
    "last_slack_updated_at",
    "slack_message_hash",
    "count_24h_as_of",
    "slack_post_started_at",
    "slack_last_error",
    "slack_last_error_at",
    "slack_thread_cursor",
    "assignment_rule",
    "open_since",
  ],
  notification_signal_group_activity: [
    "id",
    "signal_group_id",
    "created_at",
    "actor_type",
    "actor_user_id",
    "action",
    "metadata_json",
  ],
  notification_agency_owner: [
    "agency_id",
    "agency_slug",
    "primary_owner_user_id",
    "secondary_owner_user_id",
    "owning_team_id",
  ],
  notification_job_owner_override: ["id", "job_name", "agency_id", "owner_user_id", "owner_team_id"],
  notification_user_slack_map: ["user_id", "slack_user_id"],
  notification_ingest_cursor: ["source_instance", "cursor_value", "updated_at"],
  notification_signal_inbox: ["id", "received_at", "source", "payload", "processed_at", "error"],
  notification_job_run: ["id", "job_id", "started_at", "finished_at", "status", "summary_json", "error"],
  notification_dq_ledger: [
    "source_instance",
    "artifact",
    "content_hash",
    "invocation_id",
    "results",
    "processed_at",
  ],
  notification_dq_test_pass: [
    "source_instance",
    "agency_key",
    "test_id",
    "passed_at",
    "invocation_id",
    "tool",
  ],
  notification_digest: [
    "local_date",
    "time_zone",
    "claimed_at",
    "sent_at",
    "channel_id",
    "slack_ts",
    "summary_json",
  ],
};

/** The indexes our queries rely on (backend additions; the active-group index is checked separately). */
export const EXPECTED_INDEXES: readonly string[] = [
  "notification_signal_fingerprint_occurred_idx",
  "notification_signal_group_fingerprint_idx",
  "notification_signal_group_activity_group_idx",
  "notification_signal_inbox_pending_idx",
  "notification_job_run_job_idx",
  "notification_signal_group_open_since_idx",
  "notification_signal_group_snoozed_until_idx",
];

export interface SchemaProblem {
  object: string;
  problem: string;
}

/** Lists what the live database lacks; an empty list means the code's expectations hold. */
export async function checkSchema(db: Queryable): Promise<SchemaProblem[]> {
  const rows = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'reporting'`,
  );
  const live = new Map<string, Set<string>>();
  for (const r of rows) {
    const cols = live.get(r.table_name) ?? new Set<string>();
    cols.add(r.column_name);
    live.set(r.table_name, cols);
  }
  const problems: SchemaProblem[] = [];
  for (const [table, columns] of Object.entries(EXPECTED_COLUMNS)) {
    const have = live.get(table);
    if (!have) {
      problems.push({ object: `reporting.${table}`, problem: "table missing" });
      continue;
    }
    for (const c of columns) {
      if (!have.has(c)) problems.push({ object: `reporting.${table}.${c}`, problem: "column missing" });
    }
  }
  const indexes = new Set(
    (
      await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'reporting'")
    ).map((r) => r.indexname),
  );
  for (const name of EXPECTED_INDEXES) {
    if (!indexes.has(name)) problems.push({ object: `reporting.${name}`, problem: "index missing" });
  }
  if (live.has("notification_signal_group")) {
    const idx = await db.query<{ nulls_not_distinct: boolean }>(
      `SELECT i.indnullsnotdistinct AS nulls_not_distinct
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'reporting' AND t.relname = 'notification_signal_group'
         AND i.indisunique AND i.indpred IS NOT NULL
         AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
              FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum = ANY(i.indkey))
             = ARRAY['agency_id', 'fingerprint']`,
    );
    if (idx.length === 0) {
      problems.push({
        object: "reporting.notification_signal_group (agency_id, fingerprint)",
        problem: "partial unique index for active statuses missing",
      });
    } else if (!idx.some((i) => i.nulls_not_distinct)) {
      problems.push({
        object: "reporting.notification_signal_group (agency_id, fingerprint)",
        problem: "active unique index must be NULLS NOT DISTINCT (groups without an agency would duplicate)",
      });
    }
  }
  return problems;
}
