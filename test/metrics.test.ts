/** Run metrics pushed to a Pushgateway (a loopback stand-in), and a gateway that is down is not fatal. */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { runJob } from "../src/jobs/run-job.js";
import { slackSync } from "../src/jobs/slack_sync.js";
import { createLogger } from "../src/log.js";
import { createTestDatabase, type TestDatabase } from "./support/db.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

function runtime(pushgateway: string) {
  return {
    db: t.db,
    config: loadConfig({ PUSHGATEWAY_URL: pushgateway }),
    log: createLogger({ level: "silent", secrets: [] }),
    now: new Date("2024-05-01T10:00:00Z"),
    runId: randomUUID(),
    slack: null,
    close: async () => undefined,
  };
}

it("each run pushes duration, outcome, counts and the last success time", async () => {
  const pushes: { method: string; url: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      pushes.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runJob(slackSync, runtime(url));
    expect(r.status).toBe("succeeded");
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.method).toBe("POST");
    expect(pushes[0]?.url).toBe("/metrics/job/observability/run/slack_sync");
    expect(pushes[0]?.body).toMatch(/observability_run_succeeded\{status="succeeded"\} 1/);
    for (const name of [
      "observability_run_duration_seconds",
      "observability_run_succeeded",
      "observability_signals_ingested",
      "observability_groups_opened",
      "observability_slack_calls",
      "observability_slack_errors",
      "observability_last_success_timestamp_seconds",
    ]) {
      expect(pushes[0]?.body).toContain(name);
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
});

it("a Pushgateway that is down does not fail the run", async () => {
  const r = await runJob(slackSync, runtime("http://127.0.0.1:1"));
  expect(r.status).toBe("succeeded");
});

it("the values follow the run's summary, and a failed run pushes no last-success time", async () => {
  const { runMetrics } = await import("../src/metrics.js");
  const ok = await runMetrics({
    runName: "ingest_airflow:prod",
    status: "succeeded",
    durationSeconds: 12.5,
    finishedAt: new Date("2024-05-01T10:00:12.500Z"),
    summary: {
      signals: { inserted: 7, opened: 2, reopened: 1 },
      recovered: 3,
      slack: { posted: 2, updated: 4, failed: 1 },
    },
  }).metrics();
  expect(ok).toMatch(/observability_signals_ingested 7/);
  expect(ok).toMatch(/observability_groups_opened 2/);
  expect(ok).toMatch(/observability_groups_reopened 1/);
  expect(ok).toMatch(/observability_groups_closed 3/);
  expect(ok).toMatch(/observability_slack_calls 6/);
  expect(ok).toMatch(/observability_slack_errors 1/);
  expect(ok).toMatch(/observability_run_duration_seconds 12.5/);
  expect(ok).toMatch(/observability_last_success_timestamp_seconds 1714557612.5/);
  const failed = await runMetrics({
    runName: "ingest_airflow:prod",
    status: "failed",
    durationSeconds: 1,
    finishedAt: new Date("2024-05-01T10:00:01Z"),
    summary: {},
  }).metrics();
  expect(failed).toMatch(/observability_run_succeeded\{status="failed"\} 0/);
  expect(failed).not.toContain("observability_last_success_timestamp_seconds");
});
