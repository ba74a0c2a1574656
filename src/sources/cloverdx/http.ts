/**
 * HTTP for CloverDX Server: Basic auth and the `X-Requested-By` header (CloverDX's CSRF guard rejects a
 * request without it) on every request, one timeout per attempt covering the body, bounded retries on
 * network errors and 5xx (the body is read inside the retry, so a connection cut mid-body is retried too),
 * and one ObservabilityError per failure that names the URL without credentials and what to check.
 */
import { ObservabilityError } from "../../errors.js";
import { networkReason, readBody } from "../http-body.js";

export interface CloverdxHttpOptions {
  /** Server URL, with or without the web context (`https://host:8080` means `https://host:8080/clover`). */
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
  /** Attempts after the first, on network errors and 5xx. */
  retries?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export type QueryValue = string | number | readonly (string | number)[] | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

export interface CloverdxHttp {
  /** The server URL with its context, safe to print. */
  readonly where: string;
  /** GET a JSON document; 404 is an error. */
  getJson(path: string, query?: Query): Promise<unknown>;
  /** GET a JSON document; null on 404. */
  getJsonOrNull(path: string, query?: Query): Promise<unknown | null>;
  /** GET text; null on 404. Over `maxBytes` only the tail is kept (a log's end is where its error is). */
  getText(
    path: string,
    query?: Query,
    options?: { maxBytes?: number; accept?: string },
  ): Promise<string | null>;
}

export const DEFAULT_CLOVERDX_TIMEOUT_MS = 30_000;
export const DEFAULT_TEXT_MAX_BYTES = 4 * 1024 * 1024;
/** Identifies the caller to the CSRF guard; the server does not check the value. */
export const REQUESTED_BY = "observability";

/** The server URL with its web context, without credentials, query or trailing slash. */
export function cloverdxRoot(baseUrl: string): URL {
  const u = new URL(baseUrl);
  u.username = "";
  u.password = "";
  u.search = "";
  u.hash = "";
  const path = u.pathname.replace(/\/+$/, "");
  u.pathname = path === "" ? "/clover" : path;
  return u;
}

export function describeCloverdxUrl(baseUrl: string): string {
  try {
    return cloverdxRoot(baseUrl).toString().replace(/\/+$/, "");
  } catch {
    return "(invalid CLOVERDX_BASE_URL)";
  }
}

function buildUrl(root: URL, path: string, query: Query | undefined): URL {
  const url = new URL(root.toString());
  url.pathname = `${root.pathname}${path}`;
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

class RetryableFailure extends Error {}

interface Answer {
  status: number;
  text: string;
}

export function createCloverdxHttp(options: CloverdxHttpOptions): CloverdxHttp {
  const root = cloverdxRoot(options.baseUrl);
  const where = describeCloverdxUrl(options.baseUrl);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLOVERDX_TIMEOUT_MS;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;

  const unreachable = (path: string, reason: string) =>
    new ObservabilityError(
      "cloverdx_unreachable",
      `CloverDX Server at ${where} is unreachable (${reason} on ${path} after ${retries + 1} attempts); check CLOVERDX_BASE_URL and that the server is up`,
    );
  const rejected = (path: string, status: number) =>
    new ObservabilityError(
      "cloverdx_auth",
      `CloverDX Server at ${where} rejected the credentials (HTTP ${status} on ${path}); check CLOVERDX_USERNAME and CLOVERDX_PASSWORD and that the user may read the execution history of the sandboxes`,
    );

  async function once(path: string, url: URL, accept: string, maxBytes: number): Promise<Answer> {
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { Accept: accept, Authorization: authorization, "X-Requested-By": REQUESTED_BY },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
    } catch (error) {
      throw new RetryableFailure(networkReason(error, timeoutMs, "request"));
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw new ObservabilityError(
        "cloverdx_bad_response",
        `CloverDX Server at ${where} redirected ${path} (HTTP ${response.status}); set CLOVERDX_BASE_URL to the server's own URL (a login page cannot be used by a batch job)`,
      );
    }
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      throw new RetryableFailure(`HTTP ${response.status}`);
    }
    try {
      const limit = { maxBytes: response.ok ? maxBytes : 64 * 1024, keep: "tail" as const };
      return { status: response.status, text: (await readBody(response, limit)).text };
    } catch (error) {
      throw new RetryableFailure(networkReason(error, timeoutMs, "body"));
    }
  }

  async function get(
    path: string,
    query: Query | undefined,
    accept: string,
    maxBytes: number,
  ): Promise<Answer> {
    const url = buildUrl(root, path, query);
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await once(path, url, accept, maxBytes);
        if (answer.status === 401 || answer.status === 403) throw rejected(path, answer.status);
        return answer;
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw error;
        if (attempt >= retries) throw unreachable(path, error.message);
        await sleep(retryDelayMs * 2 ** attempt);
      }
    }
  }

  function expectOk(answer: Answer, path: string): void {
    if (answer.status >= 200 && answer.status < 300) return;
    const t = answer.text.replace(/\s+/g, " ").trim();
    throw new ObservabilityError(
      "cloverdx_bad_response",
      `CloverDX Server at ${where} answered HTTP ${answer.status} on ${path}${t.length > 0 && t.length < 300 ? `: ${t}` : ""}${
        answer.status === 404
          ? "; check CLOVERDX_BASE_URL (with its web context, e.g. /clover) and CLOVERDX_API"
          : ""
      }`,
    );
  }

  function readJson(answer: Answer, path: string): unknown {
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ObservabilityError(
        "cloverdx_bad_response",
        `CloverDX Server at ${where} returned malformed JSON for ${path} (HTTP ${answer.status}, ${answer.text.length} characters); check that CLOVERDX_BASE_URL points at CloverDX Server, not a proxy's error page`,
      );
    }
  }

  return {
    where,
    async getJson(path, query) {
      const answer = await get(path, query, "application/json", DEFAULT_TEXT_MAX_BYTES * 16);
      expectOk(answer, path);
      return readJson(answer, path);
    },
    async getJsonOrNull(path, query) {
      const answer = await get(path, query, "application/json", DEFAULT_TEXT_MAX_BYTES * 16);
      if (answer.status === 404) return null;
      expectOk(answer, path);
      return readJson(answer, path);
    },
    async getText(path, query, opts) {
      const answer = await get(
        path,
        query,
        opts?.accept ?? "text/plain",
        opts?.maxBytes ?? DEFAULT_TEXT_MAX_BYTES,
      );
      if (answer.status === 404) return null;
      expectOk(answer, path);
      return answer.text;
    },
  };
}
