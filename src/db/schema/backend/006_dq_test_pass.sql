-- Data quality: the latest passing result of each test (issue 6). Written in the transaction that ingests the
-- artifact the pass came from, so recovery never depends on the run that read it getting as far as its closes.
CREATE TABLE IF NOT EXISTS reporting.notification_dq_test_pass (
  source_instance text NOT NULL,
  agency_key text NOT NULL,
  test_id text NOT NULL,
  passed_at timestamptz NOT NULL,
  invocation_id text,
  tool text,
  PRIMARY KEY (source_instance, agency_key, test_id)
);
