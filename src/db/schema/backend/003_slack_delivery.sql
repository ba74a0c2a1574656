-- Slack delivery bookkeeping (issue 3). Idempotent; documented in docs/schema.md.

-- Crash safety for root messages: set (and committed) before chat.postMessage. A group with an intent but no
-- slack_root_ts was possibly posted by a run that died before storing the ts; the next run looks for the
-- message by its metadata (the group id) before posting again.
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS slack_post_started_at timestamptz;

-- Why the last Slack delivery for this group failed (channel archived, bot not in channel, ...), and when.
-- Cleared by the next successful delivery.
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS slack_last_error text;
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS slack_last_error_at timestamptz;

-- The last activity (UUIDv7, time-ordered) already summarised in the root message's thread: lifecycle events
-- after it get one thread reply in the next sync.
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS slack_thread_cursor uuid;

-- Which routing rule chose assigned_to_user_id / assigned_team_id (job_override_agency, job_override,
-- agency_owner, agency_team, unowned).
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS assignment_rule text;
