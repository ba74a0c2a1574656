/**
 * The local Slack: with no SLACK_BOT_TOKEN, everything the product would send is appended as JSON lines to
 * a file in the data directory, so the jobs run end to end on a laptop and a person can read what Slack
 * would have shown. It answers like Slack (channel ids, increasing ts), so the sync's bookkeeping is the
 * same in both modes.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { type MessageMetadata, OUTBOX_CHANNEL_PREFIX, type SlackApi, tsAfter } from "./api.js";

export const OUTBOX_FILE = "slack-outbox.jsonl";
/** Channel named in the outbox when SLACK_SHARED_CHANNEL_ID is not set either. */
export const OUTBOX_CHANNEL = "shared";

interface OutboxLine {
  at: string;
  method: string;
  channel: string;
  ts?: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown;
  metadata?: MessageMetadata;
}

export function createOutboxSlack(path: string, clock: () => Date): SlackApi {
  let last: number | undefined;
  /** Slack-style ts ("seconds.micro"), unique and increasing within this process and after earlier runs. */
  const nextTs = () => {
    last ??= lastTsInFile(path);
    const micros = Math.max(clock().getTime() * 1000, last + 1);
    last = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  };
  const write = (line: Omit<OutboxLine, "at">) => {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify({ at: clock().toISOString(), ...line })}\n`);
  };
  // Every channel id handed out is marked as the outbox's, so it is never mistaken for a Slack channel.
  const mark = (channel: string) =>
    channel.startsWith(OUTBOX_CHANNEL_PREFIX) ? channel : `${OUTBOX_CHANNEL_PREFIX}${channel}`;
  return {
    kind: "outbox",
    ownsChannel: (channel) => channel.startsWith(OUTBOX_CHANNEL_PREFIX),
    async postMessage(args) {
      const ts = nextTs();
      const channel = mark(args.channel);
      write({
        method: "chat.postMessage",
        channel,
        ts,
        text: args.text,
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        ...(args.blocks ? { blocks: args.blocks } : {}),
        ...(args.metadata ? { metadata: args.metadata } : {}),
      });
      return { channel, ts };
    },
    async updateMessage(args) {
      write({
        method: "chat.update",
        channel: args.channel,
        ts: args.ts,
        text: args.text,
        ...(args.blocks ? { blocks: args.blocks } : {}),
      });
    },
    async getPermalink() {
      return null;
    },
    async openDm(slackUserId) {
      return mark(`D${slackUserId.replace(/^U/, "")}`);
    },
    async findMessageByMetadata(args) {
      for (const line of readLines(path).reverse()) {
        if (
          line.method === "chat.postMessage" &&
          line.channel === mark(args.channel) &&
          (args.newerThanTs === undefined || tsAfter(line.ts ?? "0", args.newerThanTs)) &&
          line.metadata?.event_type === args.eventType &&
          line.metadata.event_payload[args.key] === args.value &&
          line.ts !== undefined
        ) {
          return line.ts;
        }
      }
      return null;
    },
    async checkChannel() {},
    async authTest() {
      return { teamId: null, userId: null };
    },
  };
}

function readLines(path: string): OutboxLine[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: OutboxLine[] = [];
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    try {
      out.push(JSON.parse(raw) as OutboxLine);
    } catch {
      // A torn last line from a killed run: skip it.
    }
  }
  return out;
}

function lastTsInFile(path: string): number {
  let max = 0;
  for (const line of readLines(path)) {
    if (line.ts === undefined) continue;
    const [s, us] = line.ts.split(".");
    const micros = Number(s) * 1e6 + Number(us ?? 0);
    if (Number.isFinite(micros) && micros > max) max = micros;
  }
  return max;
}
