// Test double for the tests in test/; it also serves `observability demo` (src/commands/demo.ts).
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the parts of Airflow's REST API this project reads, served over real HTTP on loopback:
 * the Airflow 2.x stable API (`/api/v1`, connexion) and the Airflow 3.x API (`/api/v2`, FastAPI, JWTs from
 * `POST /auth/token`). Shapes, status codes and quirks follow the published OpenAPI specs and the endpoint code
 * (apache/airflow `airflow/api_connexion/openapi/v1.yaml`,
 * `airflow-core/src/airflow/api_fastapi/core_api/openapi/v2-rest-api-generated.yaml`); the few places where the
 * fake knowingly differs say so. Every request is recorded, and faults can be injected per path.
 */

export type FakeAirflowTree = "v1" | "v2";

export interface FakeAirflowOptions {
  /** Which route trees exist (`/api/v1/...`, `/api/v2/...`); "both" serves both. */
  version: FakeAirflowTree | "both";
  /** Default "admin"/"admin". */
  username?: string;
  password?: string;
  /** Bearer tokens accepted on both trees (AIRFLOW_TOKEN style, handed out of band). */
  staticTokens?: string[];
  /** Server-side cap on `limit` (Airflow's `[api] maximum_page_limit`, default 100), applied silently. */
  maxLimit?: number;
  /** Lifetime of JWTs issued by `POST /auth/token` (default 86400, Airflow's `jwt_expiration_time`). */
  tokenTtlSeconds?: number;
  /** Reported by `/version` (default "2.10.5" on v1, "3.1.0" on v2). */
  airflowVersion?: string;
}

export type FakeAirflowFault =
  /** Respond with this status; `body` as given (JSON content type when it parses), else a plain-text note. */
  | { status: number; body?: string }
  /** HTTP 200 whose JSON body is cut in half (a proxy or server dying mid-response). */
  | { malformedJson: true }
  /** Destroy the socket without a response (a network error for the client). */
  | { drop: true };

export interface FakeAirflowCall {
  method: string;
  /** Request path without the query, percent-decoded segment by segment. */
  path: string;
  /** The path exactly as received (still percent-encoded). */
  rawPath: string;
  query: URLSearchParams;
  auth: "basic" | "bearer" | "none";
  /** HTTP status sent; 0 when the socket was dropped without a response. */
  status: number;
}

export interface FakeDagInput {
  dag_id: string;
  tags?: string[];
  owners?: string[];
  dagrun_timeout_seconds?: number | null;
}

export interface FakeDagRunInput {
  dag_id: string;
  dag_run_id: string;
  state: string;
  start_date: string;
  end_date: string | null;
  /** Default: the date in a `scheduled__<date>`-style run id; else v1 uses start_date, v2 reports null. */
  logical_date?: string;
  /** Default: the run id prefix (`scheduled__…` → scheduled), else "manual". */
  run_type?: string;
}

export interface FakeTaskInstanceInput {
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  /** Default -1 (unmapped). */
  map_index?: number;
  try_number: number;
  max_tries?: number;
  /** null = no status yet. */
  state: string | null;
  start_date?: string | null;
  end_date: string | null;
  /** The operator's class name, e.g. "PythonOperator". */
  operator?: string;
  /** v2 `operator_name` (the task's custom name, e.g. "@task"); default: same as operator. */
  operator_name?: string;
  hostname?: string | null;
  /** v1 only (SLAs were removed in Airflow 3). */
  sla_miss?: { description?: string; timestamp?: string } | null;
}

export interface FakeLogKey {
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  map_index?: number;
  try_number: number;
}

export type FakeLog = { text: string } | { structured: Record<string, unknown>[] } | "missing";

export interface FakeImportErrorInput {
  filename: string;
  stack_trace: string;
  timestamp?: string;
  /** v2 only; default "dags-folder". */
  bundle_name?: string;
}

export interface FakeAirflow {
  /** Base URL without the /api suffix, e.g. http://127.0.0.1:PORT */
  url: string;
  addDag(dag: FakeDagInput): void;
  addDagRun(run: FakeDagRunInput): void;
  /** Upsert by (dag_id, dag_run_id, task_id, map_index), like the real row being updated for a new try. */
  addTaskInstance(ti: FakeTaskInstanceInput): void;
  setLog(key: FakeLogKey, log: FakeLog): void;
  /** Replaces the snapshot. An id survives while its file keeps failing; a file that recovers and breaks
   * again gets a new id, as the DAG processor deletes and re-inserts the row. */
  setImportErrors(errors: FakeImportErrorInput[]): void;
  /** Fail the next `times` (default 1) requests whose path matches. A string matches a path that ends with
   * it (so "/taskInstances" hits every TI list); a RegExp is tested. Both the decoded and raw path count. */
  failNext(match: string | RegExp, fault: FakeAirflowFault, times?: number): void;
  /** Let `okCalls` matching requests through, then fail the next `times` (default 1). */
  failAfter(match: string | RegExp, okCalls: number, fault: FakeAirflowFault, times?: number): void;
  /** Every JWT issued so far answers 401 "Token Expired" from now on; later logins work again. */
  expireTokens(): void;
  changePassword(password: string): void;
  /** Every request, in order, including failed ones. */
  calls: FakeAirflowCall[];
  callsTo(match: string | RegExp): FakeAirflowCall[];
  resetCalls(): void;
  close(): Promise<void>;
}

// --- constants -------------------------------------------------------------------------------------------

const DEFAULT_VERSION: Record<FakeAirflowTree, string> = { v1: "2.10.5", v2: "3.1.0" };
const GIT_VERSION = ".release:4f1a8f0ae292ac98b1226d7cfd4f778ef694d658";
const DEFAULT_TOKEN_TTL_SECONDS = 86_400;
/** Airflow's `[api] fallback_page_limit`; v2 declares its own default of 50 in the spec. */
const V1_DEFAULT_LIMIT = 100;
const V2_DEFAULT_LIMIT = 50;
const DAGS_FOLDER = "/opt/airflow/dags";
const LOGS_FOLDER = "/opt/airflow/logs";

// v1 runs connexion with strict_validation=True: any query parameter the spec does not declare is a 400.
// That is why `order_by` on the TI list fails on v1 (the v1 spec has none there, see the TI list entry in
// v1.yaml), and the fake keeps that 400 even if some 2.x release grew the parameter.
const V1_FIELDS = ["fields"] as const;
const V1_DAG_RUN_LIST_PARAMS = [
  "limit",
  "offset",
  "execution_date_gte",
  "execution_date_lte",
  "start_date_gte",
  "start_date_lte",
  "end_date_gte",
  "end_date_lte",
  "updated_at_gte",
  "updated_at_lte",
  "state",
  "order_by",
  "fields",
] as const;
const V1_TI_LIST_PARAMS = [
  "limit",
  "offset",
  "execution_date_gte",
  "execution_date_lte",
  "start_date_gte",
  "start_date_lte",
  "end_date_gte",
  "end_date_lte",
  "updated_at_gte",
  "updated_at_lte",
  "duration_gte",
  "duration_lte",
  "state",
  "pool",
  "queue",
  "executor",
] as const;
const V1_LOG_PARAMS = ["full_content", "map_index", "token"] as const;
const V1_IMPORT_ERROR_PARAMS = ["limit", "offset", "order_by"] as const;

// Sortable attributes (Airflow answers 400 "Ordering with 'x' is disallowed ..." for anything else).
const DAG_RUN_SORT: Record<FakeAirflowTree, readonly string[]> = {
  v1: [
    "id",
    "state",
    "dag_id",
    "execution_date",
    "dag_run_id",
    "start_date",
    "end_date",
    "updated_at",
    "external_trigger",
    "conf",
  ],
  v2: [
    "id",
    "state",
    "dag_id",
    "run_id",
    "dag_run_id",
    "logical_date",
    "run_after",
    "start_date",
    "end_date",
    "updated_at",
    "conf",
    "duration",
  ],
};
const TI_SORT_V2 = [
  "id",
  "task_id",
  "dag_id",
  "run_id",
  "dag_run_id",
  "map_index",
  "try_number",
  "state",
  "start_date",
  "end_date",
  "duration",
  "logical_date",
  "run_after",
  "operator",
  "hostname",
  "pool",
  "queue",
] as const;
const IMPORT_ERROR_SORT: Record<FakeAirflowTree, readonly string[]> = {
  v1: ["import_error_id", "timestamp", "filename"],
  v2: ["id", "import_error_id", "timestamp", "filename", "bundle_name", "stack_trace"],
};

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  500: "Internal Server Error",
};

const V1_ROUTE_NOT_FOUND =
  "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

// --- errors and replies ----------------------------------------------------------------------------------

interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** Links to the section of Airflow 2's API reference that names the error, as its problem `type` does. */
type V1ErrorKind = "BadRequest" | "NotFound" | "Unauthenticated";

/** An API refusal; rendered as v1 problem+json or v2 `{detail}` by the tree that raised it. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | null | ValidationIssue[],
    readonly extra: { title?: string; kind?: V1ErrorKind; headers?: Record<string, string> } = {},
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
  }
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

function jsonReply(status: number, payload: unknown): Reply {
  return { status, contentType: "application/json", body: JSON.stringify(payload) };
}

// --- time ------------------------------------------------------------------------------------------------

const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/** ISO 8601 / RFC 3339 text → epoch microseconds (naive means UTC, as Airflow assumes); undefined if bad. */
function parseInstant(text: string): number | undefined {
  const match = INSTANT_RE.exec(text);
  if (match === null) return undefined;
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i]));
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  // Date.UTC rolls over (Feb 30 → Mar 2); a real parser rejects such input.
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h)
    return undefined;
  let offsetMinutes = 0;
  const zone = match[8];
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * (zone[0] === "-" ? -1 : 1);
  }
  return (ms / 1000 - offsetMinutes * 60) * 1_000_000 + Number((match[7] ?? "").padEnd(6, "0"));
}

function requireInstant(text: string, what: string): number {
  const parsed = parseInstant(text);
  if (parsed === undefined) throw new Error(`fake Airflow: ${what} is not an ISO 8601 timestamp: ${text}`);
  return parsed;
}

function optionalInstant(text: string | null | undefined, what: string): number | null {
  return text === null || text === undefined ? null : requireInstant(text, what);
}

/** Airflow 2 (marshmallow) writes `+00:00`, Airflow 3 (pydantic) writes `Z`; fractions only when present. */
function formatInstant(micros: number | null, tree: FakeAirflowTree): string | null {
  if (micros === null) return null;
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const frac = fraction === 0 ? "" : `.${String(fraction).padStart(6, "0")}`;
  return `${base}${frac}${tree === "v1" ? "+00:00" : "Z"}`;
}

/** Airflow 2 serialises a timedelta as this object (DAGDetail.dag_run_timeout). */
function timeDeltaObject(totalSeconds: number): Record<string, unknown> {
  const wholeSeconds = Math.floor(totalSeconds);
  return {
    __type: "TimeDelta",
    days: Math.floor(wholeSeconds / 86_400),
    seconds: wholeSeconds % 86_400,
    microseconds: Math.round((totalSeconds - wholeSeconds) * 1_000_000),
  };
}

/** pydantic v2's ISO 8601 duration: days, then the rest as seconds ("PT7200S", "P1DT5S", "P1D", "PT0S"). */
function isoDuration(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  const rest = Math.round((totalSeconds - days * 86_400) * 1_000_000) / 1_000_000;
  const datePart = days === 0 ? "" : `${days}D`;
  if (rest === 0) return datePart === "" ? "PT0S" : `P${datePart}`;
  return `P${datePart}T${rest}S`;
}

/** `scheduled__2024-05-01T00:00:00+00:00` → its date (Airflow builds run ids that way). */
function instantFromRunId(runId: string): number | null {
  const match = /^[a-z_]+?__(.+)$/.exec(runId);
  return match?.[1] === undefined ? null : (parseInstant(match[1]) ?? null);
}

function runTypeFromRunId(runId: string): string {
  const prefix = /^(scheduled|manual|backfill|dataset_triggered|asset_triggered)__/.exec(runId)?.[1];
  return prefix ?? "manual";
}

// --- the data --------------------------------------------------------------------------------------------

interface DagRecord {
  dag_id: string;
  tags: string[];
  owners: string[];
  timeoutSeconds: number | null;
}

interface RunRecord {
  seq: number;
  dag_id: string;
  dag_run_id: string;
  state: string;
  start: number | null;
  end: number | null;
  /** Explicit or derived from the run id; null when neither says. */
  logical: number | null;
  run_type: string;
}

interface TiRecord {
  seq: number;
  id: string;
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  max_tries: number;
  state: string | null;
  start: number | null;
  end: number | null;
  operator: string | null;
  operator_name: string | null;
  hostname: string | null;
  sla_miss: { description: string | null; timestamp: number | null } | null;
}

interface ImportErrorRecord {
  id: number;
  filename: string;
  stack_trace: string;
  timestamp: number;
  bundle_name: string;
}

type SortValue = number | string | null;
interface SortKey {
  field: string;
  desc: boolean;
}

/** Postgres semantics: NULL sorts as the largest value (last ascending, first descending). */
function compareSortValues(a: SortValue, b: SortValue, desc: boolean): number {
  if (a === b) return 0;
  if (a === null) return desc ? -1 : 1;
  if (b === null) return desc ? 1 : -1;
  const order = a < b ? -1 : 1;
  return desc ? -order : order;
}

function sortBy<T extends { seq: number }>(
  items: T[],
  keys: SortKey[],
  value: (item: T, field: string) => SortValue,
): T[] {
  // The primary key breaks ties, so paging over equal sort values is stable (as Airflow 3 does).
  return [...items].sort((a, b) => {
    for (const key of keys) {
      const order = compareSortValues(value(a, key.field), value(b, key.field), key.desc);
      if (order !== 0) return order;
    }
    return a.seq - b.seq;
  });
}

/** SQL LIKE (Airflow 3 uses ILIKE) → RegExp. */
function likePattern(pattern: string): RegExp {
  const body = pattern
    .split("")
    .map((ch) => (ch === "%" ? ".*" : ch === "_" ? "." : ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "is");
}

// --- query parameters ------------------------------------------------------------------------------------

interface Range {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

function inRange(value: number | null, range: Range): boolean {
  const bounded =
    range.gte !== undefined || range.gt !== undefined || range.lte !== undefined || range.lt !== undefined;
  if (!bounded) return true;
  if (value === null) return false; // SQL: a comparison with NULL is never true
  if (range.gte !== undefined && value < range.gte) return false;
  if (range.gt !== undefined && value <= range.gt) return false;
  if (range.lte !== undefined && value > range.lte) return false;
  if (range.lt !== undefined && value >= range.lt) return false;
  return true;
}

/**
 * Reads query parameters the way each tree does: v1 (connexion + Airflow 2's parameter helpers) answers the
 * first problem with a 400 problem; v2 (FastAPI) collects every problem into one 422 `{detail: [...]}`.
 */
class QueryReader {
  private readonly issues: ValidationIssue[] = [];

  constructor(
    readonly tree: FakeAirflowTree,
    private readonly params: URLSearchParams,
  ) {}

  private problem(
    name: string,
    input: string,
    issue: Omit<ValidationIssue, "loc" | "input">,
    v1: string,
  ): void {
    if (this.tree === "v1") throw new ApiError(400, v1);
    this.issues.push({ ...issue, loc: ["query", name], input });
  }

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  /** Array parameters arrive as repeated keys (`state=failed&state=success`) in both trees. */
  list(name: string): string[] {
    return this.params.getAll(name);
  }

  int(name: string, options: { min?: number } = {}): number | undefined {
    const text = this.params.get(name);
    if (text === null) return undefined;
    if (!/^-?\d+$/.test(text.trim())) {
      this.problem(
        name,
        text,
        { type: "int_parsing", msg: "Input should be a valid integer, unable to parse string as an integer" },
        `'${text}' is not of type 'integer'`,
      );
      return undefined;
    }
    const value = Number(text);
    if (options.min !== undefined && value < options.min) {
      this.problem(
        name,
        text,
        {
          type: "greater_than_equal",
          msg: `Input should be greater than or equal to ${options.min}`,
          ctx: { ge: options.min },
        },
        `${value} is less than the minimum of ${options.min}`,
      );
      return undefined;
    }
    return value;
  }

  number(name: string): number | undefined {
    const text = this.params.get(name);
    if (text === null) return undefined;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) {
      this.problem(
        name,
        text,
        { type: "float_parsing", msg: "Input should be a valid number, unable to parse string as a number" },
        `'${text}' is not of type 'number'`,
      );
      return undefined;
    }
    return value;
  }

  bool(name: string): boolean | undefined {
    const text = this.params.get(name);
    if (text === null) return undefined;
    const lower = text.toLowerCase();
    if (["true", "1", "yes", "on"].includes(lower)) return true;
    if (["false", "0", "no", "off"].includes(lower)) return false;
    this.problem(
      name,
      text,
      { type: "bool_parsing", msg: "Input should be a valid boolean, unable to interpret input" },
      `'${text}' is not of type 'boolean'`,
    );
    return undefined;
  }

  instant(name: string): number | undefined {
    let text = this.params.get(name);
    if (text === null) return undefined;
    // Airflow 2's format_datetime turns a space back into '+': an unencoded "+00:00" offset still parses there.
    // FastAPI has no such repair, so v2 answers 422 (clients must send %2B).
    if (this.tree === "v1" && !text.endsWith("Z")) text = text.trim().replaceAll(" ", "+");
    const value = parseInstant(text);
    if (value === undefined) {
      this.problem(
        name,
        text,
        { type: "datetime_from_date_parsing", msg: "Input should be a valid datetime or date" },
        `Incorrect datetime argument: '${text}'`,
      );
    }
    return value;
  }

  /** `<field>_gte` / `_lte` on v1; v2 adds `_gt` / `_lt`. */
  range(field: string): Range {
    const range: Range = {};
    const gte = this.instant(`${field}_gte`);
    const lte = this.instant(`${field}_lte`);
    if (gte !== undefined) range.gte = gte;
    if (lte !== undefined) range.lte = lte;
    if (this.tree === "v2") {
      const gt = this.instant(`${field}_gt`);
      const lt = this.instant(`${field}_lt`);
      if (gt !== undefined) range.gt = gt;
      if (lt !== undefined) range.lt = lt;
    }
    return range;
  }

  numberRange(field: string): Range {
    const range: Range = {};
    const ops = this.tree === "v1" ? (["gte", "lte"] as const) : (["gte", "gt", "lte", "lt"] as const);
    for (const op of ops) {
      const value = this.number(`${field}_${op}`);
      if (value !== undefined) range[op] = value;
    }
    return range;
  }

  /** v1 takes one `order_by`; v2 takes it repeated, with a per-endpoint default. */
  orderBy(allowed: readonly string[], v2Default: string[]): SortKey[] {
    const values = this.tree === "v1" ? this.list("order_by").slice(0, 1) : this.list("order_by");
    const chosen = values.length > 0 ? values : this.tree === "v2" ? v2Default : [];
    return chosen.map((value) => {
      const field = value.replace(/^-/, "");
      if (!allowed.includes(field)) {
        throw new ApiError(
          400,
          `Ordering with '${field}' is disallowed or the attribute does not exist on the model`,
          { kind: "BadRequest" },
        );
      }
      return { field, desc: value.startsWith("-") };
    });
  }

  /** Airflow 2's check_limit: 0 means the fallback, negative is a 400; both trees cap at maximum_page_limit. */
  page(maxLimit: number): { limit: number; offset: number } {
    const offset = this.int("offset", { min: 0 }) ?? 0;
    if (this.tree === "v1") {
      const requested = this.int("limit") ?? V1_DEFAULT_LIMIT;
      if (requested < 0)
        throw new ApiError(400, "Page limit must be a positive integer", { kind: "BadRequest" });
      return { limit: Math.min(requested === 0 ? V1_DEFAULT_LIMIT : requested, maxLimit), offset };
    }
    const requested = this.int("limit", { min: 0 }) ?? V2_DEFAULT_LIMIT;
    return { limit: Math.min(requested, maxLimit), offset };
  }

  finish(): void {
    if (this.issues.length > 0) throw new ApiError(422, this.issues);
  }
}

function paged<T>(items: T[], page: { limit: number; offset: number }): T[] {
  return items.slice(page.offset, page.offset + page.limit);
}

/** TI states as the API filters them: "none" (and v2's "no_status") select rows without a state. */
function stateFilter(values: string[]): ((state: string | null) => boolean) | undefined {
  if (values.length === 0) return undefined;
  const wanted = new Set(values.map((value) => (value === "none" || value === "no_status" ? null : value)));
  return (state) => wanted.has(state);
}

// --- logs ------------------------------------------------------------------------------------------------

/** Python's repr() of a str, as Airflow 2 leaks it into the JSON log `content`. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structured entries rendered as an Airflow 2 task log would print them (for a v1 read of a v2-style log). */
function structuredToText(entries: Record<string, unknown>[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    const timestamp = typeof entry.timestamp === "string" ? `[${entry.timestamp}] ` : "";
    const logger = typeof entry.logger === "string" ? `{${entry.logger}} ` : "";
    const level = typeof entry.level === "string" ? `${entry.level.toUpperCase()} - ` : "";
    lines.push(`${timestamp}${logger}${level}${String(entry.event ?? "")}`);
    const details = Array.isArray(entry.error_detail) ? entry.error_detail : [];
    for (const detail of details) {
      if (!isRecord(detail)) continue;
      lines.push("Traceback (most recent call last):");
      for (const frame of Array.isArray(detail.frames) ? detail.frames : []) {
        if (!isRecord(frame)) continue;
        lines.push(
          `  File "${String(frame.filename)}", line ${String(frame.lineno)}, in ${String(frame.name)}`,
        );
      }
      lines.push(`${String(detail.exc_type)}: ${String(detail.exc_value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** What Airflow 3's file handler does with each log line: JSON lines become entries, the rest `{event}`. */
function textToStructured(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        if (isRecord(parsed) && typeof parsed.event === "string") return parsed;
      } catch {
        // Not JSON: a plain line.
      }
      return { event: line };
    });
}

/** werkzeug's Accept.best_match(["text/plain", "application/json"]) as Airflow 2's get_log uses it. */
function negotiateV1LogType(accept: string | undefined): "text/plain" | "application/json" {
  const offers = ["text/plain", "application/json"] as const;
  const ranges = (accept ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const [type = "", ...params] = part.split(";").map((piece) => piece.trim());
      const q = params.find((param) => param.startsWith("q="));
      return { type: type.toLowerCase(), q: q === undefined ? 1 : Number(q.slice(2)) };
    });
  let best: (typeof offers)[number] | undefined;
  let bestQuality = -1;
  let bestSpecificity = -1;
  for (const offer of offers) {
    const [offerMain] = offer.split("/");
    for (const range of ranges) {
      const [main, sub] = range.type.split("/");
      const matches = range.type === "*/*" || range.type === offer || (sub === "*" && main === offerMain);
      if (!matches || !(range.q > 0)) continue;
      const specificity = range.type === "*/*" ? 0 : sub === "*" ? 1 : 2;
      if (range.q > bestQuality || (range.q === bestQuality && specificity > bestSpecificity)) {
        best = offer;
        bestQuality = range.q;
        bestSpecificity = specificity;
      }
    }
  }
  // No Accept header (or nothing acceptable) falls back to JSON; "*/*" (fetch's default) picks text/plain.
  return best ?? "application/json";
}

function logKey(dagId: string, runId: string, taskId: string, mapIndex: number, tryNumber: number): string {
  return JSON.stringify([dagId, runId, taskId, mapIndex, tryNumber]);
}

// --- auth ------------------------------------------------------------------------------------------------

function authKind(header: string | undefined): FakeAirflowCall["auth"] {
  if (/^Basic\s/i.test(header ?? "")) return "basic";
  if (/^Bearer\s/i.test(header ?? "")) return "bearer";
  return "none";
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

// --- HTTP plumbing ---------------------------------------------------------------------------------------

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function decodePath(rawPath: string): string[] | undefined {
  try {
    return rawPath.split("/").map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

interface FaultRule {
  match: string | RegExp;
  fault: FakeAirflowFault;
  /** Matching requests still to let through before this rule fires (failAfter). */
  skip: number;
  remaining: number;
}

function pathMatches(match: string | RegExp, call: FakeAirflowCall): boolean {
  if (typeof match === "string") return call.path.endsWith(match) || call.rawPath.endsWith(match);
  match.lastIndex = 0;
  const decoded = match.test(call.path);
  match.lastIndex = 0;
  return decoded || match.test(call.rawPath);
}

interface Endpoint {
  /** The query parameters v1's spec declares for the route (connexion rejects any other). */
  v1Params: readonly string[];
  isPublic: boolean;
  /** Parses and validates the query; returns the work to do once the caller is authenticated. */
  prepare(query: QueryReader, headers: IncomingMessage["headers"]): () => Reply;
}

// --- the fake --------------------------------------------------------------------------------------------

export async function startFakeAirflow(options: FakeAirflowOptions): Promise<FakeAirflow> {
  const trees = new Set<FakeAirflowTree>(options.version === "both" ? ["v1", "v2"] : [options.version]);
  const username = options.username ?? "admin";
  let password = options.password ?? "admin";
  const staticTokens = new Set(options.staticTokens ?? []);
  const maxLimit = options.maxLimit ?? 100;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const jwtSecret = randomBytes(32);
  const versionOf = (tree: FakeAirflowTree): string => options.airflowVersion ?? DEFAULT_VERSION[tree];

  const dags = new Map<string, DagRecord>();
  const runs: RunRecord[] = [];
  const tis: TiRecord[] = [];
  const logs = new Map<string, FakeLog>();
  let importErrors: ImportErrorRecord[] = [];
  let nextImportErrorId = 1;
  let seq = 0;
  const issuedTokens = new Map<string, { expiresAtMs: number; revoked: boolean }>();
  const calls: FakeAirflowCall[] = [];
  let faults: FaultRule[] = [];

  // --- store helpers ---

  /** Every run and TI implies its DAG row, as in the metadata database. */
  function ensureDag(dagId: string): DagRecord {
    let dag = dags.get(dagId);
    if (dag === undefined) {
      dag = { dag_id: dagId, tags: [], owners: ["airflow"], timeoutSeconds: null };
      dags.set(dagId, dag);
    }
    return dag;
  }

  const findRun = (dagId: string, runId: string): RunRecord | undefined =>
    runs.find((run) => run.dag_id === dagId && run.dag_run_id === runId);

  const runExists = (dagId: string, runId: string): boolean =>
    findRun(dagId, runId) !== undefined || tis.some((ti) => ti.dag_id === dagId && ti.dag_run_id === runId);

  /** v1 execution_date is never null (falls back to the start); v2 logical_date may be. */
  function runLogical(run: RunRecord, tree: FakeAirflowTree): number | null {
    return tree === "v1" ? (run.logical ?? run.start) : run.logical;
  }

  function tiLogical(ti: TiRecord, tree: FakeAirflowTree): number | null {
    const run = findRun(ti.dag_id, ti.dag_run_id);
    if (run !== undefined) return runLogical(run, tree);
    const fromId = instantFromRunId(ti.dag_run_id);
    return tree === "v1" ? (fromId ?? ti.start) : fromId;
  }

  function tiRunAfter(ti: TiRecord): number | null {
    const run = findRun(ti.dag_id, ti.dag_run_id);
    return run !== undefined ? (run.logical ?? run.start) : (instantFromRunId(ti.dag_run_id) ?? ti.start);
  }

  const duration = (start: number | null, end: number | null): number | null =>
    start === null || end === null ? null : (end - start) / 1_000_000;

  // --- payloads ---

  function dagPayload(dag: DagRecord, tree: FakeAirflowTree, details: boolean): Record<string, unknown> {
    const fileloc = `${DAGS_FOLDER}/${dag.dag_id}.py`;
    const fileToken = base64url(fileloc);
    if (tree === "v1") {
      const base: Record<string, unknown> = {
        dag_id: dag.dag_id,
        dag_display_name: dag.dag_id,
        is_paused: false,
        is_active: true,
        last_parsed_time: null,
        last_pickled: null,
        last_expired: null,
        scheduler_lock: null,
        pickle_id: null,
        default_view: "grid",
        fileloc,
        file_token: fileToken,
        owners: [...dag.owners],
        description: null,
        schedule_interval: null,
        timetable_description: null,
        tags: dag.tags.map((name) => ({ name })),
        max_active_tasks: 16,
        max_active_runs: 16,
        has_task_concurrency_limits: false,
        has_import_errors: false,
        next_dagrun: null,
        next_dagrun_data_interval_start: null,
        next_dagrun_data_interval_end: null,
        next_dagrun_create_after: null,
        max_consecutive_failed_dag_runs: 0,
      };
      if (!details) return base;
      // Only DAGDetail (GET /dags/{id}/details) carries the timeout, under the name dag_run_timeout.
      return {
        ...base,
        timezone: "Timezone('UTC')",
        catchup: false,
        orientation: "LR",
        concurrency: 16,
        start_date: null,
        dag_run_timeout: dag.timeoutSeconds === null ? null : timeDeltaObject(dag.timeoutSeconds),
        dataset_expression: null,
        doc_md: null,
        params: {},
        end_date: null,
        is_paused_upon_creation: null,
        last_parsed: null,
        template_search_path: null,
        render_template_as_native_obj: false,
      };
    }
    const base: Record<string, unknown> = {
      dag_id: dag.dag_id,
      dag_display_name: dag.dag_id,
      is_paused: false,
      is_stale: false,
      last_parsed_time: null,
      last_expired: null,
      bundle_name: "dags-folder",
      bundle_version: null,
      relative_fileloc: `${dag.dag_id}.py`,
      fileloc,
      description: null,
      timetable_summary: null,
      timetable_description: null,
      tags: dag.tags.map((name) => ({ name, dag_id: dag.dag_id, dag_display_name: dag.dag_id })),
      max_active_tasks: 16,
      max_active_runs: 16,
      max_consecutive_failed_dag_runs: 0,
      has_task_concurrency_limits: false,
      has_import_errors: false,
      next_dagrun_logical_date: null,
      next_dagrun_data_interval_start: null,
      next_dagrun_data_interval_end: null,
      next_dagrun_run_after: null,
      owners: [...dag.owners],
      file_token: fileToken,
    };
    if (!details) return base;
    return {
      ...base,
      catchup: false,
      dag_run_timeout: dag.timeoutSeconds === null ? null : isoDuration(dag.timeoutSeconds),
      asset_expression: null,
      doc_md: null,
      start_date: null,
      end_date: null,
      is_paused_upon_creation: null,
      params: {},
      render_template_as_native_obj: false,
      template_search_path: null,
      timezone: "UTC",
      last_parsed: null,
      default_args: {},
      owner_links: {},
      concurrency: 16,
      latest_dag_version: null,
    };
  }

  function runPayload(run: RunRecord, tree: FakeAirflowTree): Record<string, unknown> {
    const logical = formatInstant(runLogical(run, tree), tree);
    if (tree === "v1") {
      return {
        dag_run_id: run.dag_run_id,
        dag_id: run.dag_id,
        logical_date: logical,
        execution_date: logical,
        start_date: formatInstant(run.start, tree),
        end_date: formatInstant(run.end, tree),
        data_interval_start: logical,
        data_interval_end: logical,
        last_scheduling_decision: formatInstant(run.end, tree),
        run_type: run.run_type === "asset_triggered" ? "dataset_triggered" : run.run_type,
        state: run.state,
        external_trigger: run.run_type === "manual",
        conf: {},
        note: null,
      };
    }
    return {
      dag_run_id: run.dag_run_id,
      dag_id: run.dag_id,
      logical_date: logical,
      queued_at: formatInstant(run.start, tree),
      start_date: formatInstant(run.start, tree),
      end_date: formatInstant(run.end, tree),
      duration: duration(run.start, run.end),
      data_interval_start: logical,
      data_interval_end: logical,
      run_after: formatInstant(run.logical ?? run.start, tree),
      last_scheduling_decision: formatInstant(run.end, tree),
      run_type: run.run_type === "dataset_triggered" ? "asset_triggered" : run.run_type,
      state: run.state,
      triggered_by: run.run_type === "scheduled" ? "timetable" : "rest_api",
      triggering_user_name: null,
      conf: {},
      note: null,
      dag_versions: [],
      bundle_version: null,
      dag_display_name: run.dag_id,
    };
  }

  function tiPayload(ti: TiRecord, tree: FakeAirflowTree): Record<string, unknown> {
    const logical = formatInstant(tiLogical(ti, tree), tree);
    const common = {
      task_id: ti.task_id,
      task_display_name: ti.task_id,
      dag_id: ti.dag_id,
      dag_run_id: ti.dag_run_id,
      start_date: formatInstant(ti.start, tree),
      end_date: formatInstant(ti.end, tree),
      duration: duration(ti.start, ti.end),
      state: ti.state,
      try_number: ti.try_number,
      map_index: ti.map_index,
      max_tries: ti.max_tries,
      unixname: "airflow",
      pool: "default_pool",
      pool_slots: 1,
      queue: "default",
      priority_weight: 1,
      operator: ti.operator,
      queued_when: formatInstant(ti.start, tree),
      pid: null,
      executor: null,
      executor_config: "{}",
      rendered_map_index: null,
      rendered_fields: {},
      trigger: null,
      triggerer_job: null,
      note: null,
    };
    if (tree === "v1") {
      return {
        ...common,
        execution_date: logical,
        hostname: ti.hostname ?? "",
        sla_miss:
          ti.sla_miss === null
            ? null
            : {
                task_id: ti.task_id,
                dag_id: ti.dag_id,
                execution_date: logical,
                email_sent: false,
                timestamp: formatInstant(ti.sla_miss.timestamp, tree),
                description: ti.sla_miss.description,
                notification_sent: false,
              },
      };
    }
    return {
      id: ti.id,
      ...common,
      logical_date: logical,
      run_after: formatInstant(tiRunAfter(ti), tree),
      dag_display_name: ti.dag_id,
      hostname: ti.hostname,
      operator_name: ti.operator_name,
      scheduled_when: null,
      dag_version: null,
    };
  }

  function importErrorPayload(error: ImportErrorRecord, tree: FakeAirflowTree): Record<string, unknown> {
    const base = {
      import_error_id: error.id,
      timestamp: formatInstant(error.timestamp, tree),
      filename: error.filename,
      stack_trace: error.stack_trace,
    };
    return tree === "v1" ? base : { ...base, bundle_name: error.bundle_name };
  }

  /** v1's `fields` parameter returns only the named keys. */
  function pickFields(payload: Record<string, unknown>, query: QueryReader): Record<string, unknown> {
    const fields = query.list("fields").flatMap((value) => value.split(","));
    if (fields.length === 0) return payload;
    return Object.fromEntries(Object.entries(payload).filter(([key]) => fields.includes(key)));
  }

  // --- endpoints ---

  function dagNotFound(tree: FakeAirflowTree, dagId: string): ApiError {
    return tree === "v1"
      ? new ApiError(404, `DAG with id: '${dagId}' not found`, { title: "DAG not found", kind: "NotFound" })
      : new ApiError(404, `Dag with id ${dagId} was not found`);
  }

  function versionEndpoint(tree: FakeAirflowTree): Endpoint {
    // Public in both: v1's get_version carries no security decorator, v2's route declares no security.
    return {
      v1Params: [],
      isPublic: true,
      prepare: () => () => jsonReply(200, { version: versionOf(tree), git_version: GIT_VERSION }),
    };
  }

  function dagEndpoint(tree: FakeAirflowTree, dagId: string, details: boolean): Endpoint {
    return {
      v1Params: V1_FIELDS,
      isPublic: false,
      prepare: (query) => () => {
        const dag = dags.get(dagId);
        if (dag === undefined) throw dagNotFound(tree, dagId);
        const payload = dagPayload(dag, tree, details);
        return jsonReply(200, tree === "v1" ? pickFields(payload, query) : payload);
      },
    };
  }

  function dagRunEndpoint(tree: FakeAirflowTree, dagId: string, runId: string): Endpoint {
    return {
      v1Params: V1_FIELDS,
      isPublic: false,
      prepare: (query) => () => {
        const run = findRun(dagId, runId);
        if (run === undefined) {
          throw tree === "v1"
            ? new ApiError(404, `DAGRun with DAG ID: '${dagId}' and DagRun ID: '${runId}' not found`, {
                title: "DAGRun not found",
                kind: "NotFound",
              })
            : new ApiError(
                404,
                `The DagRun with dag_id: \`${dagId}\` and run_id: \`${runId}\` was not found`,
              );
        }
        const payload = runPayload(run, tree);
        return jsonReply(200, tree === "v1" ? pickFields(payload, query) : payload);
      },
    };
  }

  function dagRunListEndpoint(tree: FakeAirflowTree, dagId: string): Endpoint {
    return {
      v1Params: V1_DAG_RUN_LIST_PARAMS,
      isPublic: false,
      prepare: (query) => {
        const page = query.page(maxLimit);
        const states = stateFilter(query.list("state"));
        const start = query.range("start_date");
        const end = query.range("end_date");
        const updated = query.range("updated_at");
        const logical = query.range(tree === "v1" ? "execution_date" : "logical_date");
        const runAfter = tree === "v2" ? query.range("run_after") : {};
        const runTypes = tree === "v2" ? query.list("run_type") : [];
        const runIdPattern = tree === "v2" ? query.string("run_id_pattern") : undefined;
        const order = query.orderBy(DAG_RUN_SORT[tree], ["id"]);
        return () => {
          // v2 checks the DAG exists; v1 just answers an empty list.
          if (tree === "v2" && dagId !== "~" && !dags.has(dagId)) {
            throw new ApiError(404, `The DAG with dag_id: \`${dagId}\` was not found`);
          }
          const pattern = runIdPattern === undefined ? undefined : likePattern(runIdPattern);
          const matching = runs.filter(
            (run) =>
              (dagId === "~" || run.dag_id === dagId) &&
              (states === undefined || states(run.state)) &&
              inRange(run.start, start) &&
              inRange(run.end, end) &&
              inRange(run.end ?? run.start, updated) &&
              inRange(runLogical(run, tree), logical) &&
              inRange(run.logical ?? run.start, runAfter) &&
              (runTypes.length === 0 || runTypes.includes(run.run_type)) &&
              (pattern === undefined || pattern.test(run.dag_run_id)),
          );
          const sorted = sortBy(matching, order, (run, field) => {
            switch (field) {
              case "state":
                return run.state;
              case "dag_id":
                return run.dag_id;
              case "run_id":
              case "dag_run_id":
                return run.dag_run_id;
              case "execution_date":
              case "logical_date":
                return runLogical(run, tree);
              case "run_after":
                return run.logical ?? run.start;
              case "start_date":
                return run.start;
              case "end_date":
                return run.end;
              case "updated_at":
                return run.end ?? run.start;
              case "duration":
                return duration(run.start, run.end);
              case "external_trigger":
                return run.run_type === "manual" ? 1 : 0;
              default:
                return run.seq;
            }
          });
          return jsonReply(200, {
            dag_runs: paged(sorted, page).map((run) => runPayload(run, tree)),
            total_entries: matching.length,
          });
        };
      },
    };
  }

  function taskInstanceListEndpoint(tree: FakeAirflowTree, dagId: string, runId: string): Endpoint {
    return {
      v1Params: V1_TI_LIST_PARAMS,
      isPublic: false,
      prepare: (query) => {
        const page = query.page(maxLimit);
        const states = stateFilter(query.list("state"));
        const start = query.range("start_date");
        const end = query.range("end_date");
        const updated = query.range("updated_at");
        const logical = query.range(tree === "v1" ? "execution_date" : "logical_date");
        const runAfter = tree === "v2" ? query.range("run_after") : {};
        const durationRange = query.numberRange("duration");
        const pools = query.list("pool");
        const queues = query.list("queue");
        const executors = query.list("executor");
        const taskId = tree === "v2" ? query.string("task_id") : undefined;
        const displayPattern = tree === "v2" ? query.string("task_display_name_pattern") : undefined;
        const tryNumbers = tree === "v2" ? query.list("try_number").map(Number) : [];
        const operators = tree === "v2" ? query.list("operator") : [];
        // v1 never reaches here with order_by (strict validation rejected it); v2 defaults to map_index.
        const order = tree === "v2" ? query.orderBy(TI_SORT_V2, ["map_index"]) : [];
        return () => {
          if (tree === "v2" && dagId !== "~" && !dags.has(dagId)) {
            throw new ApiError(404, `DAG with dag_id: \`${dagId}\` was not found`);
          }
          if (tree === "v2" && runId !== "~") {
            const known =
              dagId === "~"
                ? runs.some((run) => run.dag_run_id === runId) || tis.some((ti) => ti.dag_run_id === runId)
                : runExists(dagId, runId);
            if (!known) throw new ApiError(404, `DagRun with run_id: \`${runId}\` was not found`);
          }
          const pattern = displayPattern === undefined ? undefined : likePattern(displayPattern);
          const matching = tis.filter(
            (ti) =>
              (dagId === "~" || ti.dag_id === dagId) &&
              (runId === "~" || ti.dag_run_id === runId) &&
              (states === undefined || states(ti.state)) &&
              inRange(ti.start, start) &&
              inRange(ti.end, end) &&
              inRange(ti.end ?? ti.start, updated) &&
              inRange(tiLogical(ti, tree), logical) &&
              inRange(tiRunAfter(ti), runAfter) &&
              inRange(duration(ti.start, ti.end), durationRange) &&
              (pools.length === 0 || pools.includes("default_pool")) &&
              (queues.length === 0 || queues.includes("default")) &&
              executors.length === 0 && // every TI runs on the default executor (null)
              (taskId === undefined || ti.task_id === taskId) &&
              (pattern === undefined || pattern.test(ti.task_id)) &&
              (tryNumbers.length === 0 || tryNumbers.includes(ti.try_number)) &&
              (operators.length === 0 || (ti.operator !== null && operators.includes(ti.operator))),
          );
          const sorted = sortBy(matching, order, (ti, field) => {
            switch (field) {
              case "task_id":
                return ti.task_id;
              case "dag_id":
                return ti.dag_id;
              case "run_id":
              case "dag_run_id":
                return ti.dag_run_id;
              case "map_index":
                return ti.map_index;
              case "try_number":
                return ti.try_number;
              case "state":
                return ti.state;
              case "start_date":
                return ti.start;
              case "end_date":
                return ti.end;
              case "duration":
                return duration(ti.start, ti.end);
              case "logical_date":
                return tiLogical(ti, tree);
              case "run_after":
                return tiRunAfter(ti);
              case "operator":
                return ti.operator;
              case "hostname":
                return ti.hostname;
              case "pool":
                return "default_pool";
              case "queue":
                return "default";
              default:
                return ti.seq;
            }
          });
          return jsonReply(200, {
            task_instances: paged(sorted, page).map((ti) => tiPayload(ti, tree)),
            total_entries: matching.length,
          });
        };
      },
    };
  }

  function logEndpoint(
    tree: FakeAirflowTree,
    dagId: string,
    runId: string,
    taskId: string,
    tryText: string,
  ): Endpoint {
    return {
      v1Params: V1_LOG_PARAMS,
      isPublic: false,
      prepare: (query, headers) => {
        const validTry =
          tree === "v1" ? /^-?\d+$/.test(tryText) : /^\d+$/.test(tryText) && Number(tryText) > 0;
        if (!validTry) {
          if (tree === "v1") throw new ApiError(400, `'${tryText}' is not of type 'integer'`);
          throw new ApiError(422, [
            {
              type: "greater_than",
              loc: ["path", "try_number"],
              msg: "Input should be greater than 0",
              input: tryText,
              ctx: { gt: 0 },
            },
          ]);
        }
        const tryNumber = Number(tryText);
        const mapIndex = query.int("map_index") ?? -1;
        query.bool("full_content");
        return () => {
          const ti = tis.find(
            (candidate) =>
              candidate.dag_id === dagId &&
              candidate.dag_run_id === runId &&
              candidate.task_id === taskId &&
              candidate.map_index === mapIndex,
          );
          const log = logs.get(logKey(dagId, runId, taskId, mapIndex, tryNumber));
          if (ti === undefined || tryNumber > ti.try_number) {
            throw tree === "v1"
              ? new ApiError(404, null, { title: "TaskInstance not found", kind: "NotFound" })
              : new ApiError(404, "TaskInstance not found");
          }
          // Real Airflow answers 200 with a "*** Could not read served logs" note when the file is gone;
          // the fake answers 404 so tests can exercise the missing-log path deterministically.
          if (log === undefined || log === "missing") {
            throw tree === "v1"
              ? new ApiError(404, `No log for try ${tryNumber}`, { title: "Log not found", kind: "NotFound" })
              : new ApiError(404, `No log for try ${tryNumber}`);
          }
          if (tree === "v1") {
            const text = "text" in log ? log.text : structuredToText(log.structured);
            const hostname = ti.hostname ?? "";
            if (negotiateV1LogType(headers.accept) === "text/plain") {
              // The text stream prefixes each host's chunk with the host name line.
              return { status: 200, contentType: "text/plain", body: `${hostname}\n${text}\n` };
            }
            // Airflow 2 serialises the (host, text) tuples with str(): Python repr inside a JSON string.
            const content = `[(${pythonRepr(hostname)}, ${pythonRepr(text)})]`;
            const token = base64url(JSON.stringify({ end_of_log: true, log_pos: text.length }));
            return jsonReply(200, { continuation_token: token, content });
          }
          const attempt = `${mapIndex >= 0 ? `map_index=${mapIndex}/` : ""}attempt=${tryNumber}.log`;
          const source = `${LOGS_FOLDER}/dag_id=${dagId}/run_id=${runId}/task_id=${taskId}/${attempt}`;
          const entries = [
            { event: "::group::Log message source details", sources: [source] },
            { event: "::endgroup::" },
            ...("text" in log ? textToStructured(log.text) : log.structured.map((entry) => ({ ...entry }))),
          ];
          const stillRunning =
            tryNumber === ti.try_number && (ti.state === "running" || ti.state === "deferred");
          if ((headers.accept ?? "").trim().toLowerCase() === "application/x-ndjson") {
            return {
              status: 200,
              contentType: "application/x-ndjson",
              body: entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""),
            };
          }
          return jsonReply(200, {
            content: entries,
            continuation_token: stillRunning ? base64url(JSON.stringify({ end_of_log: false })) : null,
          });
        };
      },
    };
  }

  function importErrorListEndpoint(tree: FakeAirflowTree): Endpoint {
    return {
      v1Params: V1_IMPORT_ERROR_PARAMS,
      isPublic: false,
      prepare: (query) => {
        const page = query.page(maxLimit);
        const order = query.orderBy(IMPORT_ERROR_SORT[tree], ["id"]);
        return () => {
          const records = importErrors.map((error) => ({ ...error, seq: error.id }));
          const sorted = sortBy(records, order, (error, field) => {
            switch (field) {
              case "timestamp":
                return error.timestamp;
              case "filename":
                return error.filename;
              case "bundle_name":
                return error.bundle_name;
              case "stack_trace":
                return error.stack_trace;
              default:
                return error.id;
            }
          });
          return jsonReply(200, {
            import_errors: paged(sorted, page).map((error) => importErrorPayload(error, tree)),
            total_entries: records.length,
          });
        };
      },
    };
  }

  /** Routes below /api/{tree}; undefined when nothing matches. */
  function matchEndpoint(tree: FakeAirflowTree, parts: string[]): Endpoint | undefined {
    const [first, dagId, second, runId, third, taskId, fourth, tryText] = parts;
    if (parts.length === 1 && first === "version") return versionEndpoint(tree);
    if (parts.length === 1 && first === "importErrors") return importErrorListEndpoint(tree);
    if (first !== "dags" || dagId === undefined || dagId === "") return undefined;
    if (parts.length === 2) return dagEndpoint(tree, dagId, false);
    if (parts.length === 3 && second === "details") return dagEndpoint(tree, dagId, true);
    if (second !== "dagRuns") return undefined;
    if (parts.length === 3) return dagRunListEndpoint(tree, dagId);
    if (runId === undefined || runId === "") return undefined;
    if (parts.length === 4) return dagRunEndpoint(tree, dagId, runId);
    if (third !== "taskInstances") return undefined;
    if (parts.length === 5) return taskInstanceListEndpoint(tree, dagId, runId);
    if (parts.length === 8 && taskId !== undefined && fourth === "logs" && tryText !== undefined) {
      return logEndpoint(tree, dagId, runId, taskId, tryText);
    }
    return undefined;
  }

  // --- auth ---

  function authenticate(tree: FakeAirflowTree, header: string | undefined): void {
    const token = bearerToken(header);
    if (token !== undefined && staticTokens.has(token)) return;
    if (tree === "v1") {
      const credentials = basicCredentials(header);
      if (credentials?.username === username && credentials.password === password) return;
      throw new ApiError(401, null, {
        title: "Unauthorized",
        kind: "Unauthenticated",
        headers: { "www-authenticate": 'Basic realm="Authentication Required"' },
      });
    }
    if (token === undefined) {
      // OAuth2PasswordBearer: no bearer credentials at all (Basic included) is "Not authenticated".
      throw new ApiError(401, "Not authenticated", { headers: { "www-authenticate": "Bearer" } });
    }
    const issued = issuedTokens.get(token);
    // PyJWT: a bad signature or garbage is InvalidTokenError → 403; an expired one is 401.
    if (issued === undefined) throw new ApiError(403, "Invalid JWT token");
    if (issued.revoked || Date.now() >= issued.expiresAtMs) throw new ApiError(401, "Token Expired");
  }

  function issueToken(subject: string): string {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: "HS512", typ: "JWT" }));
    const payload = base64url(
      JSON.stringify({
        jti: randomUUID().replaceAll("-", ""),
        sub: subject,
        role: "ADMIN",
        aud: "apache-airflow",
        iss: "fake-airflow",
        iat: nowSeconds,
        nbf: nowSeconds,
        exp: nowSeconds + tokenTtlSeconds,
      }),
    );
    const signature = createHmac("sha512", jwtSecret).update(`${header}.${payload}`).digest("base64url");
    const token = `${header}.${payload}.${signature}`;
    issuedTokens.set(token, { expiresAtMs: (nowSeconds + tokenTtlSeconds) * 1000, revoked: false });
    return token;
  }

  /** The simple auth manager's `POST /auth/token` (FAB's takes the same body and answers the same shape). */
  function tokenEndpoint(method: string, contentType: string, body: string): Reply {
    if (method === "GET") {
      throw new ApiError(
        403,
        "This method is only allowed if ``[core] simple_auth_manager_all_admins`` is True",
      );
    }
    if (method !== "POST") throw new ApiError(405, "Method Not Allowed");
    const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
    let fields: Record<string, unknown>;
    if (mediaType === "application/json") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new ApiError(422, [
          { type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {}, ctx: { error: "" } },
        ]);
      }
      fields = isRecord(parsed) ? parsed : {};
    } else if (mediaType === "application/x-www-form-urlencoded") {
      fields = Object.fromEntries(new URLSearchParams(body));
    } else {
      throw new ApiError(415, "Unsupported Media Type");
    }
    const missing = ["username", "password"].filter((name) => typeof fields[name] !== "string");
    if (missing.length > 0) {
      throw new ApiError(
        422,
        missing.map((name) => ({
          type: "missing",
          loc: ["body", name],
          msg: "Field required",
          input: fields,
        })),
      );
    }
    if (fields.username === "" || fields.password === "") {
      throw new ApiError(400, "Username and password must be provided");
    }
    if (fields.username !== username || fields.password !== password) {
      throw new ApiError(401, "Invalid credentials");
    }
    return jsonReply(201, { access_token: issueToken(username) });
  }

  // --- dispatch ---

  function renderError(error: ApiError, tree: FakeAirflowTree | "plain"): Reply {
    const headers = error.extra.headers ?? {};
    if (tree === "v1") {
      const version = versionOf("v1");
      const type =
        error.extra.kind === undefined
          ? "about:blank"
          : `https://airflow.apache.org/docs/apache-airflow/${version}/stable-rest-api-ref.html#section/Errors/${error.extra.kind}`;
      return {
        status: error.status,
        contentType: "application/problem+json",
        body: JSON.stringify({
          detail: error.detail,
          status: error.status,
          title: error.extra.title ?? STATUS_TITLES[error.status] ?? "Error",
          type,
        }),
        headers,
      };
    }
    return { ...jsonReply(error.status, { detail: error.detail }), headers };
  }

  function answer(request: IncomingMessage, call: FakeAirflowCall, body: string): Reply {
    const method = request.method ?? "GET";
    const segments = decodePath(call.rawPath);
    const authHeader = request.headers.authorization;
    // An Airflow 3 server answers JSON for unknown paths; an Airflow 2 webserver answers its HTML 404 page.
    const fallbackTree: FakeAirflowTree | "plain" = trees.has("v2") ? "v2" : "plain";
    const notFound = (tree: FakeAirflowTree | "plain"): Reply =>
      tree === "plain"
        ? { status: 404, contentType: "text/html; charset=utf-8", body: "<h1>404 Not Found</h1>" }
        : renderError(new ApiError(404, tree === "v1" ? V1_ROUTE_NOT_FOUND : "Not Found"), tree);

    if (segments === undefined) return notFound(fallbackTree);
    const [, root, treeName, ...parts] = segments;

    if (root === "auth" && treeName === "token" && parts.length === 0 && trees.has("v2")) {
      try {
        return tokenEndpoint(method, request.headers["content-type"] ?? "", body);
      } catch (error) {
        if (error instanceof ApiError) return renderError(error, "v2");
        throw error;
      }
    }
    if (root !== "api" || (treeName !== "v1" && treeName !== "v2") || !trees.has(treeName)) {
      return notFound(fallbackTree);
    }
    const tree: FakeAirflowTree = treeName;
    const endpoint = matchEndpoint(tree, parts);
    if (endpoint === undefined) return notFound(tree);
    try {
      if (method !== "GET") throw new ApiError(405, tree === "v1" ? null : "Method Not Allowed");
      const query = new QueryReader(tree, call.query);
      if (tree === "v1") {
        // connexion validates the request before the view's security decorator runs.
        const extra = [...new Set(call.query.keys())].filter((name) => !endpoint.v1Params.includes(name));
        if (extra.length > 0)
          throw new ApiError(400, `Extra query parameter(s) ${extra.join(", ")} not in spec`);
        const run = endpoint.prepare(query, request.headers);
        if (!endpoint.isPublic) authenticate(tree, authHeader);
        return run();
      }
      // FastAPI resolves the security dependency first, then reports every invalid parameter at once.
      if (!endpoint.isPublic) authenticate(tree, authHeader);
      const run = endpoint.prepare(query, request.headers);
      query.finish();
      return run();
    } catch (error) {
      if (error instanceof ApiError) return renderError(error, tree);
      throw error;
    }
  }

  function takeFault(call: FakeAirflowCall): FakeAirflowFault | undefined {
    for (const rule of faults) {
      if (!pathMatches(rule.match, call)) continue;
      if (rule.skip > 0) {
        rule.skip -= 1;
        continue;
      }
      rule.remaining -= 1;
      if (rule.remaining <= 0) faults = faults.filter((candidate) => candidate !== rule);
      return rule.fault;
    }
    return undefined;
  }

  function send(response: ServerResponse, call: FakeAirflowCall, reply: Reply): void {
    call.status = reply.status;
    response
      .writeHead(reply.status, { "content-type": reply.contentType, ...(reply.headers ?? {}) })
      .end(reply.body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://fake-airflow.test");
    const rawPath = url.pathname;
    const call: FakeAirflowCall = {
      method: request.method ?? "GET",
      path: decodePath(rawPath)?.join("/") ?? rawPath,
      rawPath,
      query: url.searchParams,
      auth: authKind(request.headers.authorization),
      status: 0,
    };
    calls.push(call);

    const fault = takeFault(call);
    if (fault !== undefined && "drop" in fault) {
      request.socket.destroy();
      return;
    }
    if (fault !== undefined && "status" in fault) {
      const text = fault.body ?? `fake Airflow: injected HTTP ${fault.status}`;
      let contentType = "text/plain";
      try {
        JSON.parse(text);
        contentType = "application/json";
      } catch {
        // Not JSON: sent as plain text, like a proxy's error page.
      }
      send(response, call, { status: fault.status, contentType, body: text });
      return;
    }
    const reply = answer(request, call, body);
    if (fault !== undefined && "malformedJson" in fault) {
      const cut = reply.body.length > 1 ? reply.body.slice(0, Math.floor(reply.body.length / 2)) : "{";
      send(response, call, { status: 200, contentType: "application/json", body: cut });
      return;
    }
    send(response, call, reply);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the fake itself: make it visible to the client instead of hanging the request.
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end(`fake Airflow crashed: ${error instanceof Error ? error.stack : String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  function addFault(match: string | RegExp, fault: FakeAirflowFault, skip: number, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError("fake Airflow: times must be a positive integer");
    if (!Number.isInteger(skip) || skip < 0) throw new RangeError("fake Airflow: okCalls must be >= 0");
    faults.push({ match, fault, skip, remaining: times });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    addDag(input) {
      const dag = ensureDag(input.dag_id);
      if (input.tags !== undefined) dag.tags = [...input.tags];
      if (input.owners !== undefined) dag.owners = [...input.owners];
      if (input.dagrun_timeout_seconds !== undefined) dag.timeoutSeconds = input.dagrun_timeout_seconds;
    },
    addDagRun(input) {
      ensureDag(input.dag_id);
      const record: RunRecord = {
        seq: ++seq,
        dag_id: input.dag_id,
        dag_run_id: input.dag_run_id,
        state: input.state,
        start: requireInstant(input.start_date, "start_date"),
        end: optionalInstant(input.end_date, "end_date"),
        logical:
          input.logical_date === undefined
            ? instantFromRunId(input.dag_run_id)
            : requireInstant(input.logical_date, "logical_date"),
        run_type: input.run_type ?? runTypeFromRunId(input.dag_run_id),
      };
      const index = runs.findIndex(
        (run) => run.dag_id === input.dag_id && run.dag_run_id === input.dag_run_id,
      );
      if (index >= 0) runs[index] = { ...record, seq: runs[index]?.seq ?? record.seq };
      else runs.push(record);
    },
    addTaskInstance(input) {
      ensureDag(input.dag_id);
      const mapIndex = input.map_index ?? -1;
      const existing = tis.find(
        (ti) =>
          ti.dag_id === input.dag_id &&
          ti.dag_run_id === input.dag_run_id &&
          ti.task_id === input.task_id &&
          ti.map_index === mapIndex,
      );
      const ordinal = existing?.seq ?? ++seq;
      const record: TiRecord = {
        seq: ordinal,
        // UUIDv7-shaped and increasing with insertion, so ordering by id is insertion order (as in Airflow 3).
        id: existing?.id ?? `01900000-0000-7000-8000-${ordinal.toString(16).padStart(12, "0")}`,
        dag_id: input.dag_id,
        dag_run_id: input.dag_run_id,
        task_id: input.task_id,
        map_index: mapIndex,
        try_number: input.try_number,
        max_tries: input.max_tries ?? 0,
        state: input.state,
        start: optionalInstant(input.start_date, "start_date"),
        end: optionalInstant(input.end_date, "end_date"),
        operator: input.operator ?? null,
        operator_name: input.operator_name ?? input.operator ?? null,
        hostname: input.hostname ?? null,
        sla_miss:
          input.sla_miss === undefined || input.sla_miss === null
            ? null
            : {
                description: input.sla_miss.description ?? null,
                timestamp: optionalInstant(input.sla_miss.timestamp, "sla_miss.timestamp"),
              },
      };
      if (existing !== undefined) tis[tis.indexOf(existing)] = record;
      else tis.push(record);
    },
    setLog(key, log) {
      logs.set(logKey(key.dag_id, key.dag_run_id, key.task_id, key.map_index ?? -1, key.try_number), log);
    },
    setImportErrors(errors) {
      const previous = new Map(importErrors.map((error) => [error.filename, error]));
      const now = Date.now() * 1000;
      importErrors = errors.map((input) => ({
        id: previous.get(input.filename)?.id ?? nextImportErrorId++,
        filename: input.filename,
        stack_trace: input.stack_trace,
        timestamp: input.timestamp === undefined ? now : requireInstant(input.timestamp, "timestamp"),
        bundle_name: input.bundle_name ?? "dags-folder",
      }));
    },
    failNext(match, fault, times = 1) {
      addFault(match, fault, 0, times);
    },
    failAfter(match, okCalls, fault, times = 1) {
      addFault(match, fault, okCalls, times);
    },
    expireTokens() {
      for (const token of issuedTokens.values()) token.revoked = true;
    },
    changePassword(next) {
      password = next;
    },
    calls,
    callsTo: (match) => calls.filter((call) => pathMatches(match, call)),
    resetCalls() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Keep-alive sockets from the client's fetch would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
