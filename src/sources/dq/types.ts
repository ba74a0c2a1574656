/**
 * One data-quality result as every DQ parser hands it over (dbt, Great Expectations, Soda, a results
 * table). The ingest_dq job maps these to signals; parsers never see the database or the clock.
 */
import type { JsonObject } from "../../core/types.js";

export type DqOutcome = "pass" | "fail" | "warn" | "error" | "skipped";
export type DqTool = "dbt" | "gx" | "soda" | "elementary" | "table";

export interface DqResult {
  tool: DqTool;
  /**
   * The test's identity, stable across runs (dbt `unique_id`, GX suite + expectation type + kwargs, Soda
   * check identity, Elementary `test_unique_id`). Recovery matches on it; the fingerprint uses it.
   */
  testId: string;
  /** Human name of the test or check. */
  testName: string;
  /** dbt model (or seed/snapshot) errors are "node"; everything else is a "test". */
  kind: "test" | "node";
  outcome: DqOutcome;
  /** not_null, unique, expect_column_values_to_not_be_null, row_count, ... */
  testType: string | null;
  /** The tested model / table / dataset. */
  model: string | null;
  column: string | null;
  /** What failed, as the tool says it (counts included; normalisation removes them for the fingerprint). */
  message: string | null;
  /** Failing rows or the observed value's count, when the tool reports one. */
  failures: number | null;
  /** When the result was produced, ISO 8601 UTC. */
  occurredAt: string;
  /** The run that produced it (dbt invocation_id, GX run id, Soda scan id, results-table row/run id). */
  invocationId: string;
  /** Tool metadata (dbt `meta`, GX meta, Soda check attributes): agency and owner routing read it. */
  meta: Record<string, unknown>;
  tags: string[];
  /** Extra fields worth keeping on the signal. */
  details: JsonObject;
}

/** A file (or directory) a parser could not read: reported with its path, never marked processed. */
export interface DqParseProblem {
  path: string;
  reason: string;
}

export type DqParseResult =
  | { ok: true; invocationId: string; results: DqResult[] }
  | { ok: false; problem: DqParseProblem };
