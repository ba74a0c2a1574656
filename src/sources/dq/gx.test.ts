import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseGxValidation } from "./gx.js";
import type { DqParseResult, DqResult } from "./types.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/dq/gx");

function load(name: string): DqParseResult {
  const path = join(FIXTURES, name);
  return parseGxValidation({ text: readFileSync(path, "utf8"), path });
}

function ok(result: DqParseResult): { invocationId: string; results: DqResult[] } {
  if (!result.ok) throw new Error(`expected ok, got ${result.problem.reason}`);
  return result;
}

const digest = (value: unknown) =>
  createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 12);

/** A 0.x validation result with the given expectation results, for edge cases. */
function validation(results: unknown[], meta: Record<string, unknown> = {}): string {
  return JSON.stringify({
    success: false,
    meta: {
      expectation_suite_name: "s",
      run_id: { run_name: "r", run_time: "2024-05-01T10:00:00+00:00" },
      active_batch_definition: { datasource_name: "ds", data_asset_name: "t" },
      ...meta,
    },
    results,
  });
}

describe("parseGxValidation: 0.x", () => {
  const { invocationId, results } = ok(load("v0-orders-failures.json"));

  it("maps a failed expectation exactly", () => {
    expect(invocationId).toBe("nightly-20240305@2024-03-05T06:15:00.412Z");
    expect(results[0]).toEqual({
      tool: "gx",
      // The digest covers the datasource, the asset and the kwargs without batch_id.
      testId: `orders.critical:expect_column_values_to_not_be_null:${digest({
        asset: "public.orders",
        datasource: "warehouse",
        kwargs: { column: "customer_id" },
      })}`,
      testName: "expect_column_values_to_not_be_null(customer_id)",
      kind: "test",
      outcome: "fail",
      testType: "expect_column_values_to_not_be_null",
      model: "public.orders",
      column: "customer_id",
      message: "12 of 1000 values unexpected (1.2%)",
      failures: 12,
      occurredAt: "2024-03-05T06:15:02.118Z",
      invocationId: "nightly-20240305@2024-03-05T06:15:00.412Z",
      meta: { agency: "acme", owner: "alice" },
      tags: [],
      details: {
        suite_name: "orders.critical",
        datasource: "warehouse",
        checkpoint_name: "orders_nightly",
        run_name: "nightly-20240305",
        run_time: "2024-03-05T06:15:00.412Z",
        validation_id: null,
        gx_version: "0.18.12",
        expectation_id: null,
        severity: null,
        success: false,
        kwargs: { column: "customer_id", batch_id: "3f1e8c0b2a9d4e7f6a5b4c3d2e1f0a9b" },
        observed_value: null,
        element_count: 1000,
        unexpected_count: 12,
        unexpected_percent: 1.2,
      },
    } satisfies DqResult);
  });

  it("keeps passes, describes observed values, and turns exceptions into errors", () => {
    expect(results.map((r) => [r.testType, r.outcome, r.message])).toEqual([
      ["expect_column_values_to_not_be_null", "fail", "12 of 1000 values unexpected (1.2%)"],
      ["expect_column_values_to_be_unique", "pass", null],
      [
        "expect_table_row_count_to_be_between",
        "fail",
        "observed value 812 (expected between 1000 and 100000)",
      ],
      [
        "expect_column_values_to_match_regex",
        "error",
        "ProgrammingError: (psycopg2.errors.UndefinedFunction) operator does not exist: integer ~ unknown",
      ],
    ]);
    expect(results[3]?.meta).toEqual({ owner: "bob" });
  });

  it("gives each expectation the same identity in a later run (batch_id and result_format ignored)", () => {
    const later = ok(load("v0-orders-recovered.json"));
    expect(later.results.map((r) => r.testId)).toEqual(results.map((r) => r.testId));
    expect(later.results.every((r) => r.outcome === "pass")).toBe(true);
    expect(later.invocationId).not.toBe(invocationId);
  });
});

describe("parseGxValidation: 1.x", () => {
  const { invocationId, results } = ok(load("v1-customers.json"));

  it("reads type, suite_name and severity; a warning-severity failure is a warn", () => {
    expect(invocationId).toBe("2024-03-05T07:00:00.118Z");
    expect(results.map((r) => [r.testId, r.outcome, r.model, r.column, r.failures, r.message])).toEqual([
      [
        `customers_suite:expect_column_values_to_not_be_null:${digest({ asset: "customers", datasource: "warehouse", kwargs: { column: "email" } })}`,
        "fail",
        "customers",
        "email",
        4,
        "4 of 9120 values unexpected (0.04%)",
      ],
      [
        expect.stringMatching(/^customers_suite:expect_column_values_to_be_in_set:[0-9a-f]{12}$/),
        "warn",
        "customers",
        "tier",
        31,
        "31 of 9120 values unexpected (0.34%)",
      ],
      [
        expect.stringMatching(/^customers_suite:expect_column_max_to_be_between:[0-9a-f]{12}$/),
        "pass",
        "customers",
        "age",
        null,
        null,
      ],
    ]);
    expect(results[0]?.occurredAt).toBe("2024-03-05T07:00:01.532Z");
    expect(results[0]?.details).toMatchObject({
      expectation_id: "0c6d3a52-6a0e-4f5d-9b3e-2f7f1c8d4e21",
      severity: "critical",
      gx_version: "1.3.5",
    });
    expect(results[1]?.meta).toEqual({ agency: "globex" });
  });

  it("uses the 1.x validation id as the invocation when there is one", () => {
    const doc = JSON.parse(readFileSync(join(FIXTURES, "v1-customers.json"), "utf8"));
    doc.id = "2b7c1e9a-0d4f-4c3b-9a8e-7f6d5c4b3a21";
    const result = ok(parseGxValidation({ text: JSON.stringify(doc), path: "p" }));
    expect(result.invocationId).toBe("2b7c1e9a-0d4f-4c3b-9a8e-7f6d5c4b3a21");
    expect(result.results.every((r) => r.invocationId === result.invocationId)).toBe(true);
  });
});

describe("parseGxValidation: checkpoint results", () => {
  it("reads every validation of a 0.x checkpoint; one suite on two assets is two tests", () => {
    const { invocationId, results } = ok(load("checkpoint-payments.json"));
    expect(invocationId).toBe("nightly-20240306@2024-03-06T06:30:00.000Z");
    expect(results.map((r) => [r.model, r.outcome, r.message, r.occurredAt])).toEqual([
      ["public.payments_eu", "fail", "5 of 200 values unexpected (2.5%)", "2024-03-06T06:30:01.402Z"],
      ["public.payments_us", "pass", null, "2024-03-06T06:30:01.988Z"],
    ]);
    expect(results[0]?.testId).not.toBe(results[1]?.testId);
    expect(results[0]?.details.checkpoint_name).toBe("payments_nightly");
  });

  it("reads a 1.x checkpoint, whose run_results values are the validation results", () => {
    const v1 = JSON.parse(readFileSync(join(FIXTURES, "v1-customers.json"), "utf8"));
    const text = JSON.stringify({
      run_id: { run_name: null, run_time: "2024-03-05T07:00:00.118203+00:00" },
      run_results: {
        "ValidationResultIdentifier::customers_suite/__none__/20240305T070000.118203Z/warehouse-customers":
          v1,
      },
      checkpoint_config: { name: "customers_hourly", validation_definitions: [] },
      success: false,
    });
    const result = ok(parseGxValidation({ text, path: "p" }));
    expect(result.results).toHaveLength(3);
    expect(result.results.map((r) => r.testId)).toEqual(
      ok(load("v1-customers.json")).results.map((r) => r.testId),
    );
    expect(result.results[0]?.details.checkpoint_name).toBe("customers_hourly");
  });
});

describe("parseGxValidation: edge cases", () => {
  it("reads the 0.13+ per-metric exception map and a missing success as errors", () => {
    const result = ok(
      parseGxValidation({
        text: validation([
          {
            success: false,
            expectation_config: { expectation_type: "expect_column_to_exist", kwargs: { column: "x" } },
            exception_info: {
              "('table.columns', (), ())": {
                exception_traceback: "...",
                exception_message: "relation t does not exist",
                raised_exception: true,
              },
            },
          },
          {
            expectation_config: { expectation_type: "expect_table_row_count_to_equal", kwargs: { value: 3 } },
          },
          {
            success: false,
            expectation_config: { expectation_type: "expect_table_row_count_to_equal", kwargs: { value: 3 } },
            result: { observed_value: 2 },
          },
          {
            success: false,
            expectation_config: {
              expectation_type: "expect_column_min_to_be_between",
              kwargs: { column: "a", min_value: 1 },
            },
            result: { observed_value: 0 },
          },
          {
            success: false,
            expectation_config: {
              expectation_type: "expect_column_values_to_be_null",
              kwargs: { column: "b" },
            },
            result: { unexpected_count: 7 },
          },
        ]),
        path: "p",
      }),
    );
    expect(result.results.map((r) => [r.outcome, r.message])).toEqual([
      ["error", "relation t does not exist"],
      ["error", null],
      ["fail", "observed value 2 (expected 3)"],
      ["fail", "observed value 0 (expected at least 1)"],
      ["fail", "7 unexpected values"],
    ]);
  });

  it("normalises times: compact GX times, offsets, and times without an offset (UTC)", () => {
    const times = [
      "20240501T101500.5Z",
      "2024-05-01T12:15:00+02:00",
      "2024-05-01T10:15:00",
      "2024-05-01 10:15:00",
    ];
    const results = times.map((validation_time) =>
      ok(
        parseGxValidation({
          text: validation(
            [
              {
                success: true,
                expectation_config: { expectation_type: "expect_table_row_count_to_equal", kwargs: {} },
              },
            ],
            { validation_time },
          ),
          path: "p",
        }),
      ),
    );
    expect(results.map((r) => r.results[0]?.occurredAt)).toEqual([
      "2024-05-01T10:15:00.500Z",
      "2024-05-01T10:15:00.000Z",
      "2024-05-01T10:15:00.000Z",
      "2024-05-01T10:15:00.000Z",
    ]);
  });

  it("identifies kwargs regardless of key order", () => {
    const a = ok(
      parseGxValidation({
        text: validation([
          {
            success: true,
            expectation_config: {
              expectation_type: "e",
              kwargs: { column: "c", min_value: 1, max_value: 2 },
            },
          },
          {
            success: true,
            expectation_config: {
              expectation_type: "e",
              kwargs: { max_value: 2, column: "c", min_value: 1 },
            },
          },
          {
            success: true,
            expectation_config: {
              expectation_type: "e",
              kwargs: { max_value: 3, column: "c", min_value: 1 },
            },
          },
        ]),
        path: "p",
      }),
    );
    expect(a.results[0]?.testId).toBe(a.results[1]?.testId);
    expect(a.results[2]?.testId).not.toBe(a.results[0]?.testId);
  });

  it("is deterministic", () => {
    expect(load("v0-orders-failures.json")).toEqual(load("v0-orders-failures.json"));
  });
});

describe("parseGxValidation: bad input", () => {
  it("reports a truncated file with its path", () => {
    const result = load("bad-truncated.json");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.path).toMatch(/gx\/bad-truncated\.json$/);
    expect(result.problem.reason).toMatch(/^not valid JSON/);
  });

  it("explains files that are not validation results", () => {
    const reason = (text: string) => {
      const result = parseGxValidation({ text, path: "p" });
      return result.ok ? null : result.problem.reason;
    };
    expect(reason('{"expectation_suite_name": "s", "expectations": []}')).toContain("expectation suite");
    expect(reason("{}")).toContain("not a GX validation");
    expect(reason("[]")).toContain("JSON object");
    expect(reason('{"run_results": {}}')).toContain("no run_results");
    expect(reason(validation([], { expectation_suite_name: null }))).toContain("names no suite");
    expect(reason(validation([], { run_id: null }))).toContain("validation_time");
    expect(reason(validation([{ success: true, expectation_config: null }]))).toContain(
      "include_config=True",
    );
  });
});

describe("parseGxValidation: never throws", () => {
  const check = (result: DqParseResult) =>
    result.ok
      ? Array.isArray(result.results)
      : result.problem.reason.length > 0 && result.problem.path === "p";

  it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string(), (text) => check(parseGxValidation({ text, path: "p" }))));
  });

  it("on arbitrary JSON, bare and inside validation-shaped documents", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const shaped = validation(
          [
            a,
            {
              success: a,
              expectation_config: { type: "e", kwargs: b, meta: a },
              result: b,
              exception_info: a,
            },
          ],
          {
            validation_time: a,
          },
        );
        const checkpoint = JSON.stringify({ run_id: a, run_results: { k: { validation_result: a }, l: b } });
        return (
          check(parseGxValidation({ text: JSON.stringify(a), path: "p" })) &&
          check(parseGxValidation({ text: shaped, path: "p" })) &&
          check(parseGxValidation({ text: checkpoint, path: "p" }))
        );
      }),
    );
  });
});
