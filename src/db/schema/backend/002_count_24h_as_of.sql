-- count_24h is kept exact incrementally: count_24h_as_of records the `now` it was computed for, so a later
-- batch only counts the signals that left the 24-hour window since then, instead of recounting every signal.
-- Every writer of count_24h must set it (NULL forces a full recount).
ALTER TABLE reporting.notification_signal_group ADD COLUMN IF NOT EXISTS count_24h_as_of timestamptz;
