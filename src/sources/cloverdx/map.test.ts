import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSandboxAgencyRules, resolveSandboxAgency } from "./agency.js";
import { extractLogError } from "./log.js";
import {
  classifyStatus,
  componentStage,
  exceptionClass,
  inferParentsFromTiming,
  type MapContext,
  mapFailures,
  readRestExecution,
} from "./map.js";
import type { CloverdxExecution } from "./types.js";

const NOW = new Date("2024-05-01T10:00:00Z");

function ex(over: Partial<CloverdxExecution> & { runId: string }): CloverdxExecution {
  return {
    status: "ERROR",
    sandbox: "ACME_ETL",
    jobFile: "graph/orders/load.grf",
    executionType: null,
    parentRunId: null,
    rootRunId: null,
    submitTime: "2024-05-01T09:00:00.000Z",
    startTime: "2024-05-01T09:00:00.000Z",
    stopTime: "2024-05-01T09:10:00.000Z",
    errorMessage: null,
    exception: null,
    errorComponentId: null,
    errorComponentType: null,
    executedBy: null,
    clusterNode: null,
    ...over,
  };
}

const rules = parseSandboxAgencyRules("ACME_ETL=acme");
const ctx: MapContext = {
  instance: "prod",
  includeAborted: false,
  agencyOf: (s) => {
    const slug = resolveSandboxAgency(s, rules);
    return { slug, id: slug === null ? null : `a-${slug}` };
  },
  logErrors: new Map(),
  now: NOW,
};
const byIdOf = (xs: CloverdxExecution[]) => new Map(xs.map((x) => [x.runId, x]));

describe("status classification", () => {
  it("maps statuses to signal kinds", () => {
    expect(
      ["ERROR", "TIMEOUT", "UNKNOWN", "N_A", "ABORTED", "FINISHED_OK", "RUNNING"].map((s) =>
        classifyStatus(s, false),
      ),
    ).toEqual(["failed", "failed", "unknown", "unknown", null, null, null]);
    expect(classifyStatus("aborted", true)).toBe("aborted");
  });
});

describe("REST records", () => {
  it("reads the documented and assumed fields; the run id falls back to @self", () => {
    const e = readRestExecution(
      {
        "@self": "http://h/clover/api/rest/v1/executions/117228",
        sandboxCode: "S",
        jobFile: "graph/a.grf",
        status: "error",
        stopTime: "2024-05-01 12:00:00",
        errMessage: "boom",
        errNode: "N1",
      },
      "Europe/Prague",
    );
    expect(e).toMatchObject({
      runId: "117228",
      status: "ERROR",
      sandbox: "S",
      stopTime: "2024-05-01T10:00:00.000Z",
      errorMessage: "boom",
      errorComponentId: "N1",
    });
    expect(readRestExecution({ jobFile: "x" }, "UTC")).toBeNull();
    expect(readRestExecution([1], "UTC")).toBeNull();
  });
});

describe("mapping failures", () => {
  it("a plain failure: stage, class, dedup key and agency", () => {
    const e = ex({
      runId: "1001",
      errorMessage: "ORA-00942: table or view does not exist",
      exception:
        "org.jetel.exception.JetelRuntimeException: x\nCaused by: java.sql.SQLSyntaxErrorException: ORA-00942",
      errorComponentId: "WRITE_ORDERS",
      errorComponentType: "DBOutputTable",
    });
    const [s] = mapFailures([e], byIdOf([e]), ctx);
    expect(s).toMatchObject({
      source: "cloverdx",
      signal_type: "cloverdx_run_failed",
      severity: "error",
      job_name: "graph/orders/load.grf",
      stage: "DBOutputTable:WRITE_ORDERS",
      error_class: "SQLSyntaxErrorException",
      agency_id: "a-acme",
      run_id: "1001",
      task_id: null,
      dedup_key: "prod|1001",
      occurred_at: "2024-05-01T09:10:00.000Z",
    });
  });

  it("TIMEOUT defaults its class to Timeout unless the record has one; unknown agency keeps the signal", () => {
    const t1 = ex({ runId: "1", status: "TIMEOUT", sandbox: "ELSEWHERE" });
    const t2 = ex({
      runId: "2",
      status: "TIMEOUT",
      exception: "java.util.concurrent.TimeoutException: slow",
    });
    const out = mapFailures([t1, t2], byIdOf([t1, t2]), ctx);
    expect(out.map((s) => [s.error_class, s.agency_id])).toEqual([
      ["Timeout", null],
      ["TimeoutException", "a-acme"],
    ]);
  });

  it("a child failing inside a jobflow: one signal keyed and named on the root, whichever is seen", () => {
    const parent = ex({
      runId: "10",
      jobFile: "jobflow/nightly.jbf",
      errorMessage: "child failed",
      errorComponentId: "EXEC",
      errorComponentType: "ExecuteGraph",
      stopTime: "2024-05-01T09:40:00.000Z",
    });
    const child = ex({
      runId: "11",
      jobFile: "graph/step2.grf",
      parentRunId: "10",
      rootRunId: "10",
      errorMessage: "Division by zero",
      errorComponentId: "CALC",
      errorComponentType: "Reformat",
    });
    const both = mapFailures([parent, child], byIdOf([parent, child]), ctx);
    const childOnly = mapFailures([child], byIdOf([parent, child]), ctx);
    expect(both).toHaveLength(1);
    expect(both[0]).toMatchObject({
      job_name: "jobflow/nightly.jbf",
      stage: "Reformat:CALC",
      error_message: "Division by zero",
      dedup_key: "prod|10",
      task_id: "graph/step2.grf",
    });
    for (const key of [
      "job_name",
      "stage",
      "error_class",
      "error_message",
      "dedup_key",
      "signal_type",
    ] as const) {
      expect(childOnly[0]?.[key]).toEqual(both[0]?.[key]);
    }
    expect(both[0]?.details?.chain).toEqual([
      { run_id: "10", job_file: "jobflow/nightly.jbf", status: "ERROR" },
      { run_id: "11", job_file: "graph/step2.grf", status: "ERROR" },
    ]);
  });

  it("the error comes from the log when the record has none", () => {
    const e = ex({ runId: "5" });
    const log = extractLogError(
      "INFO start\n2024-05-01 09:09:59 ERROR [WatchDog_5] - Component [Reformat:CALC] finished with status ERROR.\nCaused by: org.jetel.exception.TransformException: Division by zero\n",
    );
    expect(log).toEqual({
      errorClass: "TransformException",
      errorMessage: "Division by zero",
      componentId: "CALC",
      componentType: "Reformat",
    });
    const [s] = mapFailures([e], byIdOf([e]), { ...ctx, logErrors: new Map([["5", log]]) });
    expect(s).toMatchObject({
      stage: "Reformat:CALC",
      error_class: "TransformException",
      error_message: "Division by zero",
    });
    expect(extractLogError("")).toEqual({
      errorClass: null,
      errorMessage: null,
      componentId: null,
      componentType: null,
    });
  });

  it("grouping does not depend on the order records arrive in (property)", () => {
    const parent = ex({ runId: "10", jobFile: "jobflow/a.jbf", errorMessage: "child failed" });
    const child = ex({
      runId: "11",
      jobFile: "graph/b.grf",
      parentRunId: "10",
      rootRunId: "10",
      errorMessage: "boom",
    });
    const grandchild = ex({
      runId: "12",
      jobFile: "graph/c.grf",
      parentRunId: "11",
      rootRunId: "10",
      errorMessage: "deep",
      errorComponentId: "X",
    });
    const other = ex({ runId: "20", jobFile: "graph/z.grf", status: "UNKNOWN" });
    const all = [parent, child, grandchild, other];
    const expected = mapFailures(all, byIdOf(all), ctx);
    expect(expected.map((s) => [s.dedup_key, s.stage])).toEqual([
      ["prod|10", "X"],
      ["prod|20", null],
    ]);
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: 4, maxLength: 4 }), (order) => {
        expect(mapFailures(order, byIdOf(order), ctx)).toEqual(expected);
      }),
    );
  });
});

describe("small helpers", () => {
  it("exception classes and stages", () => {
    expect(exceptionClass("java.lang.IllegalStateException: no")).toBe("IllegalStateException");
    expect(exceptionClass("not a trace at all")).toBeNull();
    expect(exceptionClass(null)).toBeNull();
    expect(componentStage("DBOutputTable", "WRITE")).toBe("DBOutputTable:WRITE");
    expect(componentStage(null, "WRITE")).toBe("WRITE");
    expect(componentStage(null, null)).toBeNull();
  });

  it("agency rules", () => {
    const r = parseSandboxAgencyRules(" ACME_ETL=Acme , globex=globex ");
    expect(resolveSandboxAgency("acme_etl", r)).toBe("acme");
    expect(resolveSandboxAgency("GLOBEX", r)).toBe("globex");
    expect(resolveSandboxAgency("other", r)).toBeNull();
    expect(resolveSandboxAgency(null, r)).toBeNull();
    expect(() => parseSandboxAgencyRules("a=b,")).toThrow(/CLOVERDX_AGENCY_RULES/);
    expect(() => parseSandboxAgencyRules("a b=c")).toThrow(/sandbox code/);
  });

  it("Simple API parent inference: only an unambiguous enclosing failing jobflow", () => {
    const flow = ex({
      runId: "1",
      jobFile: "jobflow/a.jbf",
      submitTime: "2024-05-01T09:00:00.000Z",
      stopTime: "2024-05-01T09:40:00.000Z",
    });
    const graph = ex({
      runId: "2",
      jobFile: "graph/b.grf",
      submitTime: "2024-05-01T09:05:00.000Z",
      stopTime: "2024-05-01T09:30:00.000Z",
    });
    const elsewhere = ex({
      runId: "3",
      sandbox: "OTHER",
      jobFile: "graph/c.grf",
      submitTime: "2024-05-01T09:05:00.000Z",
      stopTime: "2024-05-01T09:30:00.000Z",
    });
    const out = inferParentsFromTiming([flow, graph, elsewhere], false);
    expect(out.map((e) => [e.runId, e.parentRunId, e.rootRunId])).toEqual([
      ["1", null, null],
      ["2", "1", "1"],
      ["3", null, null],
    ]);
    // Two unrelated overlapping jobflows: ambiguous, left alone.
    const flow2 = ex({
      runId: "0",
      jobFile: "jobflow/z.jbf",
      submitTime: "2024-05-01T09:01:00.000Z",
      stopTime: "2024-05-01T09:35:00.000Z",
    });
    const flow1 = { ...flow, submitTime: "2024-05-01T09:02:00.000Z", stopTime: "2024-05-01T09:50:00.000Z" };
    expect(
      inferParentsFromTiming([flow2, flow1, graph], false).find((e) => e.runId === "2")?.parentRunId,
    ).toBeNull();
  });
});
