import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDbtInvocation, SUPPORTED_RUN_RESULTS_VERSIONS } from "./dbt.js";
import type { DqParseResult, DqResult } from "./types.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/dq/dbt");

function load(dir: string): DqParseResult {
  const path = join(FIXTURES, dir, "run_results.json");
  const manifestPath = join(FIXTURES, dir, "manifest.json");
  return parseDbtInvocation({
    runResultsText: readFileSync(path, "utf8"),
    manifestText: existsSync(manifestPath) ? readFileSync(manifestPath, "utf8") : null,
    path,
  });
}

function ok(result: DqParseResult): { invocationId: string; results: DqResult[] } {
  if (!result.ok) throw new Error(`expected ok, got ${result.problem.reason}`);
  return result;
}

function byId(results: DqResult[], testId: string): DqResult {
  const found = results.find((r) => r.testId === testId);
  if (!found) throw new Error(`no result ${testId}`);
  return found;
}

const NOT_NULL = "test.shop.not_null_orders_order_id.3b2f1a9c0d";
const UNIQUE = "test.shop.unique_customers_email.a81c22e4f1";
const RELATIONSHIPS = "test.shop.relationships_orders_customer_id__customer_id__ref_customers_.5d0e3b7c12";
const SINGULAR = "test.shop.assert_order_totals_positive";
const SKIPPED = "test.shop.not_null_payments_daily_payment_date.77aa01bc3e";

/** A minimal invocation for edge cases. */
function tiny(
  results: unknown[],
  overrides: {
    rrMeta?: Record<string, unknown>;
    nodes?: Record<string, unknown>;
    manifestVersion?: number;
  } = {},
): DqParseResult {
  return parseDbtInvocation({
    runResultsText: JSON.stringify({
      metadata: {
        dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v6.json",
        generated_at: "2024-05-01T10:00:00.000000Z",
        invocation_id: "inv-1",
        ...overrides.rrMeta,
      },
      results,
    }),
    manifestText: JSON.stringify({
      metadata: {
        dbt_schema_version: `https://schemas.getdbt.com/dbt/manifest/v${overrides.manifestVersion ?? 12}.json`,
      },
      nodes: overrides.nodes ?? {},
    }),
    path: "/artifacts/inv/run_results.json",
  });
}

describe("parseDbtInvocation: schema versions", () => {
  it("supports run-results v4, v5 and v6", () => {
    expect(SUPPORTED_RUN_RESULTS_VERSIONS).toEqual([4, 5, 6]);
  });

  it("reads v4 run results with a v10 manifest: passes only, successful models omitted", () => {
    const { invocationId, results } = ok(load("inv-v4-ok"));
    expect(invocationId).toBe("1d9e8f7a-6b5c-4d3e-8f2a-0b1c2d3e4f50");
    expect(results.map((r) => [r.testId, r.outcome])).toEqual([
      [NOT_NULL, "pass"],
      [UNIQUE, "pass"],
    ]);
    expect(byId(results, NOT_NULL).details).toMatchObject({ run_results_schema: 4, manifest_schema: 10 });
  });

  it("reads v5 run results with a v11 manifest", () => {
    const { results } = ok(load("inv-v5-failures"));
    expect(results[0]?.details).toMatchObject({
      run_results_schema: 5,
      manifest_schema: 11,
      dbt_version: "1.7.11",
    });
  });

  it("reads v6 run results with a v12 manifest, unit tests included", () => {
    const { invocationId, results } = ok(load("inv-v6-recovered"));
    expect(invocationId).toBe("c0ffee00-1234-4abc-8def-5a6b7c8d9e0f");
    expect(results.every((r) => r.outcome === "pass")).toBe(true);
    expect(results.map((r) => r.testId)).toEqual([
      NOT_NULL,
      UNIQUE,
      RELATIONSHIPS,
      SINGULAR,
      SKIPPED,
      "unit_test.shop.orders.test_order_total_includes_tax",
    ]);
    const unit = byId(results, "unit_test.shop.orders.test_order_total_includes_tax");
    expect(unit).toMatchObject({
      testType: "unit_test",
      model: "orders",
      testName: "test_order_total_includes_tax",
    });
  });
});

describe("parseDbtInvocation: failures (v5 fixture)", () => {
  const { results } = ok(load("inv-v5-failures"));

  it("keeps tests of every outcome and only the model that errored", () => {
    expect(results.map((r) => [r.testId, r.kind, r.outcome])).toEqual([
      ["model.shop.payments_daily", "node", "error"],
      [NOT_NULL, "test", "fail"],
      [
        "test.shop.accepted_values_orders_status__placed__shipped__completed__returned.be6f6a4c57",
        "test",
        "pass",
      ],
      [UNIQUE, "test", "warn"],
      [RELATIONSHIPS, "test", "error"],
      [SINGULAR, "test", "fail"],
      [SKIPPED, "test", "skipped"],
    ]);
  });

  it("maps a not_null failure exactly, inheriting agency and owner from the model", () => {
    expect(byId(results, NOT_NULL)).toEqual({
      tool: "dbt",
      testId: NOT_NULL,
      testName: "not_null_orders_order_id",
      kind: "test",
      outcome: "fail",
      testType: "not_null",
      model: "orders",
      column: "order_id",
      message: "Got 17 results, configured to fail if != 0",
      failures: 17,
      occurredAt: "2024-03-05T06:12:03.733Z",
      invocationId: "6f1c2d3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f",
      meta: { agency: "acme", owner: "alice" },
      tags: [],
      details: {
        status: "fail",
        resource_type: "test",
        severity: "error",
        execution_time: 0.24,
        relation_name: null,
        test_namespace: null,
        model_unique_id: "model.shop.orders",
        package_name: "shop",
        original_file_path: "models/marts/schema.yml",
        in_manifest: true,
        meta_inherited_from: "model.shop.orders",
        dbt_version: "1.7.11",
        run_results_schema: 5,
        manifest_schema: 11,
        manifest_from_other_invocation: false,
      },
    } satisfies DqResult);
  });

  it("lets a test's own meta win key by key over its model's (config.meta over meta)", () => {
    const unique = byId(results, UNIQUE);
    // customers: meta {agency: globex, owner: bob}, config.meta {agency: globex}; the test sets owner: carol.
    expect(unique.meta).toEqual({ agency: "globex", owner: "carol" });
    expect(unique).toMatchObject({
      outcome: "warn",
      testType: "unique",
      model: "customers",
      column: "email",
    });
    expect(unique.tags).toEqual(["pii"]);
    expect(unique.details.severity).toBe("warn");
  });

  it("takes the tested model of a relationships test from attached_node, not the referenced model", () => {
    const rel = byId(results, RELATIONSHIPS);
    expect(rel).toMatchObject({
      outcome: "error",
      testType: "relationships",
      model: "orders",
      column: "customer_id",
    });
    expect(rel.failures).toBeNull();
    expect(rel.message).toContain("column parent.customer_id does not exist");
  });

  it("names singular tests and finds their model through depends_on", () => {
    const singular = byId(results, SINGULAR);
    expect(singular).toMatchObject({
      testType: "singular",
      model: "orders",
      column: null,
      failures: 3,
      meta: { agency: "acme", owner: "dave" },
    });
  });

  it("reports a model error as a node with its own meta and tags", () => {
    expect(byId(results, "model.shop.payments_daily")).toMatchObject({
      kind: "node",
      outcome: "error",
      testName: "payments_daily",
      testType: "model",
      model: "payments_daily",
      column: null,
      failures: null,
      occurredAt: "2024-03-05T06:12:01.512Z",
      meta: { agency: "acme", owner: "erin" },
      tags: ["finance", "daily"],
    });
  });

  it("times a skipped test (no timing) at the artifact's generated_at", () => {
    expect(byId(results, SKIPPED)).toMatchObject({
      outcome: "skipped",
      occurredAt: "2024-03-05T06:12:40.918Z",
    });
  });
});

describe("parseDbtInvocation: recovery", () => {
  it("gives the same test the same identity across schema versions", () => {
    const failing = ok(load("inv-v5-failures")).results.filter(
      (r) => r.kind === "test" && r.outcome !== "pass",
    );
    const later = new Map(ok(load("inv-v6-recovered")).results.map((r) => [r.testId, r]));
    for (const result of failing) {
      expect(later.get(result.testId)?.outcome).toBe("pass");
      expect(later.get(result.testId)?.model).toBe(result.model);
    }
  });
});

describe("parseDbtInvocation: bad input", () => {
  it("reports a truncated run_results.json with its path", () => {
    const result = load("bad-truncated");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.path).toMatch(/bad-truncated\/run_results\.json$/);
    expect(result.problem.reason).toMatch(/^run_results\.json is not valid JSON/);
  });

  it("reports an unknown run-results version, naming it", () => {
    const result = load("bad-version");
    expect(result).toMatchObject({ ok: false });
    if (result.ok) return;
    expect(result.problem.reason).toContain("schema v99");
    expect(result.problem.reason).toContain("v4, v5, v6");
  });

  it("reports a missing manifest", () => {
    const result = load("bad-no-manifest");
    expect(result).toMatchObject({ ok: false });
    if (result.ok) return;
    expect(result.problem.reason).toMatch(/^manifest\.json is missing/);
  });

  it("rejects a manifest older than v10", () => {
    const result = tiny([], { manifestVersion: 9 });
    expect(result).toMatchObject({ ok: false });
    if (result.ok) return;
    expect(result.problem.reason).toContain("manifest.json has schema v9");
    expect(result.problem.path).toBe("/artifacts/inv/run_results.json");
  });

  it("rejects a bad generated_at, a manifest given as run results, a missing schema version, a non-object", () => {
    const bad = parseDbtInvocation({
      runResultsText: JSON.stringify({
        metadata: {
          dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v6.json",
          generated_at: "x",
        },
        results: [],
      }),
      manifestText: "{",
      path: "p",
    });
    expect(bad).toMatchObject({ ok: false, problem: { reason: expect.stringContaining("generated_at") } });
    const manifestAsRunResults = parseDbtInvocation({
      runResultsText: JSON.stringify({
        metadata: { dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v12.json" },
      }),
      manifestText: "{}",
      path: "p",
    });
    expect(manifestAsRunResults).toMatchObject({
      ok: false,
      problem: { reason: "run_results.json is a dbt manifest artifact (v12), not run results" },
    });
    const noVersion = parseDbtInvocation({ runResultsText: "{}", manifestText: "{}", path: "p" });
    expect(noVersion).toMatchObject({
      ok: false,
      problem: { reason: expect.stringContaining("dbt_schema_version") },
    });
    const notAnObject = parseDbtInvocation({ runResultsText: "[1]", manifestText: "{}", path: "p" });
    expect(notAnObject).toMatchObject({
      ok: false,
      problem: { reason: expect.stringContaining("JSON object") },
    });
  });

  it("reports an unparseable manifest naming manifest.json", () => {
    const path = join(FIXTURES, "inv-v4-ok", "run_results.json");
    const result = parseDbtInvocation({
      runResultsText: readFileSync(path, "utf8"),
      manifestText: '{"metadata": {',
      path,
    });
    expect(result).toMatchObject({ ok: false, problem: { path } });
    if (result.ok) return;
    expect(result.problem.reason).toMatch(/^manifest\.json is not valid JSON/);
  });
});

describe("parseDbtInvocation: edge cases", () => {
  it("normalises times to UTC; a time without an offset is UTC", () => {
    const timing = (completed: string) => [
      { name: "execute", started_at: completed, completed_at: completed },
    ];
    const result = ok(
      tiny([
        { unique_id: "test.p.a", status: "fail", timing: timing("2024-05-01T12:30:00.123456+02:00") },
        { unique_id: "test.p.b", status: "fail", timing: timing("2024-05-01T12:30:00") },
        { unique_id: "test.p.c", status: "fail", timing: timing("not a time") },
      ]),
    );
    expect(result.results.map((r) => r.occurredAt)).toEqual([
      "2024-05-01T10:30:00.123Z",
      "2024-05-01T12:30:00.000Z",
      "2024-05-01T10:00:00.000Z",
    ]);
  });

  it("keeps results whose node is not in the manifest, and maps statuses", () => {
    const result = ok(
      tiny([
        { unique_id: "test.p.not_in_manifest.abc", status: "runtime error", message: "boom" },
        { unique_id: "model.p.m", status: "partial success" },
        { unique_id: "model.p.ok", status: "success" },
        { unique_id: "seed.p.s", status: "error", message: "bad csv" },
        { unique_id: "snapshot.p.snap", status: "skipped" },
        { unique_id: "test.p.odd", status: "something new" },
        { status: "fail" },
        "junk",
      ]),
    );
    expect(result.results.map((r) => [r.testId, r.kind, r.outcome, r.testName, r.testType])).toEqual([
      ["test.p.not_in_manifest.abc", "test", "error", "abc", "singular"],
      ["model.p.m", "node", "error", "m", "model"],
      ["seed.p.s", "node", "error", "s", "seed"],
      ["test.p.odd", "test", "error", "odd", "singular"],
    ]);
    expect(result.results[0]?.details.in_manifest).toBe(false);
  });

  it("falls back to the test's kwargs for a model, and to a digest for a missing invocation id", () => {
    const result = ok(
      tiny(
        [
          { unique_id: "test.p.t1", status: "fail", failures: 2 },
          { unique_id: "test.p.t2", status: "fail", failures: -1 },
        ],
        {
          rrMeta: { invocation_id: null },
          nodes: {
            "test.p.t1": {
              resource_type: "test",
              name: "t1",
              test_metadata: {
                name: "not_null",
                kwargs: { column_name: "id", model: "{{ ref('orders') }}" },
              },
            },
            "test.p.t2": {
              resource_type: "test",
              name: "t2",
              test_metadata: { name: "not_null", kwargs: { model: "{{ source('raw', 'events') }}" } },
            },
          },
        },
      ),
    );
    expect(result.invocationId).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(result.results.map((r) => [r.model, r.column, r.failures, r.invocationId])).toEqual([
      ["orders", "id", 2, result.invocationId],
      ["raw.events", null, null, result.invocationId],
    ]);
  });

  it("flags a manifest written by another invocation", () => {
    const result = ok(
      parseDbtInvocation({
        runResultsText: JSON.stringify({
          metadata: {
            dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v5.json",
            generated_at: "2024-05-01T10:00:00Z",
            invocation_id: "a",
          },
          results: [{ unique_id: "test.p.t", status: "pass" }],
        }),
        manifestText: JSON.stringify({
          metadata: {
            dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v11.json",
            invocation_id: "b",
          },
        }),
        path: "p",
      }),
    );
    expect(result.results[0]?.details.manifest_from_other_invocation).toBe(true);
  });

  it("is deterministic", () => {
    expect(load("inv-v5-failures")).toEqual(load("inv-v5-failures"));
  });
});

describe("parseDbtInvocation: never throws", () => {
  const check = (result: DqParseResult) =>
    result.ok
      ? Array.isArray(result.results)
      : result.problem.reason.length > 0 && result.problem.path === "p";

  it("on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: null }), (runResultsText, manifestText) =>
        check(parseDbtInvocation({ runResultsText, manifestText, path: "p" })),
      ),
    );
  });

  it("on arbitrary JSON, bare and inside well-versioned artifacts", () => {
    const rrMeta = { dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v5.json" };
    const mMeta = { dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v12.json" };
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), (a, b, c) => {
        const plain = parseDbtInvocation({
          runResultsText: JSON.stringify(a),
          manifestText: JSON.stringify(b),
          path: "p",
        });
        const shaped = parseDbtInvocation({
          runResultsText: JSON.stringify({
            metadata: { ...rrMeta, generated_at: "2024-01-01T00:00:00Z", invocation_id: a },
            results: [a, { unique_id: "test.p.x", status: "fail", timing: b, failures: c, message: c }],
          }),
          manifestText: JSON.stringify({
            metadata: mMeta,
            nodes: {
              "test.p.x": { resource_type: "test", attached_node: "model.p.m", test_metadata: b, config: c },
            },
            sources: c,
          }),
          path: "p",
        });
        return check(plain) && check(shaped);
      }),
    );
  });
});
