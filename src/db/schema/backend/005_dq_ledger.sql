-- Data-quality sources (issue 6). Idempotent; documented in docs/schema.md.

-- Which result artifacts (a dbt invocation directory, a GX or Soda result file) ingest_dq has processed, with a
-- hash of their content: a re-run skips them, a rewritten file is read again (its signals' dedup keys absorb
-- repeats), and a file that could not be read is not recorded, so it is retried once fixed.
CREATE TABLE IF NOT EXISTS reporting.notification_dq_ledger (
  source_instance text NOT NULL,
  artifact text NOT NULL,
  content_hash text NOT NULL,
  invocation_id text,
  results integer NOT NULL,
  processed_at timestamptz NOT NULL,
  PRIMARY KEY (source_instance, artifact)
);
