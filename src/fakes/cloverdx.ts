// Test double for the tests in test/; it also serves `observability demo` (src/commands/demo.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the parts of CloverDX Server this project reads, over real HTTP on loopback:
 *  - REST API v1 `GET /clover/api/rest/v1/executions` (a collection with `@totalItems`, `@startIndex`,
 *    `@pageItems` and `members`, paged by `pageSize` / `startIndex` with a server-side cap), one execution
 *    `GET .../executions/{runId}` and its log `GET .../executions/{runId}/log`;
 *  - Simple HTTP API `GET /clover/simpleHttpApi/executions_history` with `returnType=DESCRIPTION`
 *    (pipe-delimited lines, times in the server's zone, filters at minute precision).
 * Like the real server it wants Basic auth (401 otherwise) and the `X-Requested-By` header on every request
 * (400 without it, the CSRF guard). Member field names other than runId/sandboxCode/jobFile are this
 * project's best reading of the server's generated docs (see src/sources/cloverdx/map.ts). Every request is
 * recorded; faults can be injected per path.
 */

export interface FakeCloverdxOptions {
  username?: string;
  password?: string;
  /** IANA zone of the server's clock (Simple HTTP API times, and REST times when restTimes is "local"). */
  timeZone?: string;
  /** Server-side cap on pageSize, applied silently. */
  maxPageSize?: number;
  /** How REST members write times: with the zone's offset (default), in UTC (Z), or local without offset. */
  restTimes?: "offset" | "utc" | "local";
  /** Serve the Simple HTTP API (off on a server with http.api.enabled=false: 404). Default true. */
  simpleApiEnabled?: boolean;
}

export interface FakeExecutionInput {
  runId?: number;
  status: string;
  sandbox: string;
  jobFile: string;
  /** ISO UTC. Default: startTime. */
  submitTime?: string;
  startTime: string;
  stopTime: string | null;
  executionType?: string;
  parentRunId?: number;
  rootRunId?: number;
  errorMessage?: string;
  exception?: string;
  errorComponentId?: string;
  errorComponentType?: string;
  executedBy?: string;
  /** The run log; absent = 404 on the log endpoint. */
  log?: string;
}

export type FakeCloverdxFault =
  | { status: number; body?: string }
  /** HTTP 200 with a body cut in half. */
  | { malformed: true }
  /** Destroy the socket without an answer. */
  | { drop: true }
  /** HTTP 200 with this body instead of the real one (hostile Simple API output, odd JSON). */
  | { body: string; contentType?: string };

export interface FakeCloverdxCall {
  method: string;
  path: string;
  query: URLSearchParams;
  requestedBy: boolean;
  auth: boolean;
  status: number;
}

export interface FakeCloverdx {
  /** Server URL without the /clover context, e.g. http://127.0.0.1:PORT */
  url: string;
  addExecution(e: FakeExecutionInput): number;
  failNext(match: string | RegExp, fault: FakeCloverdxFault, times?: number): void;
  /** Let `okCalls` matching requests through, then fail the next `times` (default 1). */
  failAfter(match: string | RegExp, okCalls: number, fault: FakeCloverdxFault, times?: number): void;
  calls: FakeCloverdxCall[];
  callsTo(match: string | RegExp): FakeCloverdxCall[];
  resetCalls(): void;
  close(): Promise<void>;
}

interface Stored extends FakeExecutionInput {
  runId: number;
}

const REST = "/clover/api/rest/v1/executions";
const SIMPLE = "/clover/simpleHttpApi/executions_history";
const DEFAULT_PAGE_SIZE = 25;

function localParts(ms: number, timeZone: string) {
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = p.value;
  return parts as { year: string; month: string; day: string; hour: string; minute: string; second: string };
}

function localText(ms: number, timeZone: string, sep = " "): string {
  const p = localParts(ms, timeZone);
  return `${p.year}-${p.month}-${p.day}${sep}${p.hour}:${p.minute}:${p.second}`;
}

function offsetText(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  const offsetMin = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** "yyyy-MM-dd HH:mm" in the zone to a UTC instant (the earlier one in a repeated hour). */
function parseLocalMinute(text: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(text);
  if (m === null) return null;
  const naive = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const found: number[] = [];
  for (let quarter = -56; quarter <= 56; quarter++) {
    const candidate = naive - quarter * 900_000;
    const p = localParts(candidate, timeZone);
    if (Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) === naive) found.push(candidate);
  }
  return found.length === 0 ? null : Math.min(...found);
}

const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;

export async function startFakeCloverdx(options: FakeCloverdxOptions = {}): Promise<FakeCloverdx> {
  const username = options.username ?? "clover";
  const password = options.password ?? "clover";
  const timeZone = options.timeZone ?? "UTC";
  const maxPageSize = options.maxPageSize ?? 100;
  const restTimes = options.restTimes ?? "offset";
  const simpleEnabled = options.simpleApiEnabled ?? true;
  const executions = new Map<number, Stored>();
  let nextRunId = 1000;
  const calls: FakeCloverdxCall[] = [];
  const faults: { match: string | RegExp; fault: FakeCloverdxFault; times: number; skip: number }[] = [];

  const matches = (m: string | RegExp, path: string) =>
    typeof m === "string" ? path.endsWith(m) : m.test(path);

  const restTime = (iso: string | null | undefined) => {
    if (iso === null || iso === undefined) return null;
    const ms = Date.parse(iso);
    switch (restTimes) {
      case "utc":
        return new Date(ms).toISOString();
      case "local":
        return localText(ms, timeZone, "T");
      case "offset":
        return `${localText(ms, timeZone, "T")}${offsetText(ms, timeZone)}`;
    }
  };

  const member = (e: Stored, base: string) => ({
    "@self": `${base}${REST}/${e.runId}`,
    "@type": "Execution",
    runId: e.runId,
    sandboxCode: e.sandbox,
    jobFile: e.jobFile,
    status: e.status,
    executionType: e.executionType ?? (e.jobFile.endsWith(".jbf") ? "JOBFLOW" : "STANDALONE"),
    parentRunId: e.parentRunId ?? null,
    rootRunId: e.rootRunId ?? e.runId,
    submitTime: restTime(e.submitTime ?? e.startTime),
    startTime: restTime(e.startTime),
    stopTime: restTime(e.stopTime),
    errorMessage: e.errorMessage ?? null,
    exception: e.exception ?? null,
    errorComponentId: e.errorComponentId ?? null,
    errorComponentType: e.errorComponentType ?? null,
    executedBy: e.executedBy ?? "scheduler",
  });

  function send(
    res: ServerResponse,
    call: FakeCloverdxCall,
    status: number,
    body: string,
    type = "application/json",
  ) {
    call.status = status;
    res.writeHead(status, {
      "Content-Type": `${type}; charset=utf-8`,
      ...(status === 401 ? { "WWW-Authenticate": 'Basic realm="CloverDX"' } : {}),
    });
    res.end(body);
  }

  function restList(url: URL, res: ServerResponse, call: FakeCloverdxCall, base: string) {
    const q = url.searchParams;
    const pageSize = Math.min(
      Number(q.get("pageSize") ?? DEFAULT_PAGE_SIZE) || DEFAULT_PAGE_SIZE,
      maxPageSize,
    );
    const startIndex = Number(q.get("startIndex") ?? 0) || 0;
    const statuses = q.getAll("status").map((s) => s.toUpperCase());
    const from = q.get("stopTimeFrom");
    const to = q.get("stopTimeTo");
    const fromMs = from === null ? null : Date.parse(from);
    const toMs = to === null ? null : Date.parse(to);
    if ((fromMs !== null && Number.isNaN(fromMs)) || (toMs !== null && Number.isNaN(toMs))) {
      return send(res, call, 400, JSON.stringify({ errorCode: "INVALID_PARAMETER", message: "bad time" }));
    }
    const sandbox = q.get("sandboxCode");
    const jobFile = q.get("jobFile");
    // Minute precision, as the server filters: a run at 10:05:40 matches stopTimeTo=10:05:00.
    const selected = [...executions.values()]
      .filter((e) => statuses.length === 0 || statuses.includes(e.status))
      .filter((e) => sandbox === null || e.sandbox === sandbox)
      .filter((e) => jobFile === null || e.jobFile === jobFile)
      .filter(
        (e) => fromMs === null || (e.stopTime !== null && minute(Date.parse(e.stopTime)) >= minute(fromMs)),
      )
      .filter((e) => toMs === null || (e.stopTime !== null && minute(Date.parse(e.stopTime)) <= minute(toMs)))
      .sort((a, b) => b.runId - a.runId);
    const page = selected.slice(startIndex, startIndex + pageSize);
    send(
      res,
      call,
      200,
      JSON.stringify({
        "@self": `${base}${REST}`,
        "@type": "ExecutionCollection",
        "@totalItems": selected.length,
        "@startIndex": startIndex,
        "@pageItems": page.length,
        members: page.map((e) => member(e, base)),
      }),
    );
  }

  function simpleHistory(url: URL, res: ServerResponse, call: FakeCloverdxCall) {
    const q = url.searchParams;
    if ((q.get("returnType") ?? "IDs") !== "DESCRIPTION")
      return send(res, call, 400, "unsupported returnType in this fake", "text/plain");
    const parse = (name: string) => {
      const v = q.get(name);
      if (v === null || v === "") return { ok: true as const, ms: null };
      const ms = parseLocalMinute(v, timeZone);
      return ms === null ? { ok: false as const, ms: null } : { ok: true as const, ms };
    };
    const stopFrom = parse("stopFrom");
    const stopTo = parse("stopTo");
    if (!stopFrom.ok || !stopTo.ok)
      return send(res, call, 400, "Invalid date format; expected yyyy-MM-dd HH:mm", "text/plain");
    const status = q.get("status");
    const index = Number(q.get("index") ?? 0) || 0;
    const recordsRaw = q.get("records") ?? "1000";
    const records = Math.min(
      recordsRaw === "unlimited" ? Number.POSITIVE_INFINITY : Number(recordsRaw) || 1000,
      maxPageSize,
    );
    const descend = (q.get("orderDescend") ?? "true") !== "false";
    const selected = [...executions.values()]
      .filter((e) => status === null || status === "" || e.status === status.toUpperCase())
      .filter(
        (e) => stopFrom.ms === null || (e.stopTime !== null && minute(Date.parse(e.stopTime)) >= stopFrom.ms),
      )
      .filter(
        (e) => stopTo.ms === null || (e.stopTime !== null && minute(Date.parse(e.stopTime)) <= stopTo.ms),
      )
      .sort((a, b) => (descend ? b.runId - a.runId : a.runId - b.runId))
      .slice(index, index + records);
    const lines: string[] = [];
    for (const e of selected) {
      const submitted = localText(Date.parse(e.submitTime ?? e.startTime), timeZone);
      const finished = e.stopTime === null ? "" : localText(Date.parse(e.stopTime), timeZone);
      lines.push(
        `execution|${e.runId}|${e.status}|${e.executedBy ?? "scheduler"}|${e.sandbox}|${e.jobFile}|${submitted}|${finished}|node01|null`,
      );
      lines.push("phase|0|1200");
      if (e.errorComponentId) {
        lines.push(
          `node|${e.errorComponentId}|ERROR|0|0|0.0|0.0|0.0|0.0|${e.errorComponentType ?? "component"}`,
        );
        lines.push("port|Input|0|0|0|0|0|130|10");
      } else
        lines.push(
          `node|TRASH0|${e.status === "FINISHED_OK" ? "FINISHED_OK" : "ABORTED"}|0|0|0.0|0.0|0.0|0.0|Trash`,
        );
    }
    send(res, call, 200, lines.length > 0 ? `${lines.join("\n")}\n` : "", "text/plain");
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const base = `http://${req.headers.host ?? "localhost"}`;
    const header = req.headers.authorization ?? "";
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const call: FakeCloverdxCall = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      requestedBy: typeof req.headers["x-requested-by"] === "string",
      auth: header === expected,
      status: 0,
    };
    calls.push(call);
    const fault = faults.find((f) => f.times > 0 && matches(f.match, url.pathname) && f.skip-- <= 0);
    if (fault) {
      fault.times -= 1;
      const f = fault.fault;
      if ("drop" in f) {
        req.socket.destroy();
        return;
      }
      if ("malformed" in f) return send(res, call, 200, '{"members": [{"runId": 1, "stat');
      if ("body" in f && !("status" in f)) return send(res, call, 200, f.body, f.contentType ?? "text/plain");
      if ("status" in f) return send(res, call, f.status, f.body ?? `fault ${f.status}`, "text/plain");
    }
    if (!call.auth)
      return send(res, call, 401, JSON.stringify({ errorCode: "UNAUTHORIZED", message: "Unauthorized" }));
    if (!call.requestedBy) {
      return send(res, call, 400, "CSRF protection: the X-Requested-By header is missing", "text/plain");
    }
    if (req.method !== "GET") return send(res, call, 405, "");
    if (url.pathname === REST) return restList(url, res, call, base);
    const one = new RegExp(`^${REST}/(\\d+)(/log)?$`).exec(url.pathname);
    if (one) {
      const e = executions.get(Number(one[1]));
      if (e === undefined)
        return send(
          res,
          call,
          404,
          JSON.stringify({ errorCode: "NOT_FOUND", message: "Execution not found" }),
        );
      if (one[2] === undefined) return send(res, call, 200, JSON.stringify(member(e, base)));
      return e.log === undefined
        ? send(res, call, 404, "no log", "text/plain")
        : send(res, call, 200, e.log, "text/plain");
    }
    if (url.pathname === SIMPLE && simpleEnabled) return simpleHistory(url, res, call);
    send(res, call, 404, "Not Found", "text/html");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    addExecution(e) {
      const runId = e.runId ?? nextRunId++;
      nextRunId = Math.max(nextRunId, runId + 1);
      executions.set(runId, { ...e, runId });
      return runId;
    },
    failNext(match, fault, times = 1) {
      faults.push({ match, fault, times, skip: 0 });
    },
    failAfter(match, okCalls, fault, times = 1) {
      faults.push({ match, fault, times, skip: okCalls });
    },
    calls,
    callsTo: (m) => calls.filter((c) => matches(m, c.path)),
    resetCalls() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
