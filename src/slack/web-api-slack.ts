/**
 * The Slack Web API adapter, over the official @slack/web-api client, set up for a batch job: a request
 * timeout, a few quick retries for network errors and 5xx only, and 429 handed back to us (the caller
 * decides whether the Retry-After fits in the run) instead of the library's default of ten retries over
 * half an hour.
 */
import {
  ErrorCode,
  LogLevel,
  type Logger as SlackLogger,
  type WebAPICallResult,
  WebClient,
} from "@slack/web-api";
import type { Logger } from "../log.js";
import {
  type MessageMetadata,
  OUTBOX_CHANNEL_PREFIX,
  type PostMessageArgs,
  type SlackApi,
  tsAfter,
  type UpdateMessageArgs,
} from "./api.js";
import { SlackCallError } from "./errors.js";

export interface WebApiSlackOptions {
  token: string;
  apiUrl: string;
  log: Logger;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** Retries after a network error or 5xx (not after 429, not after an `ok: false` answer). */
  retries?: number;
  /** First retry delay (ms); doubles up to 4x. */
  retryDelayMs?: number;
  /** History pages scanned when looking for a lost root message. */
  maxHistoryPages?: number;
}

export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;
export const DEFAULT_SLACK_RETRIES = 2;

/** The library logs through this; its chatter goes to our debug level, never to stdout. */
function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  const write = (args: unknown[]) => log.debug({ slack_client: args.map(String).join(" ") }, "slack client");
  return {
    debug: (...args) => (level === LogLevel.DEBUG ? write(args) : undefined),
    info: (...args) => (level === LogLevel.DEBUG || level === LogLevel.INFO ? write(args) : undefined),
    warn: (...args) => write(args),
    error: (...args) => write(args),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export function createWebApiSlack(options: WebApiSlackOptions): SlackApi {
  const retryDelay = options.retryDelayMs ?? 500;
  const makeClient = (retries: number) =>
    new WebClient(options.token, {
      slackApiUrl: options.apiUrl,
      logger: slackLogger(options.log),
      logLevel: LogLevel.WARN,
      timeout: options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
      rejectRateLimitedCalls: true,
      retryConfig: {
        retries,
        factor: 2,
        minTimeout: retryDelay,
        maxTimeout: retryDelay * 4,
        randomize: false,
      },
      // A configured API URL is the only place requests may go.
      allowAbsoluteUrls: false,
    });
  const client = makeClient(options.retries ?? DEFAULT_SLACK_RETRIES);
  // Posting is not idempotent: a request that timed out may have been delivered, and resending it would post
  // twice. Posts are never retried here; the sync's intent marker and metadata search recover a lost post.
  const postClient = makeClient(0);
  const maxHistoryPages = options.maxHistoryPages ?? 5;

  async function call(method: string, args: Record<string, unknown>): Promise<WebAPICallResult> {
    try {
      return await (method === "chat.postMessage" ? postClient : client).apiCall(method, args);
    } catch (error) {
      throw toSlackCallError(method, error);
    }
  }

  return {
    kind: "slack",
    ownsChannel: (channel) => !channel.startsWith(OUTBOX_CHANNEL_PREFIX),
    async postMessage(args: PostMessageArgs) {
      const result = await call("chat.postMessage", {
        channel: args.channel,
        text: args.text,
        ...(args.blocks ? { blocks: args.blocks } : {}),
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        ...(args.metadata ? { metadata: args.metadata } : {}),
        // Our texts carry their own links; Slack's previews would bury the message.
        unfurl_links: false,
        unfurl_media: false,
      });
      const channel = stringField(result, "channel");
      const ts = stringField(result, "ts");
      if (channel === undefined || ts === undefined) {
        throw new SlackCallError({ method: "chat.postMessage", slackError: "malformed_response" });
      }
      return { channel, ts };
    },
    async updateMessage(args: UpdateMessageArgs) {
      await call("chat.update", {
        channel: args.channel,
        ts: args.ts,
        text: args.text,
        // An empty array clears blocks left by an earlier rich version of the message.
        blocks: args.blocks ?? [],
      });
    },
    async getPermalink(channel, ts) {
      const result = await call("chat.getPermalink", { channel, message_ts: ts });
      return stringField(result, "permalink") ?? null;
    },
    async openDm(slackUserId) {
      const result = await call("conversations.open", { users: slackUserId, return_im: false });
      const channel = (result as { channel?: { id?: unknown } }).channel?.id;
      if (typeof channel !== "string") {
        throw new SlackCallError({ method: "conversations.open", slackError: "malformed_response" });
      }
      return channel;
    },
    async findMessageByMetadata(args) {
      let cursor: string | undefined;
      for (let page = 0; page < maxHistoryPages; page++) {
        const result = await call("conversations.history", {
          channel: args.channel,
          oldest: String(args.oldestEpochSeconds),
          latest: String(args.latestEpochSeconds),
          inclusive: true,
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        const messages = (result as { messages?: unknown }).messages;
        if (Array.isArray(messages)) {
          for (const m of messages as { ts?: unknown; metadata?: Partial<MessageMetadata> }[]) {
            if (
              m.metadata?.event_type === args.eventType &&
              m.metadata.event_payload?.[args.key] === args.value &&
              typeof m.ts === "string" &&
              (args.newerThanTs === undefined || tsAfter(m.ts, args.newerThanTs))
            ) {
              return m.ts;
            }
          }
        }
        cursor = result.response_metadata?.next_cursor || undefined;
        if (cursor === undefined) return null;
      }
      return null;
    },
    async checkChannel(channel) {
      await call("conversations.history", { channel, limit: 1 });
    },
    async authTest() {
      const result = await call("auth.test", {});
      return {
        teamId: stringField(result, "team_id") ?? null,
        userId: stringField(result, "user_id") ?? null,
      };
    },
  };
}

function stringField(result: WebAPICallResult, key: string): string | undefined {
  const value = (result as unknown as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

/** Turns whatever the client threw into a SlackCallError (never carrying the token). */
export function toSlackCallError(method: string, error: unknown): SlackCallError {
  if (error instanceof SlackCallError) return error;
  const coded = error as { code?: unknown; data?: unknown; retryAfter?: unknown; statusCode?: unknown };
  switch (coded.code) {
    case ErrorCode.PlatformError: {
      const data = (coded.data ?? {}) as { error?: unknown; response_metadata?: { messages?: unknown } };
      const messages = data.response_metadata?.messages;
      return new SlackCallError({
        method,
        slackError: typeof data.error === "string" ? data.error : "unknown_error",
        details: Array.isArray(messages) ? messages.map(String) : [],
      });
    }
    case ErrorCode.RateLimitedError:
      return new SlackCallError({
        method,
        slackError: "rate_limited",
        category: "rate_limited",
        retryAfterSeconds: typeof coded.retryAfter === "number" ? coded.retryAfter : 60,
      });
    case ErrorCode.HTTPError:
      return new SlackCallError({
        method,
        slackError: `http_${String(coded.statusCode)}`,
        category: "transient",
        cause: error,
      });
    case ErrorCode.RequestError: {
      const original = (error as { original?: { name?: string; message?: string } }).original;
      const timedOut = original?.name === "TimeoutError" || original?.name === "AbortError";
      return new SlackCallError({
        method,
        slackError: timedOut ? "timeout" : "network",
        category: "transient",
        details: original?.message ? [original.message] : [],
      });
    }
    default:
      return new SlackCallError({
        method,
        slackError: "network",
        category: "transient",
        details: [error instanceof Error ? error.message : String(error)],
      });
  }
}
