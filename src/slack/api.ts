/**
 * The Slack operations the product uses, as one small interface. Two implementations: the Web API
 * (`web-api-slack.ts`, over the official @slack/web-api client) and the local outbox (`outbox-slack.ts`)
 * used when no bot token is configured. Failures are SlackCallErrors (see errors.ts).
 */
import type { SlackBlock } from "../core/render/index.js";

export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string>;
}

export interface PostMessageArgs {
  channel: string;
  text: string;
  blocks?: readonly SlackBlock[];
  threadTs?: string;
  metadata?: MessageMetadata;
}

export interface UpdateMessageArgs {
  channel: string;
  ts: string;
  text: string;
  blocks?: readonly SlackBlock[];
}

export interface SlackApi {
  /** "slack" for the Web API, "outbox" for the local file. */
  readonly kind: "slack" | "outbox";
  /**
   * Whether a stored channel id belongs to this target: roots written to the outbox are not in Slack (and the
   * other way round), so after switching targets they are posted afresh.
   */
  ownsChannel(channel: string): boolean;
  postMessage(args: PostMessageArgs): Promise<{ channel: string; ts: string }>;
  updateMessage(args: UpdateMessageArgs): Promise<void>;
  /** The root message's permalink, for DMs; null when Slack cannot give one. */
  getPermalink(channel: string, ts: string): Promise<string | null>;
  /** Opens (or reuses) the DM channel with a Slack user. */
  openDm(slackUserId: string): Promise<string>;
  /**
   * Finds a top-level message in `channel` posted between `oldestEpochSeconds` and `latestEpochSeconds`
   * (and after `newerThanTs`, when given) whose metadata has this event type and payload value; scans a
   * bounded number of history pages.
   */
  findMessageByMetadata(args: {
    channel: string;
    eventType: string;
    key: string;
    value: string;
    oldestEpochSeconds: number;
    latestEpochSeconds: number;
    newerThanTs?: string;
  }): Promise<string | null>;
  /** auth.test: who the token is (doctor, diagnostics). */
  authTest(): Promise<{ teamId: string | null; userId: string | null }>;
  /** Reads one message of the channel: fails (SlackCallError) if the bot cannot use it (doctor). */
  checkChannel(channel: string): Promise<void>;
}

/** Channel ids written by the outbox carry this prefix, so they are never taken for Slack channels. */
export const OUTBOX_CHANNEL_PREFIX = "outbox:";

/** Metadata event type on every root message: the group id in its payload finds a lost root again. */
export const ROOT_METADATA_EVENT = "observability_signal_group";

/** Compares Slack timestamps ("seconds.micros") numerically. */
export function tsAfter(a: string, b: string): boolean {
  const [as = "0", au = "0"] = a.split(".");
  const [bs = "0", bu = "0"] = b.split(".");
  return Number(as) !== Number(bs)
    ? Number(as) > Number(bs)
    : Number(au.padEnd(6, "0")) > Number(bu.padEnd(6, "0"));
}
