/**
 * HTTP to one Airflow deployment: authentication (Basic, a static bearer token, or a JWT obtained from
 * `POST /auth/token` and renewed once on 401), a per-request timeout, bounded retries with backoff on 5xx and
 * network errors, and one clear error when Airflow cannot be used. Error messages name the URL without
 * credentials and never contain a password or token.
 */
import { ObservabilityError } from "../../errors.js";

export type AirflowAuth =
  | { kind: "basic"; username: string; password: string }
  | { kind: "token"; token: string }
  /** Airflow 3: username/password exchanged for a JWT. */
  | { kind: "jwt"; username: string; password: string };

export interface AirflowHttpOptions {
  baseUrl: string;
  auth: AirflowAuth;
  timeoutMs?: number;
  /** Attempts after the first, on network errors and 5xx. */
  retries?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export type QueryValue = string | number | readonly (string | number)[] | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

export interface AirflowHttp {
  /** The base URL, safe to print (no credentials). */
  readonly where: string;
  getJson(path: string, query?: Query): Promise<unknown>;
  /** The body as text with this Accept header; null on 404. */
  getText(path: string, query: Query, accept: string): Promise<{ status: number; body: string } | null>;
  /** Like getJson, but a 404 is null instead of an error. */
  getJsonOrNull(path: string, query?: Query): Promise<unknown | null>;
  /** GET without credentials handling beyond the configured auth; returns status and parsed body or null. */
  probe(path: string): Promise<{ status: number; body: unknown }>;
}

export const DEFAULT_AIRFLOW_TIMEOUT_MS = 30_000;

/** The base URL without user info, query or trailing slash: what every message names. */
export function describeBaseUrl(baseUrl: string): string {
  try {
    const u = new URL(baseUrl);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return "(invalid AIRFLOW_BASE_URL)";
  }
}

function buildUrl(baseUrl: string, path: string, query: Query | undefined): URL {
  const base = new URL(baseUrl);
  base.username = "";
  base.password = "";
  const url = new URL(`${base.pathname.replace(/\/+$/, "")}${path}`, base);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    // Repeated keys for arrays (state=failed&state=success), as both API versions expect.
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

class RetryableFailure extends Error {
  constructor(
    readonly reason: string,
    readonly status?: number,
  ) {
    super(reason);
  }
}

export function createAirflowHttp(options: AirflowHttpOptions): AirflowHttp {
  const where = describeBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_AIRFLOW_TIMEOUT_MS;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let jwt: string | null = null;

  const unreachable = (path: string, reason: string) =>
    new ObservabilityError(
      "airflow_unreachable",
      `Airflow at ${where} is unreachable (${reason} on ${path} after ${retries + 1} attempts); check AIRFLOW_BASE_URL and that the Airflow API server is up`,
    );
  const rejected = (path: string, status: number) =>
    new ObservabilityError(
      "airflow_auth",
      `Airflow at ${where} rejected the credentials (HTTP ${status} on ${path}); check ${
        options.auth.kind === "token" ? "AIRFLOW_TOKEN" : "AIRFLOW_USERNAME and AIRFLOW_PASSWORD"
      } and that the user may read DAGs, DAG runs, task instances, logs and import errors`,
    );

  /** One request with the timeout; network errors and 5xx become RetryableFailure. */
  async function once(url: URL, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const name = (error as { name?: string }).name;
      throw new RetryableFailure(
        name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (cause?.code ?? "network error"),
      );
    }
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      throw new RetryableFailure(`HTTP ${response.status}`, response.status);
    }
    return response;
  }

  async function withRetries(path: string, fn: () => Promise<Response>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw error;
        if (attempt >= retries) throw unreachable(path, error.reason);
        await sleep(retryDelayMs * 2 ** attempt);
      }
    }
  }

  async function obtainJwt(): Promise<string> {
    if (options.auth.kind !== "jwt") throw new Error("obtainJwt without jwt auth");
    const { username, password } = options.auth;
    const path = "/auth/token";
    const response = await withRetries(path, () =>
      once(buildUrl(options.baseUrl, path, undefined), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password }),
      }),
    );
    if (response.status === 401 || response.status === 403) throw rejected(path, response.status);
    const body = await readJson(response, path);
    const token = (body as { access_token?: unknown } | null)?.access_token;
    if (!response.ok || typeof token !== "string" || token === "") {
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${where} answered ${path} with HTTP ${response.status} and no access_token; check that it is Airflow 3 with an auth manager that issues tokens, or set AIRFLOW_TOKEN`,
      );
    }
    return token;
  }

  async function authHeaders(): Promise<Record<string, string>> {
    switch (options.auth.kind) {
      case "basic":
        return {
          Authorization: `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString("base64")}`,
        };
      case "token":
        return { Authorization: `Bearer ${options.auth.token}` };
      case "jwt":
        jwt ??= await obtainJwt();
        return { Authorization: `Bearer ${jwt}` };
    }
  }

  /** GET with auth; on 401 with a JWT, one renewal and one more try. */
  async function get(path: string, query: Query | undefined, accept: string): Promise<Response> {
    const url = buildUrl(options.baseUrl, path, query);
    const send = async () =>
      withRetries(path, async () => once(url, { headers: { Accept: accept, ...(await authHeaders()) } }));
    let response = await send();
    if (response.status === 401 && options.auth.kind === "jwt") {
      await response.body?.cancel().catch(() => undefined);
      jwt = null;
      response = await send();
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw rejected(path, response.status);
    }
    return response;
  }

  async function readJson(response: Response, path: string): Promise<unknown> {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${where} returned malformed JSON for ${path} (HTTP ${response.status}, ${text.length} bytes); check that AIRFLOW_BASE_URL points at the Airflow API server, not a proxy's error page`,
      );
    }
  }

  async function expectOk(response: Response, path: string): Promise<unknown> {
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      const detail = text.length > 0 && text.length < 300 ? `: ${text.replace(/\s+/g, " ").trim()}` : "";
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${where} answered HTTP ${response.status} on ${path}${detail}`,
      );
    }
    return readJson(response, path);
  }

  return {
    where,
    async getJson(path, query) {
      return expectOk(await get(path, query, "application/json"), path);
    },
    async getJsonOrNull(path, query) {
      const response = await get(path, query, "application/json");
      if (response.status === 404) {
        await response.body?.cancel().catch(() => undefined);
        return null;
      }
      return expectOk(response, path);
    },
    async getText(path, query, accept) {
      const response = await get(path, query, accept);
      if (response.status === 404) {
        await response.body?.cancel().catch(() => undefined);
        return null;
      }
      if (!response.ok) await expectOk(response, path);
      return { status: response.status, body: await response.text() };
    },
    async probe(path) {
      const response = await withRetries(path, async () =>
        once(buildUrl(options.baseUrl, path, undefined), {
          headers: {
            Accept: "application/json",
            ...(options.auth.kind === "jwt" ? {} : await authHeaders()),
          },
        }),
      );
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      return { status: response.status, body };
    },
  };
}
