import { afterEach, describe, expect, it } from "vitest";
import { type FakeAirflow, type FakeAirflowOptions, startFakeAirflow } from "../src/fakes/airflow.js";

// No Airflow client exists yet, so the fake is driven with plain fetch, exactly as a client would see it.

const BASIC = `Basic ${Buffer.from("admin:admin").toString("base64")}`;
const RUN_0501 = "scheduled__2024-05-01T00:00:00+00:00";
const RUN_0502 = "scheduled__2024-05-02T00:00:00+00:00";
const RUN_MANUAL = "manual__2024-05-02T12:00:00+00:00";

type Json = Record<string, unknown>;
interface ListBody {
  total_entries: number;
  [key: string]: unknown;
}

let fake: FakeAirflow | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeAirflowOptions): Promise<FakeAirflow> {
  fake = await startFakeAirflow(options);
  return fake;
}

async function get(
  airflow: FakeAirflow,
  path: string,
  headers: Record<string, string> = { authorization: BASIC },
): Promise<Response> {
  return fetch(`${airflow.url}${path}`, { headers });
}

async function getJson(
  airflow: FakeAirflow,
  path: string,
  headers?: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const response = await get(airflow, path, headers);
  return { status: response.status, body: (await response.json()) as Json };
}

async function login(airflow: FakeAirflow, password = "admin"): Promise<string> {
  const response = await fetch(`${airflow.url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function items(body: Json, key: string): Json[] {
  return body[key] as Json[];
}

function field(rows: Json[], name: string): unknown[] {
  return rows.map((row) => row[name]);
}

function seed(airflow: FakeAirflow): void {
  airflow.addDag({
    dag_id: "etl_daily",
    tags: ["team:data", "sla"],
    owners: ["alice"],
    dagrun_timeout_seconds: 7200,
  });
  airflow.addDag({ dag_id: "reports" });
  airflow.addDagRun({
    dag_id: "etl_daily",
    dag_run_id: RUN_0501,
    state: "failed",
    start_date: "2024-05-01T00:00:05Z",
    end_date: "2024-05-01T01:00:00Z",
  });
  airflow.addDagRun({
    dag_id: "etl_daily",
    dag_run_id: RUN_0502,
    state: "success",
    start_date: "2024-05-02T00:00:05Z",
    end_date: "2024-05-02T00:30:00Z",
  });
  airflow.addDagRun({
    dag_id: "etl_daily",
    dag_run_id: RUN_MANUAL,
    state: "running",
    start_date: "2024-05-02T12:00:01Z",
    end_date: null,
  });
  airflow.addDagRun({
    dag_id: "reports",
    dag_run_id: "manual_run_1",
    state: "failed",
    start_date: "2024-05-03T08:00:00Z",
    end_date: "2024-05-03T08:10:00Z",
  });
  airflow.addDagRun({
    dag_id: "reports",
    dag_run_id: "scheduled__2024-05-04T00:00:00+00:00",
    state: "success",
    start_date: "2024-05-04T00:00:03Z",
    end_date: "2024-05-04T00:05:00Z",
  });

  const ti = { dag_id: "etl_daily", dag_run_id: RUN_0501 };
  airflow.addTaskInstance({
    ...ti,
    task_id: "extract",
    try_number: 1,
    state: "success",
    start_date: "2024-05-01T00:00:10Z",
    end_date: "2024-05-01T00:10:00Z",
  });
  airflow.addTaskInstance({
    ...ti,
    task_id: "transform",
    try_number: 2,
    max_tries: 2,
    state: "failed",
    start_date: "2024-05-01T00:20:00Z",
    end_date: "2024-05-01T00:50:00.250000Z",
    operator: "PythonOperator",
    hostname: "worker-1",
    sla_miss: { description: "late", timestamp: "2024-05-01T00:45:00Z" },
  });
  airflow.addTaskInstance({
    ...ti,
    task_id: "load",
    try_number: 0,
    state: "upstream_failed",
    end_date: null,
  });
  for (const [mapIndex, state, end] of [
    [0, "success", "2024-05-01T00:30:00Z"],
    [1, "failed", "2024-05-01T00:40:00Z"],
    [2, "failed", "2024-05-01T00:45:00Z"],
  ] as const) {
    airflow.addTaskInstance({
      ...ti,
      task_id: "process",
      map_index: mapIndex,
      try_number: 1,
      state,
      start_date: "2024-05-01T00:11:00Z",
      end_date: end,
      operator: "_PythonDecoratedOperator",
      operator_name: "@task",
    });
  }
  airflow.addTaskInstance({
    dag_id: "reports",
    dag_run_id: "manual_run_1",
    task_id: "render",
    try_number: 1,
    state: "failed",
    start_date: "2024-05-03T08:01:00Z",
    end_date: "2024-05-03T08:10:00Z",
  });
}

describe("version and routing", () => {
  it("serves /version without credentials on both trees, with per-tree versions", async () => {
    const airflow = await start({ version: "both" });
    expect(await getJson(airflow, "/api/v1/version", {})).toEqual({
      status: 200,
      body: { version: "2.10.5", git_version: expect.any(String) },
    });
    expect((await getJson(airflow, "/api/v2/version", {})).body.version).toBe("3.1.0");
  });

  it("reports a configured version and answers unknown routes with each stack's 404", async () => {
    const airflow = await start({ version: "both", airflowVersion: "2.9.3" });
    expect((await getJson(airflow, "/api/v1/version", {})).body.version).toBe("2.9.3");

    const v1 = await get(airflow, "/api/v1/nope");
    expect(v1.status).toBe(404);
    expect(v1.headers.get("content-type")).toBe("application/problem+json");
    expect(await v1.json()).toMatchObject({ status: 404, title: "Not Found", type: "about:blank" });

    expect(await getJson(airflow, "/api/v2/nope")).toEqual({ status: 404, body: { detail: "Not Found" } });
  });

  it("has no v2 tree (nor /auth/token) on an Airflow 2 server", async () => {
    const airflow = await start({ version: "v1" });
    const response = await get(airflow, "/api/v2/version");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect((await fetch(`${airflow.url}/auth/token`, { method: "POST" })).status).toBe(404);
  });
});

describe("v1 auth", () => {
  it("accepts Basic credentials and refuses wrong ones with a problem+json 401", async () => {
    const airflow = await start({ version: "v1" });
    airflow.addDag({ dag_id: "d" });
    expect((await get(airflow, "/api/v1/dags/d")).status).toBe(200);

    const wrong = await get(airflow, "/api/v1/dags/d", {
      authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}`,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(await wrong.json()).toEqual({
      detail: null,
      status: 401,
      title: "Unauthorized",
      type: "https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/Unauthenticated",
    });
    expect((await get(airflow, "/api/v1/dags/d", {})).status).toBe(401);
    expect(airflow.calls.map((call) => [call.auth, call.status])).toEqual([
      ["basic", 200],
      ["basic", 401],
      ["none", 401],
    ]);
  });

  it("accepts static bearer tokens, refuses other bearers, and follows a password change", async () => {
    const airflow = await start({ version: "v1", staticTokens: ["static-token"] });
    airflow.addDag({ dag_id: "d" });
    expect((await get(airflow, "/api/v1/dags/d", bearer("static-token"))).status).toBe(200);
    expect((await get(airflow, "/api/v1/dags/d", bearer("other"))).status).toBe(401);

    airflow.changePassword("s3cret");
    expect((await get(airflow, "/api/v1/dags/d")).status).toBe(401);
    const fresh = `Basic ${Buffer.from("admin:s3cret").toString("base64")}`;
    expect((await get(airflow, "/api/v1/dags/d", { authorization: fresh })).status).toBe(200);
  });
});

describe("v2 auth", () => {
  it("issues a JWT from POST /auth/token (201) that authorises API calls", async () => {
    const airflow = await start({ version: "v2" });
    airflow.addDag({ dag_id: "d" });
    const token = await login(airflow);
    expect(token.split(".")).toHaveLength(3);
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Json;
    expect(payload).toMatchObject({ sub: "admin", aud: "apache-airflow" });
    expect((await get(airflow, "/api/v2/dags/d", bearer(token))).status).toBe(200);
  });

  it("answers login failures the way the simple auth manager does", async () => {
    const airflow = await start({ version: "v2" });
    const post = (contentType: string, body: string) =>
      fetch(`${airflow.url}/auth/token`, { method: "POST", headers: { "content-type": contentType }, body });

    const wrong = await post("application/json", JSON.stringify({ username: "admin", password: "x" }));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ detail: "Invalid credentials" });

    const empty = await post("application/json", JSON.stringify({ username: "admin", password: "" }));
    expect(empty.status).toBe(400);
    expect((await post("application/json", JSON.stringify({ username: "admin" }))).status).toBe(422);

    const form = await post("application/x-www-form-urlencoded", "username=admin&password=admin");
    expect(form.status).toBe(201);
  });

  it("refuses Basic (401 Not authenticated), garbage tokens (403) and expired tokens (401)", async () => {
    const airflow = await start({ version: "v2", staticTokens: ["static-token"] });
    airflow.addDag({ dag_id: "d" });

    const basic = await get(airflow, "/api/v2/dags/d");
    expect(basic.status).toBe(401);
    expect(basic.headers.get("www-authenticate")).toBe("Bearer");
    expect(await basic.json()).toEqual({ detail: "Not authenticated" });

    expect(await getJson(airflow, "/api/v2/dags/d", bearer("a.b.c"))).toEqual({
      status: 403,
      body: { detail: "Invalid JWT token" },
    });
    expect((await get(airflow, "/api/v2/dags/d", bearer("static-token"))).status).toBe(200);

    const token = await login(airflow);
    airflow.expireTokens();
    expect(await getJson(airflow, "/api/v2/dags/d", bearer(token))).toEqual({
      status: 401,
      body: { detail: "Token Expired" },
    });
    // A fresh login after expiry works again.
    expect((await get(airflow, "/api/v2/dags/d", bearer(await login(airflow)))).status).toBe(200);
  });

  it("expires tokens by their lifetime too", async () => {
    const airflow = await start({ version: "v2", tokenTtlSeconds: 0 });
    airflow.addDag({ dag_id: "d" });
    expect((await get(airflow, "/api/v2/dags/d", bearer(await login(airflow)))).status).toBe(401);
  });

  it("keeps JWTs and Basic on their own trees when serving both", async () => {
    const airflow = await start({ version: "both" });
    airflow.addDag({ dag_id: "d" });
    const token = await login(airflow);
    expect((await get(airflow, "/api/v1/dags/d", bearer(token))).status).toBe(401);
    expect((await get(airflow, "/api/v1/dags/d")).status).toBe(200);
    expect((await get(airflow, "/api/v2/dags/d", bearer(token))).status).toBe(200);
  });
});

describe("DAGs", () => {
  it("v1: tags as {name}, owners, and dag_run_timeout only on /details as a TimeDelta", async () => {
    const airflow = await start({ version: "v1" });
    seed(airflow);
    const dag = await getJson(airflow, "/api/v1/dags/etl_daily");
    expect(dag.body).toMatchObject({
      dag_id: "etl_daily",
      tags: [{ name: "team:data" }, { name: "sla" }],
      owners: ["alice"],
    });
    expect(dag.body).not.toHaveProperty("dag_run_timeout");

    const details = await getJson(airflow, "/api/v1/dags/etl_daily/details");
    expect(details.body.dag_run_timeout).toEqual({
      __type: "TimeDelta",
      days: 0,
      seconds: 7200,
      microseconds: 0,
    });
    expect((await getJson(airflow, "/api/v1/dags/reports/details")).body.dag_run_timeout).toBeNull();

    const fields = await getJson(airflow, "/api/v1/dags/etl_daily?fields=dag_id&fields=owners");
    expect(fields.body).toEqual({ dag_id: "etl_daily", owners: ["alice"] });
  });

  it("v2: tags carry dag_id, dag_run_timeout is an ISO 8601 duration on /details", async () => {
    const airflow = await start({ version: "v2", staticTokens: ["t"] });
    seed(airflow);
    airflow.addDag({ dag_id: "long", dagrun_timeout_seconds: 86_405 });
    const dag = await getJson(airflow, "/api/v2/dags/etl_daily", bearer("t"));
    expect(dag.body.tags).toEqual([
      { name: "team:data", dag_id: "etl_daily", dag_display_name: "etl_daily" },
      { name: "sla", dag_id: "etl_daily", dag_display_name: "etl_daily" },
    ]);
    expect(dag.body).not.toHaveProperty("dag_run_timeout");
    expect((await getJson(airflow, "/api/v2/dags/etl_daily/details", bearer("t"))).body.dag_run_timeout).toBe(
      "PT7200S",
    );
    expect((await getJson(airflow, "/api/v2/dags/long/details", bearer("t"))).body.dag_run_timeout).toBe(
      "P1DT5S",
    );
  });

  it("answers 404 for an unknown DAG in each tree's error shape", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    expect(await getJson(airflow, "/api/v1/dags/ghost")).toEqual({
      status: 404,
      body: {
        detail: "DAG with id: 'ghost' not found",
        status: 404,
        title: "DAG not found",
        type: "https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/NotFound",
      },
    });
    expect(await getJson(airflow, "/api/v2/dags/ghost", bearer("t"))).toEqual({
      status: 404,
      body: { detail: "Dag with id ghost was not found" },
    });
  });
});

describe("DAG runs", () => {
  it("lists across DAGs with ~, repeated state params and an end_date window", async () => {
    const airflow = await start({ version: "v1" });
    seed(airflow);
    const all = await getJson(airflow, "/api/v1/dags/~/dagRuns?state=failed&state=success");
    expect(all.body.total_entries).toBe(4);
    expect(field(items(all.body, "dag_runs"), "state")).toEqual(["failed", "success", "failed", "success"]);

    const window = new URLSearchParams({
      end_date_gte: "2024-05-02T00:00:00+00:00",
      end_date_lte: "2024-05-03T23:59:59+00:00",
    });
    const windowed = await getJson(airflow, `/api/v1/dags/~/dagRuns?${window}`);
    expect(field(items(windowed.body, "dag_runs"), "dag_run_id")).toEqual([RUN_0502, "manual_run_1"]);
  });

  it("orders by -end_date with NULL end dates first, as Postgres does", async () => {
    const airflow = await start({ version: "v1" });
    seed(airflow);
    const { body } = await getJson(airflow, "/api/v1/dags/etl_daily/dagRuns?order_by=-end_date");
    expect(field(items(body, "dag_runs"), "dag_run_id")).toEqual([RUN_MANUAL, RUN_0502, RUN_0501]);
    const bad = await getJson(airflow, "/api/v1/dags/etl_daily/dagRuns?order_by=bogus");
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toBe(
      "Ordering with 'bogus' is disallowed or the attribute does not exist on the model",
    );
  });

  it("caps limit silently at maxLimit and pages with offset; total_entries counts every match", async () => {
    const airflow = await start({ version: "v1", maxLimit: 2 });
    seed(airflow);
    const seen: unknown[] = [];
    for (let offset = 0; offset < 10; offset += 2) {
      const { body } = await getJson(airflow, `/api/v1/dags/~/dagRuns?limit=100&offset=${offset}`);
      expect(body.total_entries).toBe(5);
      const page = items(body, "dag_runs");
      expect(page.length).toBeLessThanOrEqual(2);
      if (page.length === 0) break;
      seen.push(...field(page, "dag_run_id"));
    }
    expect(new Set(seen).size).toBe(5);
  });

  it("decodes percent-encoded run ids and formats dates per tree", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    seed(airflow);
    const path = `/dags/etl_daily/dagRuns/${encodeURIComponent(RUN_0501)}`;
    const v1 = await getJson(airflow, `/api/v1${path}`);
    expect(v1.body).toMatchObject({
      dag_run_id: RUN_0501,
      execution_date: "2024-05-01T00:00:00+00:00",
      end_date: "2024-05-01T01:00:00+00:00",
      run_type: "scheduled",
    });
    const v2 = await getJson(airflow, `/api/v2${path}`, bearer("t"));
    expect(v2.body).toMatchObject({
      dag_run_id: RUN_0501,
      logical_date: "2024-05-01T00:00:00Z",
      run_after: "2024-05-01T00:00:00Z",
      duration: 3595,
    });
    // A run id that carries no date: v2 has no logical date, v1 falls back to the start.
    const manual = "/dags/reports/dagRuns/manual_run_1";
    expect((await getJson(airflow, `/api/v2${manual}`, bearer("t"))).body.logical_date).toBeNull();
    expect((await getJson(airflow, `/api/v1${manual}`)).body.execution_date).toBe(
      "2024-05-03T08:00:00+00:00",
    );
    expect(airflow.callsTo(RUN_0501)[0]?.rawPath).toContain("%2B00%3A00");
  });

  it("v2: _gt/_lt filters, repeated order_by, 404 for an unknown DAG (v1 answers an empty list)", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    seed(airflow);
    const query = new URLSearchParams([
      ["end_date_gt", "2024-05-01T01:00:00Z"],
      ["order_by", "dag_id"],
      ["order_by", "-end_date"],
    ]);
    const { body } = await getJson(airflow, `/api/v2/dags/~/dagRuns?${query}`, bearer("t"));
    expect(field(items(body, "dag_runs"), "dag_run_id")).toEqual([
      RUN_0502,
      "scheduled__2024-05-04T00:00:00+00:00",
      "manual_run_1",
    ]);
    expect(await getJson(airflow, "/api/v2/dags/ghost/dagRuns", bearer("t"))).toEqual({
      status: 404,
      body: { detail: "The DAG with dag_id: `ghost` was not found" },
    });
    expect((await getJson(airflow, "/api/v1/dags/ghost/dagRuns")).body).toEqual({
      dag_runs: [],
      total_entries: 0,
    });
  });
});

describe("task instances", () => {
  it("v1: rejects order_by with 400 (strict validation) and keeps insertion order", async () => {
    const airflow = await start({ version: "v1" });
    seed(airflow);
    const rejected = await getJson(airflow, "/api/v1/dags/~/dagRuns/~/taskInstances?order_by=-end_date");
    expect(rejected).toEqual({
      status: 400,
      body: {
        detail: "Extra query parameter(s) order_by not in spec",
        status: 400,
        title: "Bad Request",
        type: "about:blank",
      },
    });
    const { body } = await getJson(airflow, "/api/v1/dags/~/dagRuns/~/taskInstances");
    expect(field(items(body, "task_instances"), "task_id")).toEqual([
      "extract",
      "transform",
      "load",
      "process",
      "process",
      "process",
      "render",
    ]);
  });

  it("v1: filters by repeated state and end_date, pages under the cap, and carries sla_miss", async () => {
    const airflow = await start({ version: "v1", maxLimit: 2 });
    seed(airflow);
    const query = "state=failed&state=upstream_failed&end_date_gte=2024-05-01T00:00:00%2B00:00";
    const first = await getJson(airflow, `/api/v1/dags/~/dagRuns/~/taskInstances?${query}&limit=50`);
    expect(first.body.total_entries).toBe(4); // load has no end_date, so the window drops it
    const rows = items(first.body, "task_instances");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      task_id: "transform",
      dag_run_id: RUN_0501,
      execution_date: "2024-05-01T00:00:00+00:00",
      end_date: "2024-05-01T00:50:00.250000+00:00",
      duration: 1800.25,
      try_number: 2,
      max_tries: 2,
      map_index: -1,
      operator: "PythonOperator",
      hostname: "worker-1",
      sla_miss: {
        task_id: "transform",
        dag_id: "etl_daily",
        description: "late",
        timestamp: "2024-05-01T00:45:00+00:00",
      },
    });
    const second = await getJson(airflow, `/api/v1/dags/~/dagRuns/~/taskInstances?${query}&offset=2`);
    expect(field(items(second.body, "task_instances"), "map_index")).toEqual([2, -1]);
  });

  it("v2: order_by end_date / -end_date, default order map_index then id, v2 fields", async () => {
    const airflow = await start({ version: "v2", staticTokens: ["t"] });
    seed(airflow);
    const path = `/api/v2/dags/etl_daily/dagRuns/${encodeURIComponent(RUN_0501)}/taskInstances`;
    const byDefault = await getJson(airflow, path, bearer("t"));
    expect(field(items(byDefault.body, "task_instances"), "task_id")).toEqual([
      "extract",
      "transform",
      "load",
      "process",
      "process",
      "process",
    ]);
    const desc = await getJson(airflow, `${path}?order_by=-end_date&state=failed&state=success`, bearer("t"));
    expect(field(items(desc.body, "task_instances"), "end_date")).toEqual([
      "2024-05-01T00:50:00.250000Z",
      "2024-05-01T00:45:00Z",
      "2024-05-01T00:40:00Z",
      "2024-05-01T00:30:00Z",
      "2024-05-01T00:10:00Z",
    ]);
    const asc = await getJson(airflow, `${path}?order_by=end_date&task_id=process`, bearer("t"));
    const mapped = items(asc.body, "task_instances");
    expect(field(mapped, "map_index")).toEqual([0, 1, 2]);
    expect(mapped[1]).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      logical_date: "2024-05-01T00:00:00Z",
      run_after: "2024-05-01T00:00:00Z",
      operator: "_PythonDecoratedOperator",
      operator_name: "@task",
      task_display_name: "process",
    });
    expect(mapped[1]).not.toHaveProperty("sla_miss");
    expect((await getJson(airflow, `${path}?order_by=bogus`, bearer("t"))).status).toBe(400);
  });

  it("v2: 404 for an unknown DAG or run", async () => {
    const airflow = await start({ version: "v2", staticTokens: ["t"] });
    seed(airflow);
    expect((await getJson(airflow, "/api/v2/dags/ghost/dagRuns/~/taskInstances", bearer("t"))).body).toEqual({
      detail: "DAG with dag_id: `ghost` was not found",
    });
    expect((await getJson(airflow, "/api/v2/dags/~/dagRuns/nope/taskInstances", bearer("t"))).status).toBe(
      404,
    );
  });

  it("upserts by (dag, run, task, map_index), keeping the row's id", async () => {
    const airflow = await start({ version: "v2", staticTokens: ["t"] });
    seed(airflow);
    const path = "/api/v2/dags/etl_daily/dagRuns/~/taskInstances?task_id=transform";
    const before = items((await getJson(airflow, path, bearer("t"))).body, "task_instances");
    airflow.addTaskInstance({
      dag_id: "etl_daily",
      dag_run_id: RUN_0501,
      task_id: "transform",
      try_number: 3,
      state: "failed",
      start_date: "2024-05-01T02:00:00Z",
      end_date: "2024-05-01T02:05:00Z",
    });
    const after = items((await getJson(airflow, path, bearer("t"))).body, "task_instances");
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before[0]?.id, try_number: 3 });
  });

  it("validates parameters: v1 answers the first problem with 400, v2 all of them with 422", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    seed(airflow);
    const v1 = await getJson(airflow, "/api/v1/dags/~/dagRuns/~/taskInstances?offset=-1");
    expect(v1).toMatchObject({ status: 400, body: { detail: "-1 is less than the minimum of 0" } });
    const v2 = await getJson(
      airflow,
      "/api/v2/dags/~/dagRuns/~/taskInstances?limit=abc&offset=-1",
      bearer("t"),
    );
    expect(v2.status).toBe(422);
    expect((v2.body.detail as Json[]).map((issue) => issue.loc)).toEqual(
      expect.arrayContaining([
        ["query", "offset"],
        ["query", "limit"],
      ]),
    );
    // An unencoded '+' arrives as a space: Airflow 2 repairs it, Airflow 3 refuses it.
    const raw = "end_date_gte=2024-05-01T00:00:00+00:00";
    expect((await get(airflow, `/api/v1/dags/~/dagRuns/~/taskInstances?${raw}`)).status).toBe(200);
    expect((await get(airflow, `/api/v2/dags/~/dagRuns/~/taskInstances?${raw}`, bearer("t"))).status).toBe(
      422,
    );
  });
});

describe("logs", () => {
  const transformLog =
    "/dags/etl_daily/dagRuns/scheduled__2024-05-01T00%3A00%3A00%2B00%3A00/taskInstances/transform/logs/2";
  const text = "a 'quoted' line\nValueError: boom";

  async function withLogs(version: FakeAirflowOptions["version"]): Promise<FakeAirflow> {
    const airflow = await start({ version, staticTokens: ["t"] });
    seed(airflow);
    airflow.setLog(
      { dag_id: "etl_daily", dag_run_id: RUN_0501, task_id: "transform", try_number: 2 },
      { text },
    );
    return airflow;
  }

  it("v1: text/plain when asked (host line first), JSON with a Python-repr content otherwise", async () => {
    const airflow = await withLogs("v1");
    const plain = await get(airflow, `/api/v1${transformLog}?full_content=true`, {
      authorization: BASIC,
      accept: "text/plain",
    });
    expect(plain.headers.get("content-type")).toBe("text/plain");
    expect(await plain.text()).toBe(`worker-1\n${text}\n`);

    const json = await getJson(airflow, `/api/v1${transformLog}?full_content=true`, {
      authorization: BASIC,
      accept: "application/json",
    });
    expect(json.body).toEqual({
      content: `[('worker-1', "a 'quoted' line\\nValueError: boom")]`,
      continuation_token: expect.any(String),
    });
  });

  it("v1: fetch's default Accept */* gets text/plain, as werkzeug's best_match picks the first offer", async () => {
    const airflow = await withLogs("v1");
    const response = await get(airflow, `/api/v1${transformLog}`);
    expect(response.headers.get("content-type")).toBe("text/plain");
  });

  it("v2: structured content with the source-details group; text becomes one entry per line", async () => {
    const airflow = await withLogs("v2");
    const { status, body } = await getJson(airflow, `/api/v2${transformLog}?full_content=true`, bearer("t"));
    expect(status).toBe(200);
    expect(body.continuation_token).toBeNull();
    expect(body.content).toEqual([
      {
        event: "::group::Log message source details",
        sources: [`/opt/airflow/logs/dag_id=etl_daily/run_id=${RUN_0501}/task_id=transform/attempt=2.log`],
      },
      { event: "::endgroup::" },
      { event: "a 'quoted' line" },
      { event: "ValueError: boom" },
    ]);
  });

  it("serves a mapped task's structured log by map_index, on both trees", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    seed(airflow);
    const failure = {
      timestamp: "2024-05-01T00:39:59.123456Z",
      event: "Task failed with exception",
      level: "error",
      logger: "task",
      error_detail: [
        {
          exc_type: "ValueError",
          exc_value: "boom",
          exc_notes: [],
          syntax_error: null,
          is_cause: false,
          frames: [{ filename: "/opt/airflow/dags/etl.py", lineno: 12, name: "process" }],
        },
      ],
    };
    airflow.setLog(
      { dag_id: "etl_daily", dag_run_id: RUN_0501, task_id: "process", map_index: 1, try_number: 1 },
      { structured: [{ timestamp: "2024-05-01T00:39:58Z", event: "starting", level: "info" }, failure] },
    );
    const path = `/dags/etl_daily/dagRuns/${encodeURIComponent(RUN_0501)}/taskInstances/process/logs/1`;
    const v2 = await getJson(airflow, `/api/v2${path}?map_index=1`, bearer("t"));
    expect((v2.body.content as Json[]).slice(2)).toEqual([
      { timestamp: "2024-05-01T00:39:58Z", event: "starting", level: "info" },
      failure,
    ]);
    const v1 = await get(airflow, `/api/v1${path}?map_index=1`, {
      authorization: BASIC,
      accept: "text/plain",
    });
    const v1Text = await v1.text();
    expect(v1Text).toContain("[2024-05-01T00:39:59.123456Z] {task} ERROR - Task failed with exception");
    expect(v1Text).toContain('File "/opt/airflow/dags/etl.py", line 12, in process\nValueError: boom');

    // map_index 2 has no log: 404 in both trees.
    expect((await get(airflow, `/api/v1${path}?map_index=2`)).status).toBe(404);
    expect((await getJson(airflow, `/api/v2${path}?map_index=2`, bearer("t"))).status).toBe(404);
  });

  it("answers 404 for a missing log or an unknown task instance", async () => {
    const airflow = await withLogs("both");
    airflow.setLog(
      { dag_id: "etl_daily", dag_run_id: RUN_0501, task_id: "transform", try_number: 1 },
      "missing",
    );
    const missing = await getJson(airflow, `/api/v1${transformLog.replace(/2$/, "1")}`, {
      authorization: BASIC,
      accept: "application/json",
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      status: 404,
      type: expect.stringContaining("#section/Errors/NotFound"),
    });
    const unknown = "/dags/etl_daily/dagRuns/nope/taskInstances/transform/logs/1";
    expect(await getJson(airflow, `/api/v2${unknown}`, bearer("t"))).toEqual({
      status: 404,
      body: { detail: "TaskInstance not found" },
    });
    expect((await getJson(airflow, `/api/v1${unknown}`)).body.title).toBe("TaskInstance not found");
  });
});

describe("import errors", () => {
  it("keeps ids while a file keeps failing, drops vanished ones, and re-ids a file that breaks again", async () => {
    const airflow = await start({ version: "both", staticTokens: ["t"] });
    const list = async (tree: "v1" | "v2", query = "") =>
      (await getJson(airflow, `/api/${tree}/importErrors${query}`, bearer("t"))).body as ListBody;

    airflow.setImportErrors([
      {
        filename: "/opt/airflow/dags/a.py",
        stack_trace: "SyntaxError: a",
        timestamp: "2024-05-01T00:00:00Z",
      },
      {
        filename: "/opt/airflow/dags/b.py",
        stack_trace: "ImportError: b",
        timestamp: "2024-05-01T00:00:00Z",
      },
    ]);
    expect((await list("v1")).import_errors).toEqual([
      {
        import_error_id: 1,
        timestamp: "2024-05-01T00:00:00+00:00",
        filename: "/opt/airflow/dags/a.py",
        stack_trace: "SyntaxError: a",
      },
      {
        import_error_id: 2,
        timestamp: "2024-05-01T00:00:00+00:00",
        filename: "/opt/airflow/dags/b.py",
        stack_trace: "ImportError: b",
      },
    ]);

    airflow.setImportErrors([
      { filename: "/opt/airflow/dags/a.py", stack_trace: "SyntaxError: a, again" },
      { filename: "/opt/airflow/dags/c.py", stack_trace: "NameError: c" },
    ]);
    const changed = await list("v2", "?order_by=-import_error_id");
    expect(changed.total_entries).toBe(2);
    expect(changed.import_errors).toEqual([
      expect.objectContaining({
        import_error_id: 3,
        filename: "/opt/airflow/dags/c.py",
        bundle_name: "dags-folder",
      }),
      expect.objectContaining({ import_error_id: 1, stack_trace: "SyntaxError: a, again" }),
    ]);

    airflow.setImportErrors([]);
    expect(await list("v1")).toEqual({ import_errors: [], total_entries: 0 });
    airflow.setImportErrors([{ filename: "/opt/airflow/dags/b.py", stack_trace: "ImportError: b" }]);
    expect(field((await list("v1")).import_errors as Json[], "import_error_id")).toEqual([4]);
  });

  it("pages import errors under the cap", async () => {
    const airflow = await start({ version: "v1", maxLimit: 2 });
    airflow.setImportErrors(
      ["a", "b", "c"].map((name) => ({
        filename: `${name}.py`,
        stack_trace: name,
        timestamp: "2024-05-01T00:00:00Z",
      })),
    );
    const page = await getJson(airflow, "/api/v1/importErrors?limit=10&offset=1");
    expect(page.body.total_entries).toBe(3);
    expect(field(items(page.body, "import_errors"), "filename")).toEqual(["b.py", "c.py"]);
  });
});

describe("fault injection", () => {
  it("failNext answers the injected status once, then serves normally", async () => {
    const airflow = await start({ version: "v1" });
    airflow.failNext("/importErrors", { status: 503, body: '{"detail":"down"}' });
    const failed = await get(airflow, "/api/v1/importErrors");
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ detail: "down" });
    expect((await get(airflow, "/api/v1/importErrors")).status).toBe(200);
    expect(airflow.callsTo("/importErrors").map((call) => call.status)).toEqual([503, 200]);
  });

  it("malformedJson sends a 200 whose body does not parse", async () => {
    const airflow = await start({ version: "v1" });
    seed(airflow);
    airflow.failNext(/\/dagRuns$/, { malformedJson: true });
    const response = await get(airflow, "/api/v1/dags/~/dagRuns");
    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow();
  });

  it("drop destroys the socket and records status 0", async () => {
    const airflow = await start({ version: "v1" });
    airflow.failNext("/version", { drop: true }, 2);
    await expect(get(airflow, "/api/v1/version")).rejects.toThrow();
    await expect(get(airflow, "/api/v1/version")).rejects.toThrow();
    expect((await get(airflow, "/api/v1/version")).status).toBe(200);
    expect(airflow.calls.map((call) => call.status)).toEqual([0, 0, 200]);
  });

  it("failAfter lets N matching calls through and then fails mid-paging", async () => {
    const airflow = await start({ version: "v1", maxLimit: 2 });
    seed(airflow);
    airflow.failAfter("/taskInstances", 1, { status: 500 });
    const path = "/api/v1/dags/~/dagRuns/~/taskInstances";
    expect((await get(airflow, `${path}?offset=0`)).status).toBe(200);
    expect((await get(airflow, "/api/v1/dags/~/dagRuns")).status).toBe(200); // other paths are not counted
    expect((await get(airflow, `${path}?offset=2`)).status).toBe(500);
    expect((await get(airflow, `${path}?offset=2`)).status).toBe(200);
    expect(airflow.callsTo(/taskInstances$/).map((call) => call.query.get("offset"))).toEqual([
      "0",
      "2",
      "2",
    ]);
  });

  it("resetCalls forgets recorded requests", async () => {
    const airflow = await start({ version: "v2" });
    await get(airflow, "/api/v2/version", {});
    airflow.resetCalls();
    expect(airflow.calls).toEqual([]);
  });
});
