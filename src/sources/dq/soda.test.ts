import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSodaScan } from "./soda.js";
import type { DqParseResult, DqResult } from "./types.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/dq/soda");

function load(name: string): DqParseResult {
  const path = join(FIXTURES, name);
  return parseSodaScan({ text: readFileSync(path, "utf8"), path });
}

function ok(result: DqParseResult): { invocationId: string; results: DqResult[] } {
  if (!result.ok) throw new Error(`expected ok, got ${result.problem.reason}`);
  return result;
}

function scan(checks: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    definitionName: "d",
    defaultDataSource: "ds",
    scanStartTimestamp: "2024-05-01T10:00:00+00:00",
    scanEndTimestamp: "2024-05-01T10:00:05+00:00",
    hasErrors: false,
    checks,
    logs: [],
    ...extra,
  });
}

describe("parseSodaScan: a scan with pass, warn, fail and error checks", () => {
  const { invocationId, results } = ok(load("scan-orders-failures.json"));

  it("maps a failed check exactly", () => {
    expect(invocationId).toBe("orders_nightly@2024-03-05T06:20:07.881Z");
    expect(results[1]).toEqual({
      tool: "soda",
      testId: "41d07e3a",
      testName: "missing_count(customer_id) = 0",
      kind: "test",
      outcome: "fail",
      testType: "missing_count",
      model: "orders",
      column: "customer_id",
      message: "value 17 (fails when > 0)",
      failures: 17,
      occurredAt: "2024-03-05T06:20:07.881Z",
      invocationId: "orders_nightly@2024-03-05T06:20:07.881Z",
      meta: { agency: "acme", owner: "alice" },
      tags: [],
      details: {
        scan_definition: "orders_nightly",
        data_timestamp: "2024-03-05T06:20:00.000Z",
        scan_started_at: "2024-03-05T06:20:00.104Z",
        soda_outcome: "fail",
        check_type: "generic",
        definition: "checks for orders:\n  missing_count(customer_id) = 0",
        data_source: "warehouse",
        filter: null,
        location: { filePath: "checks/orders.yml", line: 3, col: 5 },
        value: 17,
        fail_when: { greaterThan: 0 },
        warn_when: null,
        outcome_reasons: [],
      },
    } satisfies DqResult);
  });

  it("maps every outcome; a null outcome is an error carrying the outcome reasons", () => {
    expect(results.map((r) => [r.testId, r.testType, r.outcome, r.failures, r.message])).toEqual([
      ["9f2c41b7", "row_count", "pass", null, null],
      ["41d07e3a", "missing_count", "fail", 17, "value 17 (fails when > 0)"],
      ["c7e5a902", "duplicate_count", "warn", 3, "value 3 (fails when > 10; warns when > 0)"],
      [
        "5b8e2f6d",
        "anomaly_detection_for_row_count",
        "error",
        null,
        expect.stringContaining("Anomaly Detection Insufficient Training Data"),
      ],
      [
        "soda-scan:orders_nightly",
        "scan",
        "error",
        null,
        expect.stringContaining('relation "public.payments"'),
      ],
    ]);
    expect(results[2]).toMatchObject({ testName: "No duplicate order ids", meta: { owner: "carol" } });
  });

  it("closes everything in the later scan", () => {
    const later = ok(load("scan-orders-recovered.json"));
    expect(later.invocationId).toBe("orders_nightly@2024-03-06T06:20:06.502Z");
    expect(later.results.map((r) => [r.testId, r.outcome])).toEqual(results.map((r) => [r.testId, "pass"]));
  });

  it("is deterministic", () => {
    expect(load("scan-orders-failures.json")).toEqual(load("scan-orders-failures.json"));
  });
});

describe("parseSodaScan: edge cases", () => {
  it("falls back for identity, name and invocation id, and reads failed-rows blocks", () => {
    const text = scan(
      [
        {
          identities: { v1: "a1", v2: "a2", v10: "a10" },
          definition: "checks for payments:\n  - failed rows:\n      fail query: select 1\n",
          table: "payments",
          outcome: "fail",
          diagnostics: {
            blocks: [{ type: "failedRowsAnalysis", totalFailingRows: 42 }],
            value: 42,
          },
        },
        {
          definition: "checks for t:\n  schema:",
          table: "t",
          outcome: "FAIL",
          type: "schema",
          diagnostics: { blocks: [] },
        },
        { table: "t", outcome: "maybe" },
        "junk",
      ],
      { definitionName: null },
    );
    const result = ok(parseSodaScan({ text, path: "p" }));
    expect(result.invocationId).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(
      result.results.map((r) => [r.testId, r.testName, r.testType, r.outcome, r.failures, r.message]),
    ).toEqual([
      ["a10", "failed rows", "failed_rows", "fail", 42, "value 42"],
      [expect.stringMatching(/^soda:[0-9a-f]{12}$/), "schema", "schema", "fail", null, "schema: failed"],
      [
        expect.stringMatching(/^soda:[0-9a-f]{12}$/),
        expect.stringMatching(/^soda:/),
        null,
        "error",
        null,
        expect.stringContaining("not evaluated"),
      ],
      ["soda-scan:ds", "Soda scan ds", "scan", "pass", null, null],
    ]);
  });

  it("normalises times to UTC; a time without an offset is UTC", () => {
    const at = (scanEndTimestamp: unknown, extra: Record<string, unknown> = {}) => {
      const result = parseSodaScan({ text: scan([], { scanEndTimestamp, ...extra }), path: "p" });
      return result.ok ? result.results[0]?.occurredAt : result.problem.reason;
    };
    expect(at("2024-05-01T12:00:05.123456+02:00")).toBe("2024-05-01T10:00:05.123Z");
    expect(at("2024-05-01T10:00:05.5")).toBe("2024-05-01T10:00:05.500Z");
    expect(at(null)).toBe("2024-05-01T10:00:00.000Z");
    expect(at("garbage", { scanStartTimestamp: null })).toContain("no valid scanEndTimestamp");
  });

  it("reports scan errors flagged without error logs", () => {
    const result = ok(parseSodaScan({ text: scan([], { hasErrors: true }), path: "p" }));
    expect(result.results[0]).toMatchObject({ outcome: "error", message: "the scan reported errors" });
  });
});

describe("parseSodaScan: bad input", () => {
  it("reports a malformed file with its path", () => {
    const result = load("bad-malformed.json");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.path).toMatch(/soda\/bad-malformed\.json$/);
    expect(result.problem.reason).toMatch(/^not valid JSON/);
  });

  it("rejects JSON that is not a scan result", () => {
    expect(parseSodaScan({ text: '{"checks": {}}', path: "p" })).toMatchObject({
      ok: false,
      problem: { path: "p", reason: expect.stringContaining("no checks array") },
    });
    expect(parseSodaScan({ text: "null", path: "p" })).toMatchObject({ ok: false });
  });
});

describe("parseSodaScan: never throws", () => {
  const check = (result: DqParseResult) =>
    result.ok
      ? Array.isArray(result.results)
      : result.problem.reason.length > 0 && result.problem.path === "p";

  it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string(), (text) => check(parseSodaScan({ text, path: "p" }))));
  });

  it("on arbitrary JSON, bare and inside scan-shaped documents", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const shaped = scan(
          [
            a,
            {
              identity: a,
              identities: b,
              definition: a,
              outcome: b,
              diagnostics: a,
              resourceAttributes: b,
              outcomeReasons: a,
            },
          ],
          { logs: b, scanEndTimestamp: "2024-01-01T00:00:00Z", definitionName: a },
        );
        return (
          check(parseSodaScan({ text: JSON.stringify(a), path: "p" })) &&
          check(parseSodaScan({ text: shaped, path: "p" }))
        );
      }),
    );
  });
});
