/**
 * The Airflow HTTP layer and client against servers that misbehave: bodies that stall or break off, redirects
 * to an SSO page, logs of many MB, proxies that drop query parameters. Small `node:http` servers on loopback
 * (and the fake Airflow for logs); no database.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeAirflow, startFakeAirflow } from "../src/fakes/airflow.js";
import {
  createAirflowClient,
  DEFAULT_MAX_LIST_REQUESTS,
  detectApiVersion,
  toTaskInstance,
} from "../src/sources/airflow/client.js";
import {
  type AirflowHttp,
  createAirflowHttp,
  DEFAULT_TEXT_MAX_BYTES,
  type Query,
} from "../src/sources/airflow/http.js";

const PASSWORD = "s3cret-pass";
const URL_PASSWORD = "pw-in-url";
const BASIC = Buffer.from(`admin:${PASSWORD}`).toString("base64");

interface TestServer {
  url: string;
  /** Request paths with query, in order. */
  requests: string[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
let fake: FakeAirflow | undefined;

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await fake?.close();
  fake = undefined;
});

/** `handler` gets the 1-based number of the request. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const s: TestServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Stalled responses keep their sockets open: end them, or close() waits forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function httpFor(url: string): AirflowHttp {
  return createAirflowHttp({
    baseUrl: url.replace("http://", `http://admin:${URL_PASSWORD}@`),
    auth: { kind: "basic", username: "admin", password: PASSWORD },
    timeoutMs: 200,
    retryDelayMs: 5,
  });
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  const { code, message } = error as { code?: unknown; message?: unknown };
  expect(typeof message).toBe("string");
  const text = String(message);
  for (const secret of [PASSWORD, URL_PASSWORD, BASIC]) expect(text).not.toContain(secret);
  return { code: String(code), message: text };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

describe("bodies are read inside the retried attempt", () => {
  it("a stalled body is retried, then one airflow_unreachable naming the URL", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"import_errors": ['); // and never more
    });
    const error = await failure(httpFor(server.url).getJson("/api/v1/importErrors"));
    expect(error.code).toBe("airflow_unreachable");
    expect(error.message).toContain(`Airflow at ${server.url} is unreachable`);
    expect(error.message).toContain(
      "body not complete within 0.2 s on /api/v1/importErrors after 4 attempts",
    );
    expect(server.requests).toHaveLength(4);
  });

  it("a body that stalls once is read on the next attempt", async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"ok": ');
        return;
      }
      json(res, { ok: true });
    });
    expect(await httpFor(server.url).getJson("/api/v1/version")).toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
  });

  /** Headers and part of the body, then the socket is destroyed. */
  function breakOff(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"import_errors": [', () => setTimeout(() => res.socket?.destroy(), 10));
  }

  it("a connection reset mid-body is retried like a refused one", async () => {
    const server = await serve((_req, res, n) => {
      if (n <= 2) breakOff(res);
      else json(res, { import_errors: [], total_entries: 0 });
    });
    expect(await httpFor(server.url).getJson("/api/v1/importErrors")).toEqual({
      import_errors: [],
      total_entries: 0,
    });
    expect(server.requests).toHaveLength(3);
  });

  it("a body that always breaks off ends in airflow_unreachable", async () => {
    const server = await serve((_req, res) => breakOff(res));
    const error = await failure(
      httpFor(server.url).getText("/api/v1/dags/etl/dagRuns/r1/taskInstances/t/logs/1", {}, "text/plain"),
    );
    expect(error.code).toBe("airflow_unreachable");
    expect(error.message).toContain(`Airflow at ${server.url} is unreachable (connection lost while reading`);
    expect(server.requests).toHaveLength(4);
  });

  it("404, malformed JSON and other statuses keep their meaning", async () => {
    const server = await serve((req, res) => {
      if (req.url?.startsWith("/missing")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"detail": "not found"}');
      } else if (req.url?.startsWith("/broken")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"import_errors": [');
      } else if (req.url?.startsWith("/denied")) {
        res.writeHead(403);
        res.end();
      } else {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end("bad\nrequest");
      }
    });
    const http = httpFor(server.url);
    expect(await http.getJsonOrNull("/missing")).toBeNull();
    expect(await http.getText("/missing", {}, "text/plain")).toBeNull();
    expect(await failure(http.getJson("/broken"))).toMatchObject({
      code: "airflow_bad_response",
      message: expect.stringContaining("malformed JSON for /broken"),
    });
    expect(await failure(http.getJson("/denied"))).toMatchObject({ code: "airflow_auth" });
    expect(await failure(http.getJson("/other"))).toMatchObject({
      code: "airflow_bad_response",
      message: `Airflow at ${server.url} answered HTTP 400 on /other: bad request`,
    });
    expect(server.requests).toHaveLength(5);
  });
});

describe("redirects", () => {
  const SSO = `https://sso-user:sso-pass@sso.example.com/login?next=%2Fapi&ticket=abc123`;

  it("a 302 to an SSO page is one clear, non-retried error naming only its host", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: SSO });
      res.end("redirecting");
    });
    const error = await failure(httpFor(server.url).getJson("/api/v1/dags/~/dagRuns", { limit: 5 }));
    expect(error.code).toBe("airflow_bad_response");
    expect(error.message).toContain(
      `Airflow at ${server.url} redirected /api/v1/dags/~/dagRuns to https://sso.example.com (HTTP 302); set AIRFLOW_BASE_URL`,
    );
    for (const part of ["sso-pass", "sso-user", "ticket", "abc123", "/login", "limit="]) {
      expect(error.message).not.toContain(part);
    }
    expect(server.requests).toHaveLength(1);
  });

  it("version detection stops at the redirect instead of reporting no API", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(301, { location: "/login" });
      res.end();
    });
    const error = await failure(detectApiVersion(httpFor(server.url)));
    expect(error.code).toBe("airflow_bad_response");
    expect(error.message).toContain(`redirected /api/v2/version to ${server.url} (HTTP 301)`);
    expect(server.requests).toHaveLength(1);
  });
});

describe("big logs", () => {
  const KEY = { dag_id: "etl", dag_run_id: "r1", task_id: "load", try_number: 1 };
  const ti = toTaskInstance({ ...KEY, map_index: -1, state: "failed" });
  const FILLER =
    "[2024-05-01, 09:00:00 UTC] {logging_mixin.py:188} INFO - processed a batch of rows, all fine\n";
  const TRACEBACK = `[2024-05-01, 09:59:59 UTC] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/opt/airflow/dags/orders.py", line 42, in extract
    raise ValueError("bad row 17")
ValueError: bad row 17
[2024-05-01, 10:00:00 UTC] {taskinstance.py:1206} INFO - Marking task as FAILED.`;

  function createTokenHttp(url: string): AirflowHttp {
    return createAirflowHttp({ baseUrl: url, auth: { kind: "token", token: "t0k3n" }, retryDelayMs: 5 });
  }

  async function seed(version: "v1" | "v2"): Promise<FakeAirflow> {
    fake = await startFakeAirflow({ version, staticTokens: ["t0k3n"] });
    fake.addDag({ dag_id: "etl" });
    fake.addTaskInstance({ ...KEY, state: "failed", end_date: "2024-05-01T10:00:00Z" });
    return fake;
  }

  it("v1: a 10 MB text log keeps its last 4 MB, and the final traceback is still found", async () => {
    const airflow = await seed("v1");
    const early = "Traceback (most recent call last):\nEarlyError: at the start\n";
    airflow.setLog(KEY, {
      text: `${early}${FILLER.repeat(Math.ceil((10 * 2 ** 20) / FILLER.length))}${TRACEBACK}`,
    });
    const http = createTokenHttp(airflow.url);
    const path = "/api/v1/dags/etl/dagRuns/r1/taskInstances/load/logs/1";
    const text = await http.getText(path, { full_content: "true" }, "text/plain");
    expect(text?.truncated).toBe(true);
    expect(Buffer.byteLength(text?.body ?? "")).toBeLessThanOrEqual(DEFAULT_TEXT_MAX_BYTES);
    expect(text?.body.startsWith(FILLER)).toBe(true); // cut at a line
    expect(text?.body).not.toContain("EarlyError");
    expect(text?.body.trimEnd().endsWith("Marking task as FAILED.")).toBe(true);

    const client = createAirflowClient(http, "v1", { pageLimit: 100 });
    expect(await client.getLogError(ti)).toEqual({ errorClass: "ValueError", errorMessage: "bad row 17" });
  });

  it("v2: a structured log over 16 MB is not parsed (no error text, no failure)", async () => {
    const airflow = await seed("v2");
    const http = createTokenHttp(airflow.url);
    const client = createAirflowClient(http, "v2", { pageLimit: 100 });
    const failed = {
      timestamp: "2024-05-01T10:00:00Z",
      level: "error",
      event: "Task failed with exception",
      error_detail: [{ exc_type: "ValueError", exc_value: "bad row 17", is_cause: false, frames: [] }],
    };
    airflow.setLog(KEY, { structured: [failed] });
    expect(await client.getLogError(ti)).toEqual({ errorClass: "ValueError", errorMessage: "bad row 17" });

    const big = { timestamp: "2024-05-01T09:00:00Z", level: "info", event: "x".repeat(2 ** 20) };
    airflow.setLog(KEY, { structured: [...Array.from({ length: 17 }, () => big), failed] });
    expect(await client.getLogError(ti)).toBeNull();
  });
});

describe("paging that would not end", () => {
  const importError = (id: number) => ({
    import_error_id: id,
    filename: `/dags/d${id}.py`,
    stack_trace: "x",
  });
  const taskInstance = (i: number) => ({
    dag_id: "etl",
    dag_run_id: `r${i}`,
    task_id: "t",
    state: "failed",
    end_date: "2024-05-01T09:00:00+00:00",
  });

  it("a server that ignores offset: a clear error on the second page", async () => {
    const server = await serve((_req, res) =>
      json(res, {
        import_errors: Array.from({ length: 100 }, (_, i) => importError(i + 1)),
        total_entries: 250,
      }),
    );
    const client = createAirflowClient(httpFor(server.url), "v1", { pageLimit: 100 });
    const error = await failure(client.listImportErrors());
    expect(error).toEqual({
      code: "airflow_bad_response",
      message: `Airflow at ${server.url} returned the same page twice for /api/v1/importErrors; a proxy may be dropping the offset parameter`,
    });
    expect(server.requests).toHaveLength(2);
  });

  it("v1 window split against a server that ignores every filter: bounded, then the same clear error", async () => {
    const server = await serve((_req, res) =>
      json(res, {
        task_instances: Array.from({ length: 100 }, (_, i) => taskInstance(i)),
        total_entries: 250,
      }),
    );
    const client = createAirflowClient(httpFor(server.url), "v1", { pageLimit: 100 });
    const error = await failure(
      client.listTaskInstances(["failed"], {
        from: "2024-05-01T09:00:00.000Z",
        to: "2024-05-01T10:00:00.000Z",
      }),
    );
    expect(error.code).toBe("airflow_bad_response");
    expect(error.message).toContain(
      "returned the same page twice for /api/v1/dags/~/dagRuns/~/taskInstances",
    );
    // log2(3600 s) halvings down to one second, then two pages.
    expect(server.requests.length).toBeLessThan(20);
  });

  /** An in-memory AirflowHttp: the request budget is about counts, not sockets. */
  function stubHttp(answer: (query: Query) => unknown): AirflowHttp & { calls: number } {
    const stub = {
      where: "http://airflow.test",
      calls: 0,
      async getJson(_path: string, query?: Query) {
        stub.calls += 1;
        return answer(query ?? {});
      },
      getJsonOrNull: async () => null,
      getText: async () => null,
      probe: async () => ({ status: 404, body: null }),
    };
    return stub;
  }

  it("a total that grows with every page stops after the first page's total plus ten pages", async () => {
    const http = stubHttp((query) => {
      const offset = Number(query.offset);
      return {
        import_errors: Array.from({ length: 100 }, (_, i) => importError(offset + i)),
        total_entries: offset + 200,
      };
    });
    const error = await failure(createAirflowClient(http, "v1", { pageLimit: 100 }).listImportErrors());
    expect(error.code).toBe("airflow_bad_response");
    expect(error.message).toContain("kept returning pages (13 for");
    expect(http.calls).toBe(13);
  });

  it("v1 window split where end_date filters are dropped: capped at 10,000 requests with a clear error", async () => {
    // Offset is honoured, the window is not: every half of every half holds the same 150 rows.
    const http = stubHttp((query) => {
      const offset = Number(query.offset);
      const rows = Array.from({ length: 150 }, (_, i) => taskInstance(i)).slice(offset, offset + 100);
      return { task_instances: rows, total_entries: 150 };
    });
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const error = await failure(
      createAirflowClient(http, "v1", { pageLimit: 100 }).listTaskInstances(["failed"], window),
    );
    expect(error.code).toBe("airflow_bad_response");
    expect(error.message).toBe(
      `Airflow at http://airflow.test needed more than ${DEFAULT_MAX_LIST_REQUESTS} requests to list /api/v1/dags/~/dagRuns/~/taskInstances between ${window.from} and ${window.to}; check that no proxy drops the end_date_gte/end_date_lte or offset parameters, or ingest a shorter window with --since`,
    );
    expect(http.calls).toBe(DEFAULT_MAX_LIST_REQUESTS);

    const small = stubHttp((query) => ({
      task_instances: [taskInstance(Number(query.offset))],
      total_entries: 150,
    }));
    await failure(
      createAirflowClient(small, "v1", { pageLimit: 100, maxListRequests: 50 }).listTaskInstances(
        ["failed"],
        window,
      ),
    );
    expect(small.calls).toBe(50);
  });
});
