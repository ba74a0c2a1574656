-- Core notification tables, as the spec lists them (../shared/spec/README.md).
-- In production these belong to the shared schema repository; this file is applied only by
-- `observability db migrate --with-core` (development, tests, the embedded default).
-- Our own additions to these tables live in ../backend/ and are applied everywhere.

CREATE SCHEMA IF NOT EXISTS reporting;

CREATE TABLE IF NOT EXISTS reporting.notification_signal (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  occurred_at timestamptz NOT NULL,
  source text NOT NULL,
  signal_type text NOT NULL,
  severity text NOT NULL,
  agency_id text,
  agency_slug text,
  job_name text,
  run_id text,
  task_id text,
  stage text,
  error_class text,
  error_message text,
  fingerprint text NOT NULL,
  summary text,
  details_json jsonb
);

CREATE TABLE IF NOT EXISTS reporting.notification_signal_group (
  id uuid PRIMARY KEY,
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'snoozed', 'closed')),
  current_severity text NOT NULL,
  agency_id text,
  agency_slug text,
  job_name text,
  signal_type text,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  count_total integer NOT NULL DEFAULT 0,
  count_24h integer NOT NULL DEFAULT 0,
  last_signal_id uuid,
  assigned_to_user_id text,
  assigned_team_id text,
  acknowledged_at timestamptz,
  acknowledged_by_user_id text,
  snoozed_until timestamptz,
  opened_notified_at timestamptz,
  last_reminded_at timestamptz,
  last_daily_reminder_date date,
  last_escalated_at timestamptz,
  slack_channel_id text,
  slack_root_ts text,
  ui_url text
);

-- One active group per (agency_id, fingerprint); NULLS NOT DISTINCT so groups without an agency are
-- unique too (a plain unique index treats every NULL as distinct).
CREATE UNIQUE INDEX IF NOT EXISTS notification_signal_group_active_uniq
  ON reporting.notification_signal_group (agency_id, fingerprint) NULLS NOT DISTINCT
  WHERE status IN ('open', 'acknowledged', 'snoozed');

CREATE TABLE IF NOT EXISTS reporting.notification_signal_group_activity (
  id uuid PRIMARY KEY,
  signal_group_id uuid NOT NULL REFERENCES reporting.notification_signal_group (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  actor_type text NOT NULL CHECK (actor_type IN ('system', 'user')),
  actor_user_id text,
  action text NOT NULL,
  metadata_json jsonb
);

CREATE TABLE IF NOT EXISTS reporting.notification_agency_owner (
  agency_id text PRIMARY KEY,
  agency_slug text,
  primary_owner_user_id text,
  secondary_owner_user_id text,
  owning_team_id text
);

CREATE TABLE IF NOT EXISTS reporting.notification_job_owner_override (
  id uuid PRIMARY KEY,
  job_name text NOT NULL,
  agency_id text,
  owner_user_id text,
  owner_team_id text
);

CREATE TABLE IF NOT EXISTS reporting.notification_user_slack_map (
  user_id text PRIMARY KEY,
  slack_user_id text NOT NULL
);
