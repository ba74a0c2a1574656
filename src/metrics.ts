/**
 * Run metrics for batch jobs: with PUSHGATEWAY_URL set, each run pushes its duration, outcome, what it
 * ingested and changed, its Slack calls and errors, and (on success) the last-success time, to a Prometheus
 * Pushgateway under job `observability` and the run's name. A push that fails is logged, never fatal.
 */
import { Gauge, Pushgateway, Registry } from "prom-client";
import type { JsonObject, JsonValue } from "./core/types.js";
import type { Logger } from "./log.js";

/** A number at a path of the summary (e.g. ["signals", "inserted"]), or 0. */
function pick(summary: JsonObject, ...paths: readonly string[][]): number {
  let total = 0;
  for (const path of paths) {
    let v: JsonValue | undefined = summary;
    for (const key of path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? v[key] : undefined;
    if (typeof v === "number") total += v;
  }
  return total;
}

export function runMetrics(run: {
  runName: string;
  status: string;
  durationSeconds: number;
  finishedAt: Date;
  summary: JsonObject;
}): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, value: number, labels: Record<string, string> = {}) => {
    const g = new Gauge({ name, help, labelNames: Object.keys(labels), registers: [registry] });
    g.set(labels, value);
  };
  const s = run.summary;
  gauge("observability_run_duration_seconds", "Duration of the last run", run.durationSeconds);
  gauge(
    "observability_run_succeeded",
    "1 if the last run succeeded, else 0",
    run.status === "succeeded" ? 1 : 0,
    {
      status: run.status,
    },
  );
  gauge(
    "observability_signals_ingested",
    "Signals inserted by the last run",
    pick(s, ["inserted"], ["signals", "inserted"]),
  );
  gauge(
    "observability_groups_opened",
    "Groups opened by the last run",
    pick(s, ["opened"], ["signals", "opened"]),
  );
  gauge(
    "observability_groups_reopened",
    "Groups reopened by the last run",
    pick(s, ["reopened"], ["signals", "reopened"]),
  );
  gauge(
    "observability_groups_closed",
    "Groups closed by the last run",
    pick(s, ["recovered"], ["import_errors_resolved"]),
  );
  gauge(
    "observability_slack_calls",
    "Slack messages posted or updated by the last run",
    pick(
      s,
      ["slack", "posted"],
      ["slack", "reposted"],
      ["slack", "updated"],
      ["slack", "thread_replies"],
      ["slack", "dms"],
    ),
  );
  gauge(
    "observability_slack_errors",
    "Groups Slack could not be updated for in the last run",
    pick(s, ["slack", "failed"]),
  );
  if (run.status === "succeeded") {
    gauge(
      "observability_last_success_timestamp_seconds",
      "When the run last succeeded",
      run.finishedAt.getTime() / 1000,
    );
  }
  return registry;
}

export async function pushRunMetrics(
  url: string | undefined,
  log: Logger,
  run: Parameters<typeof runMetrics>[0],
): Promise<void> {
  if (url === undefined) return;
  try {
    const gateway = new Pushgateway(url, { timeout: 5000 }, runMetrics(run));
    // pushAdd keeps the metrics other runs pushed (e.g. the last success time survives a failed run).
    await gateway.pushAdd({ jobName: "observability", groupings: { run: run.runName } });
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not push run metrics");
  }
}
