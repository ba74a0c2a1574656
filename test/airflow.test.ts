/**
 * ingest_airflow end to end, for both API versions: the real client against the fake Airflow over HTTP,
 * the real grouping engine and database, and the Slack sync against the fake Slack.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { type Config, loadConfig } from "../src/config.js";
import { readCursor } from "../src/db/cursors.js";
import { type FakeAirflow, startFakeAirflow } from "../src/fakes/airflow.js";
import { type FakeSlack, startFakeSlack } from "../src/fakes/slack.js";
import { ingestAirflowJob } from "../src/jobs/ingest_airflow.js";
import { runJob } from "../src/jobs/run-job.js";
import { createLogger } from "../src/log.js";
import type { Runtime } from "../src/runtime.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";
import { createAirflowHttp } from "../src/sources/airflow/http.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";
const DAY = "2024-05-01";
const at = (hhmm: string) => `${DAY}T${hhmm}:00.000Z`;

let t: TestDatabase;
let slack: FakeSlack;
let airflow: FakeAirflow;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
afterEach(async () => {
  await slack?.close();
  await airflow?.close();
});

function config(extra: Record<string, string> = {}): Config {
  return loadConfig({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SHARED_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: slack.url,
    APP_BASE_URL: "https://ops.example.com",
    AIRFLOW_BASE_URL: airflow.url,
    AIRFLOW_USERNAME: "admin",
    AIRFLOW_PASSWORD: "admin",
    AIRFLOW_INSTANCE: "prod",
    AIRFLOW_AGENCY_RULES: "billing_=globex",
    ...extra,
  });
}

function runtimeAt(now: string, cfg: Config = config()): Runtime {
  const log = createLogger({ level: "silent", secrets: cfg.secrets });
  return {
    db: t.db,
    config: cfg,
    log,
    now: new Date(now),
    runId: randomUUID(),
    slack: {
      api: createWebApiSlack({ token: TOKEN, apiUrl: slack.url, log, retryDelayMs: 5 }),
      channel: CHANNEL,
    },
    close: async () => undefined,
  };
}

async function run(now: string, cfg?: Config) {
  return runJob(ingestAirflowJob, runtimeAt(now, cfg));
}

async function resetDatabase() {
  await t.db.exec(`
    TRUNCATE reporting.notification_signal, reporting.notification_signal_group, reporting.notification_ingest_cursor,
             reporting.notification_signal_inbox, reporting.notification_job_run CASCADE;
    TRUNCATE reporting.notification_agency_owner, reporting.notification_job_owner_override,
             reporting.notification_user_slack_map;
    INSERT INTO reporting.notification_agency_owner VALUES
      ('a-acme', 'acme', 'alice', NULL, NULL), ('a-globex', 'globex', 'bob', NULL, NULL);
    INSERT INTO reporting.notification_user_slack_map VALUES ('alice', 'UALICE'), ('bob', 'UBOB');
  `);
}

interface GroupView {
  signal_type: string;
  job_name: string;
  status: string;
  count_total: number;
  agency_id: string | null;
  error_class: string | null;
  current_severity: string;
  closed_reason: string | null;
}

async function groups(): Promise<GroupView[]> {
  return t.db.query<GroupView>(`
    SELECT g.signal_type, g.job_name, g.status, g.count_total, g.agency_id, s.error_class, g.current_severity,
      (SELECT a.metadata_json->>'reason' FROM reporting.notification_signal_group_activity a
       WHERE a.signal_group_id = g.id AND a.action = 'closed' ORDER BY a.created_at DESC LIMIT 1) AS closed_reason
    FROM reporting.notification_signal_group g
    JOIN reporting.notification_signal s ON s.id = g.last_signal_id
    ORDER BY g.signal_type, g.job_name, s.error_class NULLS FIRST`);
}

const V1_LOG = (exc: string) => `[${DAY}, 09:59:58 UTC] {taskinstance.py:441} INFO - Running task
[${DAY}, 09:59:59 UTC] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/opt/airflow/dags/orders.py", line 42, in extract
    raise ValueError("bad row 17")
${exc}
[${DAY}, 10:00:00 UTC] {taskinstance.py:1206} INFO - Marking task as FAILED.`;

function structuredLog(excType: string, excValue: string): Record<string, unknown>[] {
  return [
    { timestamp: at("09:59"), level: "info", event: "Task started" },
    {
      timestamp: at("10:00"),
      level: "error",
      event: "Task failed with exception",
      error_detail: [
        {
          exc_type: excType,
          exc_value: excValue,
          is_cause: false,
          syntax_error: null,
          exc_notes: [],
          frames: [{ filename: "/opt/airflow/dags/orders.py", lineno: 42, name: "extract" }],
        },
      ],
    },
  ];
}

/** A realistic morning: failures, retries, mapped tasks, a timeout, an import error, an old success. */
function seedMorning(version: "v1" | "v2") {
  airflow.addDag({ dag_id: "orders_daily", tags: ["agency:acme", "team:data"] });
  airflow.addDag({ dag_id: "billing_hourly" });
  airflow.addDag({ dag_id: "inventory_sync", dagrun_timeout_seconds: 3600 });

  const log = (
    dag: string,
    run: string,
    task: string,
    tryNumber: number,
    exc: [string, string],
    mapIndex?: number,
  ) =>
    airflow.setLog(
      {
        dag_id: dag,
        dag_run_id: run,
        task_id: task,
        try_number: tryNumber,
        ...(mapIndex !== undefined ? { map_index: mapIndex } : {}),
      },
      version === "v1"
        ? { text: V1_LOG(`${exc[0]}: ${exc[1]}`) }
        : { structured: structuredLog(exc[0], exc[1]) },
    );

  // orders_daily: extract fails after its retries; transform and load are blocked; a mapped task fails 3x.
  airflow.addDagRun({
    dag_id: "orders_daily",
    dag_run_id: "scheduled__2024-05-01T09:00:00+00:00",
    state: "failed",
    start_date: at("09:00"),
    end_date: at("10:00"),
  });
  airflow.addTaskInstance({
    dag_id: "orders_daily",
    dag_run_id: "scheduled__2024-05-01T09:00:00+00:00",
    task_id: "extract",
    try_number: 3,
    max_tries: 2,
    state: "failed",
    start_date: at("09:55"),
    end_date: at("09:59"),
    operator: "PythonOperator",
  });
  log("orders_daily", "scheduled__2024-05-01T09:00:00+00:00", "extract", 3, ["ValueError", "bad row 17"]);
  for (const task of ["transform", "load"]) {
    airflow.addTaskInstance({
      dag_id: "orders_daily",
      dag_run_id: "scheduled__2024-05-01T09:00:00+00:00",
      task_id: task,
      try_number: 0,
      state: "upstream_failed",
      end_date: at("10:00"),
      operator: "PythonOperator",
    });
  }
  for (const i of [0, 1, 2]) {
    airflow.addTaskInstance({
      dag_id: "orders_daily",
      dag_run_id: "scheduled__2024-05-01T09:00:00+00:00",
      task_id: "fanout",
      map_index: i,
      try_number: 1,
      state: "failed",
      start_date: at("09:50"),
      end_date: at(`09:5${i}`),
      operator: "PythonOperator",
    });
    log(
      "orders_daily",
      "scheduled__2024-05-01T09:00:00+00:00",
      "fanout",
      1,
      ["KeyError", "'customer_id'"],
      i,
    );
  }
  // billing_hourly: one attempt waits for a retry (never a signal); another run's task is out of retries and
  // its log is gone (404): still a signal, without error text.
  airflow.addDagRun({
    dag_id: "billing_hourly",
    dag_run_id: "manual__b1",
    state: "running",
    start_date: at("09:30"),
    end_date: null,
  });
  airflow.addTaskInstance({
    dag_id: "billing_hourly",
    dag_run_id: "manual__b1",
    task_id: "charge",
    try_number: 1,
    max_tries: 2,
    state: "up_for_retry",
    start_date: at("09:30"),
    end_date: at("09:31"),
    operator: "HttpOperator",
  });
  airflow.addDagRun({
    dag_id: "billing_hourly",
    dag_run_id: "manual__b0",
    state: "failed",
    start_date: at("08:30"),
    end_date: at("09:10"),
  });
  airflow.addTaskInstance({
    dag_id: "billing_hourly",
    dag_run_id: "manual__b0",
    task_id: "charge",
    try_number: 3,
    max_tries: 2,
    state: "failed",
    start_date: at("09:05"),
    end_date: at("09:09"),
    operator: "HttpOperator",
  });
  airflow.setLog(
    { dag_id: "billing_hourly", dag_run_id: "manual__b0", task_id: "charge", try_number: 3 },
    "missing",
  );
  // inventory_sync: an old success, then a run that timed out with no failed task.
  airflow.addDagRun({
    dag_id: "inventory_sync",
    dag_run_id: "scheduled__i0",
    state: "success",
    start_date: at("06:00"),
    end_date: at("07:00"),
  });
  airflow.addDagRun({
    dag_id: "inventory_sync",
    dag_run_id: "scheduled__i1",
    state: "failed",
    start_date: at("08:00"),
    end_date: at("09:00"),
  });
  airflow.setImportErrors([
    {
      filename: "/opt/airflow/dags/broken_dag.py",
      stack_trace:
        "Traceback (most recent call last):\n  File \"/opt/airflow/dags/broken_dag.py\", line 3, in <module>\n    import foo\nModuleNotFoundError: No module named 'foo'\n",
      timestamp: at("09:45"),
    },
  ]);
}

describe.each(["v1", "v2"] as const)("ingest_airflow on API %s", (version) => {
  beforeEach(async () => {
    await resetDatabase();
    slack = await startFakeSlack({ tokens: [TOKEN] });
    airflow = await startFakeAirflow({ version, maxLimit: 100 });
  });

  it("a realistic day: the expected signals, groups, closures and Slack calls; a re-run changes nothing", async () => {
    seedMorning(version);
    const first = await run(at("10:05"));
    expect(first.status).toBe("succeeded");
    expect(first.summary).toMatchObject({
      instance: "prod",
      api_version: version,
      task_failures: 5,
      dag_run_failures: 1,
      import_errors: 1,
      signals: { inserted: 7, opened: 5 },
      slack: { posted: 5, dms: 3 },
    });
    expect(await groups()).toEqual([
      {
        signal_type: "dag_import_error",
        job_name: "/opt/airflow/dags/broken_dag.py",
        status: "open",
        count_total: 1,
        agency_id: null,
        error_class: "ModuleNotFoundError",
        current_severity: "critical",
        closed_reason: null,
      },
      {
        signal_type: "dag_run_failed",
        job_name: "inventory_sync",
        status: "open",
        count_total: 1,
        agency_id: null,
        error_class: "DagRunTimeout",
        current_severity: "error",
        closed_reason: null,
      },
      {
        signal_type: "task_failed",
        job_name: "billing_hourly",
        status: "open",
        count_total: 1,
        agency_id: "a-globex",
        error_class: null,
        current_severity: "error",
        closed_reason: null,
      },
      {
        signal_type: "task_failed",
        job_name: "orders_daily",
        status: "open",
        count_total: 3,
        agency_id: "a-acme",
        error_class: "KeyError",
        current_severity: "error",
        closed_reason: null,
      },
      {
        signal_type: "task_failed",
        job_name: "orders_daily",
        status: "open",
        count_total: 1,
        agency_id: "a-acme",
        error_class: "ValueError",
        current_severity: "error",
        closed_reason: null,
      },
    ]);
    const extract = await t.db.query<{
      details_json: Record<string, unknown>;
      stage: string;
      error_message: string;
    }>(
      "SELECT details_json, stage, error_message FROM reporting.notification_signal WHERE task_id = 'extract'",
    );
    expect(extract[0]).toMatchObject({
      stage: "PythonOperator",
      error_message: "bad row 17",
      details_json: { instance: "prod", try_number: 3, blocked_tasks: ["load", "transform"] },
    });
    expect(slack.rootMessages(CHANNEL)).toHaveLength(5);
    expect(slack.dmsTo("UALICE")).toHaveLength(2);
    expect(slack.dmsTo("UBOB")).toHaveLength(1);
    expect(await readCursor(t.db, "airflow:prod")).toBe(at("10:00"));

    // The same data again: nothing changes, not even in Slack.
    slack.resetCalls();
    const again = await run(at("10:06"));
    expect(again.summary).toMatchObject({
      signals: { inserted: 0 },
      recovered: 0,
      slack: { posted: 0, updated: 0 },
    });
    expect(slack.calls).toHaveLength(0);
    expect((await groups()).map((g) => g.count_total)).toEqual([1, 1, 1, 3, 1]);

    // Noon: orders_daily succeeds, billing's task succeeds in a later run, the import error is fixed.
    airflow.addDagRun({
      dag_id: "orders_daily",
      dag_run_id: "scheduled__2024-05-01T11:00:00+00:00",
      state: "success",
      start_date: at("11:00"),
      end_date: at("11:30"),
    });
    airflow.addDagRun({
      dag_id: "billing_hourly",
      dag_run_id: "manual__b2",
      state: "running",
      start_date: at("11:40"),
      end_date: null,
    });
    airflow.addTaskInstance({
      dag_id: "billing_hourly",
      dag_run_id: "manual__b2",
      task_id: "charge",
      try_number: 1,
      state: "success",
      start_date: at("11:40"),
      end_date: at("11:45"),
      operator: "HttpOperator",
    });
    airflow.setImportErrors([]);
    slack.resetCalls();
    const noon = await run(at("12:00"));
    expect(noon.summary).toMatchObject({
      recovered: 3,
      import_errors_resolved: 1,
      slack: { updated: 4, thread_replies: 4 },
    });
    const after = await groups();
    expect(after.map((g) => [g.job_name, g.status, g.closed_reason])).toEqual([
      ["/opt/airflow/dags/broken_dag.py", "closed", "import error resolved"],
      // The success at 07:00 predates the timeout at 09:00: it proves nothing.
      ["inventory_sync", "open", null],
      ["billing_hourly", "closed", "recovered"],
      ["orders_daily", "closed", "recovered"],
      ["orders_daily", "closed", "recovered"],
    ]);
    const closed = await t.db.query<{ actor_type: string; metadata_json: Record<string, unknown> }>(
      `SELECT actor_type, metadata_json FROM reporting.notification_signal_group_activity
       WHERE action = 'closed' AND metadata_json->>'reason' = 'recovered' ORDER BY metadata_json->>'run_id'`,
    );
    expect(closed.map((c) => [c.actor_type, c.metadata_json.run_id])).toEqual([
      ["system", "manual__b2"],
      ["system", "scheduled__2024-05-01T11:00:00+00:00"],
      ["system", "scheduled__2024-05-01T11:00:00+00:00"],
    ]);
    // The newest end_date listed across all DAGs: v1 lists successful task instances too (for SLA misses), so
    // billing's 11:45 task; v2 lists failed task instances and DAG runs, so orders_daily's 11:30 run.
    expect(await readCursor(t.db, "airflow:prod")).toBe(at(version === "v1" ? "11:45" : "11:30"));
  });

  it("a failure after the recovery keeps the group open (a success older than the last failure changes nothing)", async () => {
    airflow.addDag({ dag_id: "orders_daily", tags: ["agency:acme"] });
    airflow.addDagRun({
      dag_id: "orders_daily",
      dag_run_id: "r1",
      state: "success",
      start_date: at("08:00"),
      end_date: at("08:30"),
    });
    airflow.addDagRun({
      dag_id: "orders_daily",
      dag_run_id: "r2",
      state: "failed",
      start_date: at("09:00"),
      end_date: at("09:30"),
    });
    airflow.addTaskInstance({
      dag_id: "orders_daily",
      dag_run_id: "r2",
      task_id: "extract",
      try_number: 1,
      state: "failed",
      end_date: at("09:29"),
      operator: "PythonOperator",
    });
    const r = await run(at("10:00"));
    expect(r.summary).toMatchObject({ recovered: 0, signals: { opened: 1 } });
    expect((await groups())[0]?.status).toBe("open");
  });

  it("a success inside the failing run itself proves nothing (a mapped sibling, a run that ends success anyway)", async () => {
    airflow.addDag({ dag_id: "fan" });
    airflow.addDagRun({
      dag_id: "fan",
      dag_run_id: "r1",
      state: "success",
      start_date: at("09:00"),
      end_date: at("09:30"),
      logical_date: at("09:00"),
    });
    airflow.addTaskInstance({
      dag_id: "fan",
      dag_run_id: "r1",
      task_id: "work",
      map_index: 0,
      try_number: 1,
      state: "failed",
      start_date: at("09:05"),
      end_date: at("09:10"),
      operator: "PythonOperator",
    });
    airflow.addTaskInstance({
      dag_id: "fan",
      dag_run_id: "r1",
      task_id: "work",
      map_index: 1,
      try_number: 1,
      state: "success",
      start_date: at("09:05"),
      end_date: at("09:20"),
      operator: "PythonOperator",
    });
    const r = await run(at("10:00"));
    expect(r.summary).toMatchObject({ signals: { opened: 1 }, recovered: 0 });
    expect((await groups())[0]?.status).toBe("open");
    // A later run in which the same map index succeeds does recover it.
    airflow.addDagRun({
      dag_id: "fan",
      dag_run_id: "r2",
      state: "running",
      start_date: at("10:00"),
      end_date: null,
      logical_date: at("10:00"),
    });
    airflow.addTaskInstance({
      dag_id: "fan",
      dag_run_id: "r2",
      task_id: "work",
      map_index: 0,
      try_number: 1,
      state: "success",
      start_date: at("10:05"),
      end_date: at("10:10"),
      operator: "PythonOperator",
    });
    const later = await run(at("10:30"));
    expect(later.summary).toMatchObject({ recovered: 1 });
  });

  it("an import error that comes back after a fix alerts again", async () => {
    const broken = (time: string) => [
      {
        filename: "/dags/a.py",
        stack_trace: "ModuleNotFoundError: No module named 'foo'\n",
        timestamp: at(time),
      },
    ];
    airflow.setImportErrors(broken("08:59"));
    await run(at("09:00"));
    airflow.setImportErrors([]);
    expect((await run(at("09:05"))).summary).toMatchObject({ import_errors_resolved: 1 });
    airflow.setImportErrors(broken("09:08"));
    const again = await run(at("09:10"));
    expect(again.summary).toMatchObject({ signals: { inserted: 1, reopened: 1 } });
    expect((await groups())[0]).toMatchObject({ status: "open", count_total: 2 });
  });

  it("a log that cannot be read does not block the run: the failure is kept without error text", async () => {
    airflow.addDag({ dag_id: "etl" });
    for (const task of ["a", "b"]) {
      airflow.addTaskInstance({
        dag_id: "etl",
        dag_run_id: "r1",
        task_id: task,
        try_number: 1,
        state: "failed",
        end_date: at("09:00"),
        operator: "BashOperator",
      });
    }
    airflow.failNext(/taskInstances\/b\/logs/, { status: 500 }, 10);
    const r = await run(at("10:00"), config({ AIRFLOW_TIMEOUT_SECONDS: "5" }));
    expect(r.status).toBe("succeeded");
    expect(r.summary).toMatchObject({ task_failures: 2, logs_failed: 1, signals: { inserted: 2 } });
  });

  it("a cleared DAG run that fails again is a new failure", async () => {
    airflow.addDag({ dag_id: "slow", dagrun_timeout_seconds: 600 });
    airflow.addDagRun({
      dag_id: "slow",
      dag_run_id: "r1",
      state: "failed",
      start_date: at("08:00"),
      end_date: at("08:10"),
    });
    await run(at("08:30"));
    airflow.addDagRun({
      dag_id: "slow",
      dag_run_id: "r1",
      state: "failed",
      start_date: at("08:40"),
      end_date: at("08:50"),
    });
    const r = await run(at("09:00"));
    expect(r.summary).toMatchObject({ dag_run_failures: 1, signals: { inserted: 1 } });
    expect((await groups())[0]?.count_total).toBe(2);
  });

  it("pushed rows get the same agency as pulled ones", async () => {
    airflow.addDag({ dag_id: "orders_daily", tags: ["agency:acme"] });
    const payload = {
      source: "airflow",
      signal_type: "task_failed",
      severity: "error",
      occurred_at: at("09:00"),
      job_name: "orders_daily",
      run_id: "r1",
      task_id: "a",
      stage: "PythonOperator",
      details: { instance: "prod" },
      dedup_key: "prod|orders_daily|r1|a|-1|1",
    };
    await t.db.query(
      "INSERT INTO reporting.notification_signal_inbox (source, payload) VALUES ('airflow', $1::jsonb)",
      [JSON.stringify(payload)],
    );
    await run(at("10:00"));
    expect((await groups())[0]?.agency_id).toBe("a-acme");
  });

  it("recovery can be switched off", async () => {
    airflow.addDag({ dag_id: "orders_daily" });
    airflow.addDagRun({
      dag_id: "orders_daily",
      dag_run_id: "r1",
      state: "failed",
      start_date: at("08:00"),
      end_date: at("08:30"),
    });
    airflow.addTaskInstance({
      dag_id: "orders_daily",
      dag_run_id: "r1",
      task_id: "extract",
      try_number: 1,
      state: "failed",
      end_date: at("08:29"),
      operator: "PythonOperator",
    });
    await run(at("09:00"), config({ AIRFLOW_RECOVERY: "false" }));
    airflow.addDagRun({
      dag_id: "orders_daily",
      dag_run_id: "r2",
      state: "success",
      start_date: at("09:00"),
      end_date: at("09:30"),
    });
    const r = await run(at("10:00"), config({ AIRFLOW_RECOVERY: "false" }));
    expect(r.summary).toMatchObject({ recovered: 0 });
    expect((await groups())[0]?.status).toBe("open");
  });

  it.each([
    ["spread over ten minutes", (i: number) => new Date(Date.parse(at("09:00")) + i * 2400).toISOString()],
    ["all in the same second", () => at("09:30")],
  ])(
    "a window with 250 failures on a server capping pages at 100 loses none (%s)",
    async (_name, endDate) => {
      airflow.addDag({ dag_id: "bulk" });
      for (let i = 0; i < 250; i++) {
        airflow.addDagRun({
          dag_id: "bulk",
          dag_run_id: `run_${i}`,
          state: "failed",
          start_date: at("08:00"),
          end_date: endDate(i),
        });
        airflow.addTaskInstance({
          dag_id: "bulk",
          dag_run_id: `run_${i}`,
          task_id: "work",
          try_number: 1,
          state: "failed",
          end_date: endDate(i),
          operator: "BashOperator",
        });
        airflow.setLog({ dag_id: "bulk", dag_run_id: `run_${i}`, task_id: "work", try_number: 1 }, "missing");
      }
      const r = await run(at("10:00"), config({ AIRFLOW_PAGE_LIMIT: "500" }));
      expect(r.summary).toMatchObject({ task_failures: 250, signals: { inserted: 250 } });
      const rows = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM reporting.notification_signal WHERE task_id = 'work'",
      );
      expect(rows[0]?.n).toBe(250);
      if (version === "v1") {
        // v1 cannot order task instances: it never asked to.
        expect(airflow.callsTo("/taskInstances").every((c) => !c.query.has("order_by"))).toBe(true);
      }
    },
  );

  it.skipIf(version === "v2")(
    "an SLA miss on a task instance becomes a warning signal that recovery leaves alone",
    async () => {
      airflow.addDag({ dag_id: "reports" });
      airflow.addDagRun({
        dag_id: "reports",
        dag_run_id: "r1",
        state: "success",
        start_date: at("06:00"),
        end_date: at("09:00"),
      });
      airflow.addTaskInstance({
        dag_id: "reports",
        dag_run_id: "r1",
        task_id: "publish",
        try_number: 1,
        state: "success",
        end_date: at("08:59"),
        operator: "PythonOperator",
        sla_miss: { description: "publish missed its 08:00 SLA", timestamp: at("08:00") },
      });
      const r = await run(at("10:00"));
      expect(r.summary).toMatchObject({ sla_misses: 1, signals: { opened: 1 }, recovered: 0 });
      const [g] = await groups();
      expect(g).toMatchObject({
        signal_type: "sla_miss",
        current_severity: "warning",
        status: "open",
        error_class: "SlaMiss",
      });
    },
  );

  it("a module-qualified exception class (Airflow 2 text logs) is stored bare, as Airflow 3 names it", async () => {
    airflow.addDag({ dag_id: "etl" });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "r1",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: at("09:00"),
      operator: "BashOperator",
    });
    airflow.setLog(
      { dag_id: "etl", dag_run_id: "r1", task_id: "a", try_number: 1 },
      version === "v1"
        ? {
            text: V1_LOG(
              "airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.",
            ),
          }
        : {
            structured: structuredLog(
              "AirflowException",
              "Bash command failed. The command returned a non-zero exit code 1.",
            ),
          },
    );
    await run(at("10:00"));
    expect((await groups())[0]?.error_class).toBe("AirflowException");
  });

  it("the cursor re-reads an overlap, so a late row is not missed, and duplicates are absorbed", async () => {
    airflow.addDag({ dag_id: "etl" });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "r1",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: at("09:00"),
      operator: "BashOperator",
    });
    await run(at("09:05"));
    expect(await readCursor(t.db, "airflow:prod")).toBe(at("09:00"));
    // A row that finished before the cursor but showed up late (within the 15 minute overlap).
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "r2",
      task_id: "b",
      try_number: 1,
      state: "failed",
      end_date: at("08:50"),
      operator: "BashOperator",
    });
    const r = await run(at("09:10"));
    expect(r.summary).toMatchObject({ task_failures: 2, signals: { inserted: 1, duplicates: 1 } });
  });

  it("--since backfills an older range without moving the cursor back", async () => {
    airflow.addDag({ dag_id: "etl" });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "old",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: "2024-04-20T09:00:00.000Z",
      operator: "BashOperator",
    });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "new",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: at("09:00"),
      operator: "BashOperator",
    });
    await run(at("10:00"));
    expect(await readCursor(t.db, "airflow:prod")).toBe(at("09:00"));
    const rt = runtimeAt(at("10:05"));
    const r = await runJob(ingestAirflowJob, {
      ...rt,
      jobOptions: { since: new Date("2024-04-15T00:00:00Z") },
    });
    expect(r.summary).toMatchObject({ task_failures: 2, signals: { inserted: 1 } });
    expect(await readCursor(t.db, "airflow:prod")).toBe(at("09:00"));
  });

  it("two deployments are separate instances: own dedup keys, cursors and run records", async () => {
    const other = await startFakeAirflow({ version, maxLimit: 100 });
    try {
      for (const f of [airflow, other]) {
        f.addDag({ dag_id: "etl" });
        f.addTaskInstance({
          dag_id: "etl",
          dag_run_id: "r1",
          task_id: "a",
          try_number: 1,
          state: "failed",
          end_date: at("09:00"),
          operator: "BashOperator",
        });
      }
      await run(at("10:00"));
      await run(at("10:00"), config({ AIRFLOW_BASE_URL: other.url, AIRFLOW_INSTANCE: "staging" }));
      const signals = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM reporting.notification_signal",
      );
      expect(signals[0]?.n).toBe(2);
      expect(await readCursor(t.db, "airflow:prod")).toBe(at("09:00"));
      expect(await readCursor(t.db, "airflow:staging")).toBe(at("09:00"));
      const runs = await t.db.query<{ job_id: string }>(
        "SELECT DISTINCT job_id FROM reporting.notification_job_run ORDER BY job_id",
      );
      expect(runs.map((r) => r.job_id)).toEqual(["ingest_airflow:prod", "ingest_airflow:staging"]);
    } finally {
      await other.close();
    }
  });

  it("a group fed by two deployments is not closed by one deployment's recovery", async () => {
    const other = await startFakeAirflow({ version, maxLimit: 100 });
    try {
      const error = [
        { filename: "/dags/shared.py", stack_trace: "ModuleNotFoundError: No module named 'x'\n" },
      ];
      airflow.setImportErrors(error);
      other.setImportErrors(error);
      await run(at("09:00"));
      await run(at("09:00"), config({ AIRFLOW_BASE_URL: other.url, AIRFLOW_INSTANCE: "staging" }));
      expect((await groups())[0]).toMatchObject({ count_total: 2, status: "open" });
      other.setImportErrors([]);
      const r = await run(at("09:05"), config({ AIRFLOW_BASE_URL: other.url, AIRFLOW_INSTANCE: "staging" }));
      expect(r.summary).toMatchObject({ import_errors_resolved: 0 });
      expect((await groups())[0]?.status).toBe("open");
    } finally {
      await other.close();
    }
  });

  it("drains rows Airflow callbacks pushed into the inbox, deduplicated against the pull", async () => {
    airflow.addDag({ dag_id: "etl" });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "r1",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: at("09:00"),
      operator: "BashOperator",
    });
    // What examples/airflow_failure_callback.py inserts for the same failure.
    const payload = {
      source: "airflow",
      signal_type: "task_failed",
      severity: "error",
      occurred_at: at("09:00"),
      job_name: "etl",
      run_id: "r1",
      task_id: "a",
      stage: "BashOperator",
      error_class: "AirflowException",
      error_message: "Bash command failed",
      details: {
        instance: "prod",
        dag_id: "etl",
        dag_run_id: "r1",
        task_id: "a",
        map_index: -1,
        try_number: 1,
      },
      dedup_key: "prod|etl|r1|a|-1|1",
    };
    await t.db.query(
      "INSERT INTO reporting.notification_signal_inbox (source, payload) VALUES ('airflow', $1::jsonb)",
      [JSON.stringify(payload)],
    );
    const r = await run(at("10:00"));
    expect(r.summary).toMatchObject({ inbox: { received: 1, rejected: 0 } });
    const rows = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_signal",
    );
    expect(rows[0]?.n).toBe(1);
  });
});

describe.each(["v1", "v2"] as const)("ingest_airflow failures on API %s", (version) => {
  beforeEach(async () => {
    await resetDatabase();
    slack = await startFakeSlack({ tokens: [TOKEN] });
    airflow = await startFakeAirflow({ version, maxLimit: 100 });
    airflow.addDag({ dag_id: "etl" });
    for (let i = 0; i < 150; i++) {
      airflow.addTaskInstance({
        dag_id: "etl",
        dag_run_id: `r${i}`,
        task_id: "a",
        try_number: 1,
        state: "failed",
        end_date: at("09:00"),
        operator: "BashOperator",
      });
    }
  });

  async function expectNothingWritten() {
    const rows = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reporting.notification_signal",
    );
    expect(rows[0]?.n).toBe(0);
    expect(await readCursor(t.db, "airflow:prod")).toBeNull();
  }

  it("wrong password: one clear error naming the fix, nothing written", async () => {
    const error = await run(at("10:00"), config({ AIRFLOW_PASSWORD: "wrong-secret" })).catch(
      (e: unknown) => e,
    );
    expect(String((error as Error).message)).toMatch(
      /rejected the credentials.*AIRFLOW_USERNAME and AIRFLOW_PASSWORD/,
    );
    expect(String((error as Error).message)).not.toContain("wrong-secret");
    await expectNothingWritten();
  });

  it("a 500 in the middle of paging: the run fails, the cursor does not move, nothing is half-written", async () => {
    airflow.failAfter("/taskInstances", 1, { status: 500 }, 20);
    const error = await run(at("10:00"), config({ AIRFLOW_PAGE_LIMIT: "100" })).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("airflow_unreachable");
    expect((error as Error).message).toContain("HTTP 500");
    await expectNothingWritten();
  });

  it("malformed JSON: a clear error, nothing written", async () => {
    airflow.failNext("/taskInstances", { malformedJson: true }, 5);
    const error = await run(at("10:00")).catch((e: unknown) => e);
    expect((error as Error).message).toContain("malformed JSON");
    await expectNothingWritten();
  });

  it("a rejected static token is an authentication error", async () => {
    const error = await run(
      at("10:00"),
      config({ AIRFLOW_USERNAME: "", AIRFLOW_PASSWORD: "", AIRFLOW_TOKEN: "stale-token-123" }),
    ).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("airflow_auth");
    expect((error as Error).message).toContain("AIRFLOW_TOKEN");
    expect((error as Error).message).not.toContain("stale-token-123");
    await expectNothingWritten();
  });

  it.skipIf(version === "v1")("an expired JWT is renewed once, transparently", async () => {
    const http = createAirflowHttp({
      baseUrl: airflow.url,
      auth: { kind: "jwt", username: "admin", password: "admin" },
    });
    await http.getJson("/api/v2/importErrors");
    airflow.expireTokens();
    await http.getJson("/api/v2/importErrors");
    expect(airflow.callsTo("/auth/token")).toHaveLength(2);
    expect(airflow.callsTo("/api/v2/importErrors").map((c) => c.status)).toEqual([200, 401, 200]);
  });
});

describe("ingest_airflow through the CLI", () => {
  beforeEach(async () => {
    await resetDatabase();
    airflow = await startFakeAirflow({ version: "v2" });
    slack = await startFakeSlack({ tokens: [TOKEN] });
  });

  it("Airflow down: exit 1 and one line naming the URL without credentials", async () => {
    const url = airflow.url;
    await airflow.close();
    const dataDir = `/tmp/observability-airflow-cli-${randomUUID()}`;
    const r = await runCli(["run", "ingest_airflow", "--now", at("10:00")], {
      env: {
        OBSERVABILITY_DATA_DIR: dataDir,
        ...(testBackend() === "postgres" ? { DATABASE_URL: t.url ?? "" } : {}),
        AIRFLOW_BASE_URL: url.replace("http://", "http://admin:pw-in-url@"),
        AIRFLOW_USERNAME: "admin",
        AIRFLOW_PASSWORD: "s3cret-pass",
        AIRFLOW_API_VERSION: "v2",
      },
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("observability:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Airflow at ${url} is unreachable`);
    expect(r.stderr).not.toContain("s3cret-pass");
    expect(r.stderr).not.toContain("pw-in-url");
    airflow = await startFakeAirflow({ version: "v2" }); // for afterEach
  });

  it("shows progress on a terminal, and only the JSON summary on stdout", async () => {
    airflow.addDag({ dag_id: "etl" });
    airflow.addTaskInstance({
      dag_id: "etl",
      dag_run_id: "r1",
      task_id: "a",
      try_number: 1,
      state: "failed",
      end_date: at("09:00"),
      operator: "BashOperator",
    });
    let stdout = "";
    let stderr = "";
    const code = await main(["run", "ingest_airflow", "--now", at("10:00"), "--since", at("00:00")], {
      env: {
        OBSERVABILITY_DATA_DIR: `/tmp/obs-${randomUUID()}`,
        ...(testBackend() === "postgres" ? { DATABASE_URL: t.url ?? "" } : {}),
        AIRFLOW_BASE_URL: airflow.url,
        AIRFLOW_USERNAME: "admin",
        AIRFLOW_PASSWORD: "admin",
        LOG_LEVEL: "silent",
      },
      stdin: Readable.from([""]),
      stdout: { write: (c: string) => (stdout += c), isTTY: true },
      stderr: { write: (c: string) => (stderr += c) },
    });
    expect(code).toBe(0);
    expect(stderr).toContain("task_instances: 1/1");
    expect(JSON.parse(stdout)).toMatchObject({
      job: "ingest_airflow",
      status: "succeeded",
      summary: { task_failures: 1 },
    });
  });

  it("missing AIRFLOW_BASE_URL is a configuration error (exit 2)", async () => {
    const r = await runCli(["run", "ingest_airflow"], {
      env: { OBSERVABILITY_DATA_DIR: `/tmp/obs-${randomUUID()}` },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("AIRFLOW_BASE_URL is not set");
  });

  it("--since is validated", async () => {
    const bad = await runCli(["run", "ingest_airflow", "--since", "yesterday"], { env: {} });
    expect(bad.code).toBe(2);
    const wrongJob = await runCli(["run", "slack_sync", "--since", at("00:00")], { env: {} });
    expect(wrongJob.code).toBe(2);
    expect(wrongJob.stderr).toContain("--since applies to ingest_airflow");
  });
});
