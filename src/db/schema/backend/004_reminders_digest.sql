-- Reminders and the daily digest (issue 5). Idempotent; documented in docs/schema.md.

-- When the group last became open (opened, reopened, or back from a snooze): the reminder ladder counts from it.
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS open_since timestamptz;
UPDATE reporting.notification_signal_group g
SET open_since = COALESCE(
  (SELECT max(a.created_at) FROM reporting.notification_signal_group_activity a
   WHERE a.signal_group_id = g.id AND a.action IN ('opened', 'reopened')),
  g.first_seen_at)
WHERE g.open_since IS NULL AND g.status IN ('open', 'acknowledged', 'snoozed');

-- The dispatcher's scans: open groups by how long they have been open, snoozed groups by when they wake up.
-- Both columns change only on status transitions, so these indexes cost little on busy groups.
CREATE INDEX IF NOT EXISTS notification_signal_group_open_since_idx
  ON reporting.notification_signal_group (open_since) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS notification_signal_group_snoozed_until_idx
  ON reporting.notification_signal_group (snoozed_until) WHERE status = 'snoozed';

-- One row per local date a digest was sent (or is being sent): the durable "already done today", which must
-- hold even on a day with no groups at all. A row is claimed by INSERT before the post and deleted if the post
-- fails, so the next run tries again.
CREATE TABLE IF NOT EXISTS reporting.notification_digest (
  local_date date PRIMARY KEY,
  time_zone text NOT NULL,
  claimed_at timestamptz NOT NULL,
  sent_at timestamptz,
  channel_id text,
  slack_ts text,
  summary_json jsonb
);
