/**
 * The Airflow REST API, both versions, behind one interface: v1 (Airflow 2.x stable API) and v2 (Airflow
 * 3.x). Paging advances by the number of items actually returned (servers cap `limit` silently) and stops
 * at `total_entries`. v1 cannot order the task-instance list, so a time window that holds more than one
 * page is split in half until each part fits (rows on a split boundary are fetched twice and de-duplicated).
 *
 * A proxy that drops query parameters must not make a run loop: a page that starts like the one before it, or
 * more pages than `total_entries` can explain, is an error, and one v1 listing has a request budget.
 */
import { ObservabilityError } from "../../errors.js";
import type { AirflowHttp, Query } from "./http.js";
import { parseStructuredLogError, parseTextLogError } from "./logs.js";
import type {
  AirflowApiVersion,
  AirflowDag,
  AirflowDagRun,
  AirflowImportError,
  AirflowTaskInstance,
  LogError,
} from "./types.js";

export interface TimeWindow {
  /** Inclusive bounds on end_date, ISO text. */
  from: string;
  to: string;
}

export interface AirflowClient {
  readonly version: AirflowApiVersion;
  readonly where: string;
  /** Task instances in these states whose end_date is in the window, across all DAGs. */
  listTaskInstances(
    states: readonly string[],
    window: TimeWindow,
    dagId?: string,
  ): Promise<AirflowTaskInstance[]>;
  /** Task instances of one DAG run in these states. */
  listRunTaskInstances(
    dagId: string,
    dagRunId: string,
    states: readonly string[],
  ): Promise<AirflowTaskInstance[]>;
  /** DAG runs in these states whose end_date is in the window, across all DAGs. */
  listDagRuns(states: readonly string[], window: TimeWindow): Promise<AirflowDagRun[]>;
  /** The full import-error snapshot. */
  listImportErrors(): Promise<AirflowImportError[]>;
  /** A DAG's tags, owners and run timeout; null when Airflow does not know it (any more). */
  getDag(dagId: string): Promise<AirflowDag | null>;
  /** The error named in the log of one try; null when the log is missing (404). */
  getLogError(ti: AirflowTaskInstance): Promise<LogError | null>;
}

export interface ClientOptions {
  pageLimit: number;
  /** Requests one v1 task-instance listing (window splits and pages) may take; default 10,000. */
  maxListRequests?: number;
  /** Called after each page, for progress output. */
  onPage?: (what: string, fetched: number, total: number) => void;
}

/** Asks `/api/v2/version`, then `/api/v1/version` (both public), for AIRFLOW_API_VERSION=auto. */
export async function detectApiVersion(http: AirflowHttp): Promise<AirflowApiVersion> {
  for (const version of ["v2", "v1"] as const) {
    const { status, body } = await http.probe(`/api/${version}/version`);
    if (status === 200 && typeof (body as { version?: unknown } | null)?.version === "string") return version;
  }
  throw new ObservabilityError(
    "airflow_unreachable",
    `no Airflow REST API found at ${http.where} (neither /api/v2/version nor /api/v1/version answered); check AIRFLOW_BASE_URL, or set AIRFLOW_API_VERSION to v1 or v2`,
  );
}

const enc = encodeURIComponent;

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/** Airflow timestamps to ISO UTC (v1 writes +00:00, v2 Z; both may carry microseconds). */
function time(v: unknown): string | null {
  if (typeof v !== "string" || v === "") return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * v2 structured logs above this are not parsed (getLogError is null: the signal is kept without error text).
 * Parsing a giant JSON body costs several times its size in memory; a text log can be cut, JSON cannot.
 */
export const MAX_STRUCTURED_LOG_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_LIST_REQUESTS = 10_000;

function stuckPaging(where: string, path: string, what: string): ObservabilityError {
  return new ObservabilityError(
    "airflow_bad_response",
    `Airflow at ${where} ${what} for ${path}; a proxy may be dropping the offset parameter`,
  );
}

function malformed(where: string, path: string, what: string): ObservabilityError {
  return new ObservabilityError(
    "airflow_bad_response",
    `Airflow at ${where} answered ${path} without ${what}; check that AIRFLOW_API_VERSION matches the server`,
  );
}

export function toTaskInstance(raw: Record<string, unknown>): AirflowTaskInstance {
  const sla = raw.sla_miss as Record<string, unknown> | null | undefined;
  return {
    dag_id: String(raw.dag_id ?? ""),
    dag_run_id: String(raw.dag_run_id ?? ""),
    task_id: String(raw.task_id ?? ""),
    map_index: num(raw.map_index, -1),
    try_number: num(raw.try_number, 0),
    max_tries: typeof raw.max_tries === "number" ? raw.max_tries : null,
    state: str(raw.state),
    start_date: time(raw.start_date),
    end_date: time(raw.end_date),
    operator: str(raw.operator) ?? str(raw.operator_name),
    logical_date: time(raw.logical_date ?? raw.execution_date),
    hostname: str(raw.hostname),
    sla_miss:
      sla && typeof sla === "object"
        ? {
            task_id: String(sla.task_id ?? raw.task_id ?? ""),
            dag_id: String(sla.dag_id ?? raw.dag_id ?? ""),
            execution_date: time(sla.execution_date),
            timestamp: time(sla.timestamp),
            description: str(sla.description),
          }
        : null,
  };
}

export function toDagRun(raw: Record<string, unknown>): AirflowDagRun {
  return {
    dag_id: String(raw.dag_id ?? ""),
    dag_run_id: String(raw.dag_run_id ?? raw.run_id ?? ""),
    state: str(raw.state),
    start_date: time(raw.start_date),
    end_date: time(raw.end_date),
    logical_date: time(raw.logical_date ?? raw.execution_date),
    run_type: str(raw.run_type),
  };
}

/** v1 TimeDelta `{days, seconds, microseconds}` or v2 ISO 8601 duration ("PT7200S", "P1DT5S") to seconds. */
export function durationSeconds(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "object") {
    const d = v as { days?: unknown; seconds?: unknown; microseconds?: unknown };
    return num(d.days, 0) * 86_400 + num(d.seconds, 0) + num(d.microseconds, 0) / 1e6;
  }
  if (typeof v !== "string") return null;
  const m =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v);
  if (!m) return null;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

export function createAirflowClient(
  http: AirflowHttp,
  version: AirflowApiVersion,
  options: ClientOptions,
): AirflowClient {
  const api = `/api/${version}`;
  const limit = options.pageLimit;

  const maxListRequests = options.maxListRequests ?? DEFAULT_MAX_LIST_REQUESTS;

  /** Counts the requests of one listing, so no server answer can make it run without end. */
  interface Budget {
    used: number;
    /** The listing, for the message: "between <from> and <to>". */
    what: string;
  }
  function spend(budget: Budget | undefined, path: string): void {
    if (budget === undefined) return;
    budget.used += 1;
    if (budget.used > maxListRequests) {
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${http.where} needed more than ${maxListRequests} requests to list ${path} ${budget.what}; check that no proxy drops the end_date_gte/end_date_lte or offset parameters, or ingest a shorter window with --since`,
      );
    }
  }

  /** Every item of a list endpoint, following offset by what each page actually returned. */
  async function pageAll(
    path: string,
    query: Query,
    key: string,
    budget?: Budget,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let previousFirst: string | null = null;
    let firstTotal: number | null = null;
    for (let pages = 1; ; pages++) {
      spend(budget, path);
      const page = (await http.getJson(path, { ...query, limit, offset: items.length })) as Record<
        string,
        unknown
      >;
      const batch = page?.[key];
      const total = page?.total_entries;
      if (!Array.isArray(batch) || typeof total !== "number")
        throw malformed(http.where, path, `${key} and total_entries`);
      // A server that ignores offset answers page one again: caught on the second page, not after many.
      const first = batch.length > 0 ? JSON.stringify(batch[0]) : null;
      if (first !== null && first === previousFirst)
        throw stuckPaging(http.where, path, "returned the same page twice");
      previousFirst = first;
      // Bounded by the first page's total: a total that grows with every page would otherwise never end.
      // The slack of 10 pages absorbs rows that arrive while paging.
      firstTotal ??= total;
      if (pages > Math.ceil(firstTotal / Math.max(1, batch.length)) + 10)
        throw stuckPaging(http.where, path, `kept returning pages (${pages} for ${total} entries)`);
      items.push(...(batch as Record<string, unknown>[]));
      options.onPage?.(key, items.length, total);
      if (batch.length === 0 || items.length >= total) return items;
    }
  }

  /** One page, to learn the total. */
  async function firstPage(path: string, query: Query, key: string, budget?: Budget) {
    spend(budget, path);
    const page = (await http.getJson(path, { ...query, limit, offset: 0 })) as Record<string, unknown>;
    const batch = page?.[key];
    const total = page?.total_entries;
    if (!Array.isArray(batch) || typeof total !== "number")
      throw malformed(http.where, path, `${key} and total_entries`);
    return { items: batch as Record<string, unknown>[], total };
  }

  const MIN_SPLIT_MS = 1000;

  /** v1: the window's rows, split in halves while a part holds more than one page. */
  async function listWindowSplit(path: string, states: readonly string[], window: TimeWindow) {
    const out: Record<string, unknown>[] = [];
    const budget: Budget = { used: 0, what: `between ${window.from} and ${window.to}` };
    const visit = async (from: number, to: number): Promise<void> => {
      const query = {
        state: states,
        end_date_gte: new Date(from).toISOString(),
        end_date_lte: new Date(to).toISOString(),
      };
      const { items, total } = await firstPage(path, query, "task_instances", budget);
      options.onPage?.("task_instances", out.length + items.length, out.length + total);
      if (items.length >= total) {
        out.push(...items);
        return;
      }
      if (to - from <= MIN_SPLIT_MS) {
        // A second with more than a page of rows: page through it (without order, rows inserted meanwhile
        // may shift, which the overlap of the next run absorbs).
        out.push(...(await pageAll(path, query, "task_instances", budget)));
        return;
      }
      const mid = from + Math.floor((to - from) / 2);
      await visit(from, mid);
      await visit(mid, to);
    };
    await visit(Date.parse(window.from), Date.parse(window.to));
    return out;
  }

  function dedupeTis(rows: Record<string, unknown>[]): AirflowTaskInstance[] {
    const byKey = new Map<string, AirflowTaskInstance>();
    for (const raw of rows) {
      const ti = toTaskInstance(raw);
      byKey.set(`${ti.dag_id}|${ti.dag_run_id}|${ti.task_id}|${ti.map_index}`, ti);
    }
    return [...byKey.values()];
  }

  return {
    version,
    where: http.where,
    async listTaskInstances(states, window, dagId) {
      // One DAG (recovery checks) or all of them ("~").
      const path = `${api}/dags/${dagId === undefined ? "~" : enc(dagId)}/dagRuns/~/taskInstances`;
      if (version === "v1") return dedupeTis(await listWindowSplit(path, states, window));
      const rows = await pageAll(
        path,
        { state: states, end_date_gte: window.from, end_date_lte: window.to, order_by: ["end_date", "id"] },
        "task_instances",
      );
      return dedupeTis(rows);
    },
    async listRunTaskInstances(dagId, dagRunId, states) {
      const path = `${api}/dags/${enc(dagId)}/dagRuns/${enc(dagRunId)}/taskInstances`;
      return dedupeTis(await pageAll(path, { state: states }, "task_instances"));
    },
    async listDagRuns(states, window) {
      const path = `${api}/dags/~/dagRuns`;
      const rows = await pageAll(
        path,
        {
          state: states,
          end_date_gte: window.from,
          end_date_lte: window.to,
          order_by: version === "v1" ? "end_date" : ["end_date", "id"],
        },
        "dag_runs",
      );
      const byKey = new Map(rows.map((r) => toDagRun(r)).map((r) => [`${r.dag_id}|${r.dag_run_id}`, r]));
      return [...byKey.values()];
    },
    async listImportErrors() {
      const rows = await pageAll(`${api}/importErrors`, { order_by: "import_error_id" }, "import_errors");
      return rows.map((r) => ({
        import_error_id: num(r.import_error_id, 0),
        filename: String(r.filename ?? ""),
        stack_trace: String(r.stack_trace ?? ""),
        timestamp: time(r.timestamp),
        bundle_name: str(r.bundle_name),
      }));
    },
    async getDag(dagId) {
      const raw = (await http.getJsonOrNull(`${api}/dags/${enc(dagId)}/details`)) as Record<
        string,
        unknown
      > | null;
      if (raw === null) return null;
      const tags = Array.isArray(raw.tags)
        ? raw.tags
            .map((t) => (typeof t === "string" ? t : str((t as { name?: unknown }).name)))
            .filter((t): t is string => t !== null)
        : [];
      const owners = Array.isArray(raw.owners)
        ? raw.owners.filter((o): o is string => typeof o === "string")
        : [];
      return {
        dag_id: String(raw.dag_id ?? dagId),
        tags,
        owners,
        dagrun_timeout_seconds: durationSeconds(raw.dag_run_timeout ?? raw.dagrun_timeout),
      };
    },
    async getLogError(ti) {
      const path = `${api}/dags/${enc(ti.dag_id)}/dagRuns/${enc(ti.dag_run_id)}/taskInstances/${enc(ti.task_id)}/logs/${ti.try_number}`;
      const query = { full_content: "true", ...(ti.map_index >= 0 ? { map_index: ti.map_index } : {}) };
      if (version === "v1") {
        // v1's JSON form wraps the text in a Python repr; plain text is the log itself.
        // getText keeps the log's last 4 MB: the error a failed try names is at its end.
        const text = await http.getText(path, query, "text/plain");
        return text === null ? null : parseTextLogError(text.body);
      }
      const body = await http.getJsonOrNull(path, query, { maxBytes: MAX_STRUCTURED_LOG_BYTES });
      return body === null ? null : parseStructuredLogError(body);
    },
  };
}
