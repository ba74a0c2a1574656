-- Backend-only additions, applied by `observability db migrate` in every environment. Idempotent.
-- Every object here is documented in docs/schema.md.

CREATE SCHEMA IF NOT EXISTS reporting;

-- Group lifecycle and Slack bookkeeping the spec names as backend-only additions.
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS closed_at timestamptz;
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS last_slack_updated_at timestamptz;
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS slack_message_hash text;

-- Room on each page for a new row version: a group is updated by every batch that touches it, and with free
-- space on its page (and no changed indexed column) the update is HOT. A storage parameter only; no field
-- changes. The table is small (one row per problem), so the space is cheap.
ALTER TABLE reporting.notification_signal_group SET (fillfactor = 50);

-- Indexes the grouping engine and the operator commands need. Deliberately no index on a column that
-- every attach changes (last_seen_at, counts): updates of a busy group then stay HOT (no index writes).
CREATE INDEX IF NOT EXISTS notification_signal_fingerprint_occurred_idx
  ON reporting.notification_signal (fingerprint, occurred_at);
CREATE INDEX IF NOT EXISTS notification_signal_group_fingerprint_idx
  ON reporting.notification_signal_group (fingerprint);
CREATE INDEX IF NOT EXISTS notification_signal_group_activity_group_idx
  ON reporting.notification_signal_group_activity (signal_group_id, created_at);

-- Where each source instance has read up to (e.g. "airflow:prod" -> highest end_date seen).
CREATE TABLE IF NOT EXISTS reporting.notification_ingest_cursor (
  source_instance text PRIMARY KEY,
  cursor_value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Push channel: other systems (Airflow callbacks, CloverDX listeners) INSERT raw events here;
-- ingest jobs drain them. A row is never deleted by the drain: processed_at marks it done and
-- error says why it was rejected, so nothing is lost silently.
CREATE TABLE IF NOT EXISTS reporting.notification_signal_inbox (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  payload jsonb NOT NULL,
  processed_at timestamptz,
  error text
);
CREATE INDEX IF NOT EXISTS notification_signal_inbox_pending_idx
  ON reporting.notification_signal_inbox (source, id) WHERE processed_at IS NULL;

-- One row per job run: what ran, when, how it ended and its summary.
CREATE TABLE IF NOT EXISTS reporting.notification_job_run (
  id uuid PRIMARY KEY,
  job_id text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'interrupted')),
  summary_json jsonb,
  error text
);
CREATE INDEX IF NOT EXISTS notification_job_run_job_idx
  ON reporting.notification_job_run (job_id, started_at DESC);
