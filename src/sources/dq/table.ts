/**
 * Rows of a test-results table (Elementary's `elementary_test_results`, or the generic shape) as DqResults.
 * Pure. Elementary stores owners and tags as JSON text; both are unpacked here.
 */
import type { ResultsTableRow } from "../../db/dq.js";
import type { DqOutcome, DqResult } from "./types.js";

const OUTCOMES: Readonly<Record<string, DqOutcome>> = {
  pass: "pass",
  success: "pass",
  fail: "fail",
  failed: "fail",
  failure: "fail",
  warn: "warn",
  warning: "warn",
  error: "error",
  runtime_error: "error",
  skipped: "skipped",
};

function jsonTextList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  if (typeof value !== "string" || value.trim() === "") return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed.filter((v): v is string => typeof v === "string");
  } catch {
    // Not JSON: a plain comma-separated list.
  }
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** One row as a DqResult, or null for a status that is not a result (e.g. "running"). */
export function resultFromTableRow(row: ResultsTableRow, preset: "elementary" | "generic"): DqResult | null {
  const outcome = row.status === null ? undefined : OUTCOMES[row.status.toLowerCase()];
  if (outcome === undefined || !row.test_id) return null;
  const rawMeta = row.meta ?? {};
  const meta: Record<string, unknown> =
    preset === "elementary" ? { ...rawMeta, owner: jsonTextList(rawMeta.owners)[0] ?? null } : { ...rawMeta };
  const tags = preset === "elementary" ? jsonTextList(rawMeta.tags) : jsonTextList(rawMeta.tags ?? []);
  return {
    tool: preset === "elementary" ? "elementary" : "table",
    testId: row.test_id,
    testName: row.test_name ?? row.test_id,
    kind: "test",
    outcome,
    testType: row.test_type,
    model: row.model,
    column: row.column_name,
    message: row.message,
    failures: row.failures,
    occurredAt: row.created_at,
    invocationId: row.run_id ?? row.id,
    meta,
    tags,
    details: { result_row_id: row.id },
  };
}
