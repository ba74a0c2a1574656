/**
 * Reading finished executions from CloverDX Server, through the REST API (`/api/rest/v1/executions`) or the
 * older Simple HTTP API (`/simpleHttpApi/executions_history`), both normalised to CloverdxExecution.
 * Query parameter names that are not in the public documentation are constants here, next to the field
 * names in map.ts.
 */
import { ObservabilityError } from "../../errors.js";
import type { CloverdxHttp } from "./http.js";
import { compareRunIds, REST_COLLECTION, readRestExecution } from "./map.js";
import { parseExecutionsHistory } from "./simple.js";
import { lowerBoundLocalMinute, upperBoundLocalMinute } from "./time.js";
import type { CloverdxExecution } from "./types.js";

export const REST_EXECUTIONS_PATH = "/api/rest/v1/executions";
export const REST_QUERY = {
  pageSize: "pageSize",
  startIndex: "startIndex",
  /** Stop-time range filters (ISO 8601 with offset). Not publicly documented: results are re-filtered here. */
  stopFrom: "stopTimeFrom",
  stopTo: "stopTimeTo",
} as const;
export const restExecutionPath = (runId: string) => `${REST_EXECUTIONS_PATH}/${encodeURIComponent(runId)}`;
/** The run log as text. Tolerated missing (404): the signal is kept without the log's error. */
export const restLogPath = (runId: string) => `${restExecutionPath(runId)}/log`;

export const SIMPLE_HISTORY_PATH = "/simpleHttpApi/executions_history";

/** More pages than this means the server ignores paging or filters; fail rather than loop or flood. */
export const MAX_PAGES = 2_000;

export interface CloverdxReadResult {
  executions: CloverdxExecution[];
  /** Records or lines that could not be read (skipped, counted). */
  skipped: number;
  pages: number;
}

export interface CloverdxClient {
  readonly api: "rest" | "simple";
  readonly where: string;
  /** Executions that stopped within the window (the server filters at minute precision; re-filtered here). */
  listStopped(
    window: { from: Date; to: Date },
    options?: { statuses?: readonly string[] },
  ): Promise<CloverdxReadResult>;
  /** One execution by run id (REST only; the Simple HTTP API has no parent/root ids to look up). */
  getExecution(runId: string): Promise<CloverdxExecution | null>;
  /** The run log, or null when the server has none for it (404). */
  getLog(runId: string): Promise<string | null>;
}

export interface ClientOptions {
  pageSize: number;
  serverTimeZone: string;
  onPage?: (fetched: number, total: number | null) => void;
}

function withinWindow(e: CloverdxExecution, fromMs: number, toMs: number): boolean {
  if (e.stopTime === null) return true;
  const t = Date.parse(e.stopTime);
  return t >= fromMs && t <= toMs;
}

function badPaging(where: string, what: string): ObservabilityError {
  return new ObservabilityError(
    "cloverdx_bad_response",
    `CloverDX Server at ${where} ${what}; the run stopped instead of reading without end (check CLOVERDX_API and the server version)`,
  );
}

export function createRestClient(http: CloverdxHttp, options: ClientOptions): CloverdxClient {
  const { where } = http;
  return {
    api: "rest",
    where,
    async listStopped(window, opts) {
      // Minute precision on the server: widen by a minute each side, the exact window is applied below.
      const fromMs = window.from.getTime();
      const toMs = window.to.getTime();
      const byId = new Map<string, CloverdxExecution>();
      let skipped = 0;
      let startIndex = 0;
      let pages = 0;
      for (;;) {
        if (pages >= MAX_PAGES) throw badPaging(where, `returned more than ${MAX_PAGES} pages of executions`);
        const body = await http.getJson(REST_EXECUTIONS_PATH, {
          [REST_QUERY.pageSize]: options.pageSize,
          [REST_QUERY.startIndex]: startIndex,
          [REST_QUERY.stopFrom]: new Date(fromMs - 60_000).toISOString(),
          [REST_QUERY.stopTo]: new Date(toMs + 60_000).toISOString(),
          ...(opts?.statuses ? { status: opts.statuses } : {}),
        });
        pages += 1;
        if (
          typeof body !== "object" ||
          body === null ||
          !Array.isArray((body as Record<string, unknown>)[REST_COLLECTION.members])
        ) {
          throw new ObservabilityError(
            "cloverdx_bad_response",
            `CloverDX Server at ${where} answered ${REST_EXECUTIONS_PATH} without a "${REST_COLLECTION.members}" list; check CLOVERDX_BASE_URL and CLOVERDX_API=rest`,
          );
        }
        const record = body as Record<string, unknown>;
        const members = record[REST_COLLECTION.members] as unknown[];
        const totalRaw = record[REST_COLLECTION.total];
        const total = typeof totalRaw === "number" && Number.isFinite(totalRaw) ? totalRaw : null;
        let fresh = 0;
        let unreadable = 0;
        for (const m of members) {
          const e = readRestExecution(m, options.serverTimeZone);
          if (e === null) {
            unreadable += 1;
            continue;
          }
          if (!byId.has(e.runId)) fresh += 1;
          byId.set(e.runId, e);
        }
        skipped += unreadable;
        startIndex += members.length;
        options.onPage?.(startIndex, total);
        if (members.length === 0 || (total !== null && startIndex >= total)) break;
        // A page of nothing new: the server ignores startIndex (same page again) — stop loudly.
        if (fresh === 0 && members.length > unreadable) {
          throw badPaging(
            where,
            `repeated a page of executions at startIndex ${startIndex - members.length}`,
          );
        }
      }
      const executions = [...byId.values()]
        .filter((e) => withinWindow(e, fromMs, toMs))
        .sort((a, b) => compareRunIds(a.runId, b.runId));
      return { executions, skipped, pages };
    },
    async getExecution(runId) {
      const body = await http.getJsonOrNull(restExecutionPath(runId));
      return body === null ? null : readRestExecution(body, options.serverTimeZone);
    },
    getLog(runId) {
      return http.getText(restLogPath(runId));
    },
  };
}

export function createSimpleClient(http: CloverdxHttp, options: ClientOptions): CloverdxClient {
  const { where } = http;
  return {
    api: "simple",
    where,
    async listStopped(window, opts) {
      const fromMs = window.from.getTime();
      const toMs = window.to.getTime();
      const tz = options.serverTimeZone;
      const byId = new Map<string, CloverdxExecution>();
      let skipped = 0;
      let pages = 0;
      // One status per request (the parameter takes one value); none means every status.
      for (const status of opts?.statuses ?? [undefined]) {
        let index = 0;
        for (;;) {
          if (pages >= MAX_PAGES)
            throw badPaging(where, `returned more than ${MAX_PAGES} pages of executions`);
          const body = await http.getText(SIMPLE_HISTORY_PATH, {
            stopFrom: lowerBoundLocalMinute(fromMs, tz),
            stopTo: upperBoundLocalMinute(toMs, tz),
            status,
            returnType: "DESCRIPTION",
            orderBy: "id",
            orderDescend: "false",
            index,
            records: options.pageSize,
          });
          pages += 1;
          if (body === null) {
            throw new ObservabilityError(
              "cloverdx_bad_response",
              `CloverDX Server at ${where} has no ${SIMPLE_HISTORY_PATH} (HTTP 404); enable it with http.api.enabled=true, or use CLOVERDX_API=rest`,
            );
          }
          const parsed = parseExecutionsHistory(body, tz);
          if (parsed.executions.length === 0 && parsed.skipped > 0) {
            throw new ObservabilityError(
              "cloverdx_bad_response",
              `CloverDX Server at ${where} answered ${SIMPLE_HISTORY_PATH} with ${parsed.skipped} line(s) that are not executions_history output (first: ${JSON.stringify(parsed.samples[0] ?? "")}); check CLOVERDX_BASE_URL and CLOVERDX_API=simple`,
            );
          }
          skipped += parsed.skipped;
          let fresh = 0;
          for (const e of parsed.executions) {
            if (!byId.has(e.runId)) fresh += 1;
            byId.set(e.runId, e);
          }
          index += parsed.executionLines;
          options.onPage?.(byId.size, null);
          // The server may cap `records` below the page size asked for: only an empty page ends the list.
          if (parsed.executionLines === 0) break;
          if (fresh === 0 && parsed.executions.length > 0) {
            throw badPaging(where, `repeated a page of executions at index ${index - parsed.executionLines}`);
          }
        }
      }
      const executions = [...byId.values()]
        .filter((e) => withinWindow(e, fromMs, toMs))
        .sort((a, b) => compareRunIds(a.runId, b.runId));
      return { executions, skipped, pages };
    },
    async getExecution() {
      return null;
    },
    getLog(runId) {
      // The Simple HTTP API has no log operation; the REST log endpoint is tried and a 404 tolerated.
      return http.getText(restLogPath(runId));
    },
  };
}
