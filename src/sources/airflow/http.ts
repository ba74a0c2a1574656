/**
 * HTTP to one Airflow deployment: authentication (Basic, a static bearer token, or a JWT obtained from
 * `POST /auth/token` and renewed once on 401), a per-request timeout, bounded retries with backoff on 5xx and
 * network errors, and one clear error when Airflow cannot be used. Error messages name the URL without
 * credentials and never contain a password or token.
 *
 * The timeout covers the whole exchange, body included, so each attempt reads its body before it returns: a
 * stalled or reset body is retried like a refused connection. Redirects are not followed (a batch job cannot
 * log in to an SSO page); a 3xx is one clear error. Bodies can be capped: task logs reach tens of MB.
 */
import { ObservabilityError } from "../../errors.js";
import { type BodyLimit, discard, networkReason, readBody } from "../http-body.js";

export type AirflowAuth =
  | { kind: "basic"; username: string; password: string }
  | { kind: "token"; token: string }
  /** Airflow 3: username/password exchanged for a JWT. */
  | { kind: "jwt"; username: string; password: string };

export interface AirflowHttpOptions {
  baseUrl: string;
  auth: AirflowAuth;
  /** For the whole exchange of one attempt, reading the body included. */
  timeoutMs?: number;
  /** Attempts after the first, on network errors (while connecting or reading the body) and 5xx. */
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
  /**
   * The body as text with this Accept header; null on 404. A body over `maxBytes` (default
   * DEFAULT_TEXT_MAX_BYTES) keeps only its last `maxBytes`, from the first line that starts inside them, with
   * `truncated` set: for a log, the end is where the error is.
   */
  getText(
    path: string,
    query: Query,
    accept: string,
    options?: { maxBytes?: number },
  ): Promise<{ status: number; body: string; truncated: boolean } | null>;
  /**
   * Like getJson, but a 404 is null instead of an error. With `maxBytes`, a body over it is also null: it is
   * not parsed (nor read past the cap), for callers that can do without it, such as a giant structured log.
   */
  getJsonOrNull(path: string, query?: Query, options?: { maxBytes?: number }): Promise<unknown | null>;
  /** GET without credentials handling beyond the configured auth; returns status and parsed body or null. */
  probe(path: string): Promise<{ status: number; body: unknown }>;
}

export const DEFAULT_AIRFLOW_TIMEOUT_MS = 30_000;
/** getText keeps at most this much of a body (its tail). */
export const DEFAULT_TEXT_MAX_BYTES = 4 * 1024 * 1024;
/** Bodies of non-OK answers are only used for a short detail in the message. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;
/** `/version` is a few hundred bytes; anything much bigger is not Airflow. */
const PROBE_MAX_BYTES = 1024 * 1024;

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

/** One attempt's answer, body already read. */
interface Answer {
  status: number;
  ok: boolean;
  text: string;
  /** The body was over its limit: `text` is its tail, or empty when the limit keeps nothing. */
  truncated: boolean;
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
  /** Names only the target's scheme and host: its path or query may carry a session or return URL. */
  const redirected = (path: string, status: number, location: string | null, from: URL) => {
    let target = "another URL (no Location header)";
    if (location !== null) {
      try {
        const to = new URL(location, from);
        target = `${to.protocol}//${to.host}`;
      } catch {
        target = "an invalid Location";
      }
    }
    return new ObservabilityError(
      "airflow_bad_response",
      `Airflow at ${where} redirected ${path} to ${target} (HTTP ${status}); set AIRFLOW_BASE_URL to the API server's own URL (an SSO login page cannot be used by a batch job)`,
    );
  };

  /**
   * One attempt, body included, under one timeout. Network errors (while connecting or reading) and 5xx
   * become RetryableFailure; a 3xx is a final error. `limit` applies to OK bodies only.
   */
  async function once(path: string, url: URL, init: RequestInit, limit?: BodyLimit): Promise<Answer> {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    } catch (error) {
      throw new RetryableFailure(networkReason(error, timeoutMs, "request"));
    }
    if (response.status >= 300 && response.status < 400) {
      await discard(response);
      throw redirected(path, response.status, response.headers.get("location"), url);
    }
    if (response.status >= 500) {
      await discard(response);
      throw new RetryableFailure(`HTTP ${response.status}`, response.status);
    }
    try {
      const body = await readBody(
        response,
        response.ok ? limit : { maxBytes: ERROR_BODY_MAX_BYTES, keep: "nothing" },
      );
      return { status: response.status, ok: response.ok, ...body };
    } catch (error) {
      throw new RetryableFailure(networkReason(error, timeoutMs, "body"));
    }
  }

  async function withRetries(path: string, fn: () => Promise<Answer>): Promise<Answer> {
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
    const answer = await withRetries(path, () =>
      once(path, buildUrl(options.baseUrl, path, undefined), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password }),
      }),
    );
    if (answer.status === 401 || answer.status === 403) throw rejected(path, answer.status);
    const body = answer.ok ? readJson(answer, path) : null;
    const token = (body as { access_token?: unknown } | null)?.access_token;
    if (!answer.ok || typeof token !== "string" || token === "") {
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${where} answered ${path} with HTTP ${answer.status} and no access_token; check that it is Airflow 3 with an auth manager that issues tokens, or set AIRFLOW_TOKEN`,
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
  async function get(
    path: string,
    query: Query | undefined,
    accept: string,
    limit?: BodyLimit,
  ): Promise<Answer> {
    const url = buildUrl(options.baseUrl, path, query);
    const send = async () =>
      withRetries(path, async () =>
        once(path, url, { headers: { Accept: accept, ...(await authHeaders()) } }, limit),
      );
    let answer = await send();
    if (answer.status === 401 && options.auth.kind === "jwt") {
      jwt = null;
      answer = await send();
    }
    if (answer.status === 401 || answer.status === 403) throw rejected(path, answer.status);
    return answer;
  }

  function readJson(answer: Answer, path: string): unknown {
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ObservabilityError(
        "airflow_bad_response",
        `Airflow at ${where} returned malformed JSON for ${path} (HTTP ${answer.status}, ${answer.text.length} characters); check that AIRFLOW_BASE_URL points at the Airflow API server, not a proxy's error page`,
      );
    }
  }

  function expectOk(answer: Answer, path: string): void {
    if (answer.ok) return;
    const text = answer.text;
    const detail = text.length > 0 && text.length < 300 ? `: ${text.replace(/\s+/g, " ").trim()}` : "";
    throw new ObservabilityError(
      "airflow_bad_response",
      `Airflow at ${where} answered HTTP ${answer.status} on ${path}${detail}`,
    );
  }

  return {
    where,
    async getJson(path, query) {
      const answer = await get(path, query, "application/json");
      expectOk(answer, path);
      return readJson(answer, path);
    },
    async getJsonOrNull(path, query, opts) {
      const limit: BodyLimit | undefined =
        opts?.maxBytes === undefined ? undefined : { maxBytes: opts.maxBytes, keep: "nothing" };
      const answer = await get(path, query, "application/json", limit);
      if (answer.status === 404) return null;
      expectOk(answer, path);
      if (answer.truncated) return null;
      return readJson(answer, path);
    },
    async getText(path, query, accept, opts) {
      const limit: BodyLimit = { maxBytes: opts?.maxBytes ?? DEFAULT_TEXT_MAX_BYTES, keep: "tail" };
      const answer = await get(path, query, accept, limit);
      if (answer.status === 404) return null;
      expectOk(answer, path);
      return { status: answer.status, body: answer.text, truncated: answer.truncated };
    },
    async probe(path) {
      const answer = await withRetries(path, async () =>
        once(
          path,
          buildUrl(options.baseUrl, path, undefined),
          {
            headers: {
              Accept: "application/json",
              ...(options.auth.kind === "jwt" ? {} : await authHeaders()),
            },
          },
          { maxBytes: PROBE_MAX_BYTES, keep: "nothing" },
        ),
      );
      let body: unknown = null;
      try {
        body = JSON.parse(answer.text);
      } catch {
        body = null;
      }
      return { status: answer.status, body };
    },
  };
}
