import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseExecutionsHistory, splitPipes } from "./simple.js";

const GOOD = `execution|13108|FINISHED_OK|clover|def|test.grf|2008-09-16 11:11:19|2008-09-16 11:11:58^|nodeA|2.4
phase|0|38733
node|DATA_GENERATOR1|FINISHED_OK|0|0|0.0|0.0|0.0|0.0|label_text
port|Output|0|0|0|0|0|130|10
execution|13107|ERROR|clover|def|graph/orders/load.grf|2008-09-16 11:11:19|2008-09-16 11:11:30
phase|0|11133
node|READER|FINISHED_OK|0|0|0.0|0.0|0.0|0.0|Reader
node|WRITE_ORDERS|ERROR|0|0|0.0|0.0|0.0|0.0|Write orders
port|Input|0|5|0|5|0|52|4
`;

describe("executions_history DESCRIPTION parser", () => {
  it("reads executions, their failing node and times in the server's zone", () => {
    const r = parseExecutionsHistory(GOOD, "Europe/Prague");
    expect(r.skipped).toBe(0);
    expect(r.executionLines).toBe(2);
    expect(r.executions).toEqual([
      expect.objectContaining({
        runId: "13108",
        status: "FINISHED_OK",
        sandbox: "def",
        jobFile: "test.grf",
        submitTime: "2008-09-16T09:11:19.000Z",
        stopTime: "2008-09-16T09:11:58.000Z",
        clusterNode: "nodeA",
        errorComponentId: null,
      }),
      expect.objectContaining({
        runId: "13107",
        status: "ERROR",
        errorComponentId: "WRITE_ORDERS",
        clusterNode: null,
      }),
    ]);
  });

  it("skips and counts hostile lines; blank lines are ignored", () => {
    const body = [
      "runID|status|username|sandbox|graphID|submitted|finished", // a header
      "",
      "node|ORPHAN|ERROR|0", // before any execution
      "execution|1|ERROR|u|s|a.grf", // too few fields
      "execution|x12|ERROR|u|s|a.grf|2024-01-01 10:00:00|2024-01-01 10:01:00|n|null", // bad run id
      "execution|2|error!|u|s|a.grf|2024-01-01 10:00:00|2024-01-01 10:01:00|n|null", // bad status
      "execution|3|ERROR|u|s|a.grf|yesterday|2024-01-01 10:01:00|n|null", // bad time
      "<html><body>500</body></html>",
      "execution|4|ERROR|u|s|dir\\|with\\|pipes.grf|2024-01-01 10:00:00|2024-01-01 10:01:00|n|null|extra|columns",
      "   ",
    ].join("\r\n");
    const r = parseExecutionsHistory(body, "UTC");
    expect(r.executions.map((e) => [e.runId, e.jobFile])).toEqual([["4", "dir|with|pipes.grf"]]);
    expect(r.skipped).toBe(7);
    expect(r.executionLines).toBe(5);
    expect(r.samples).toHaveLength(3);
  });

  it("an unfinished run has no stop time", () => {
    const r = parseExecutionsHistory("execution|9|RUNNING|u|s|a.grf|2024-01-01 10:00:00||n|null\n", "UTC");
    expect(r.executions[0]).toMatchObject({ runId: "9", stopTime: null });
  });

  it("splitPipes undoes escaping", () => {
    expect(splitPipes("a\\|b|c\\\\|d")).toEqual(["a|b", "c\\", "d"]);
  });

  it("never throws and accounts for every non-blank line (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom("execution|", "node|X|ERROR", "phase|0|1", "|||")), {
          maxLength: 30,
        }),
        (lines) => {
          const body = lines.join("\n");
          const r = parseExecutionsHistory(body, "Europe/Prague");
          const nonBlank = body.split(/\r?\n/).filter((l) => l.replace(/^\uFEFF/, "").trim() !== "").length;
          expect(r.skipped).toBeLessThanOrEqual(nonBlank);
          expect(r.executions.length).toBeLessThanOrEqual(r.executionLines);
        },
      ),
    );
  });
});
