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
