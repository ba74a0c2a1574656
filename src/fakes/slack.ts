// Test double for the tests in test/; it also serves `observability demo` (src/commands/demo.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the parts of Slack's Web API this project uses, served over real HTTP on loopback so
 * tests drive it through the real `@slack/web-api` client. It answers the way Slack does (HTTP 200 with
 * `{ok:false,error}` for refusals, Block Kit limits, ts strings, cursor paging) and records every request.
 */

export interface FakeSlackOptions {
  /** Valid bot tokens (default ["xoxb-test-token"]). */
  tokens?: string[];
  /** Existing public channels the bot is in (default ["C0SHARED"]). */
  channels?: string[];
  /** Existing human user ids (default: any id matching /^U[A-Z0-9]+$/ exists). */
  users?: string[];
  /** User ids that are bots: conversations.open gives cannot_dm_bot. */
  bots?: string[];
  /** ms epoch used to generate ts (default Date.now); ts stay unique and strictly increasing regardless. */
  clock?: () => number;
}

export interface FakeSlackCall {
  method: string;
  params: Record<string, unknown>;
  token: string | null;
  contentType: string;
  /** HTTP status sent; 0 when the socket was dropped without a response. */
  status: number;
  response: unknown;
}

export type FakeFault =
  /** Respond 200 {ok:false, error}. */
  | { error: string }
  /** 429 with a Retry-After header (seconds). */
  | { status: 429; retryAfter: number }
  /** Any other HTTP status (e.g. 500/503) with a plain-text body. */
  | { status: number }
  /** Destroy the socket without a response (a network error for the client). */
  | { drop: true };

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts: string | undefined;
  metadata: { event_type: string; event_payload: Record<string, unknown> } | undefined;
  edited: boolean;
  user: string;
}

export interface FakeSlack {
  /** Base URL ending in "/api/", e.g. http://127.0.0.1:PORT/api/ */
  url: string;
  /** Every request, in order, including failed ones. */
  calls: FakeSlackCall[];
  callsTo(method: string): FakeSlackCall[];
  /** Inject a fault for the next `times` (default 1) calls of a method, or of any method with "*". */
  failNext(method: string, fault: FakeFault, times?: number): void;
  revokeToken(token: string): void;
  archiveChannel(channel: string): void;
  removeFromChannel(channel: string): void;
  deleteMessage(channel: string, ts: string): void;
  forbidUpdates(channel: string, ts: string): void;
  /** Current state of stored messages (after updates, without deleted ones), oldest first. */
  messages(channel?: string): FakeMessage[];
  /** Top-level messages in a channel (no thread_ts, or thread_ts === ts). */
  rootMessages(channel: string): FakeMessage[];
  threadReplies(channel: string, threadTs: string): FakeMessage[];
  /** The "D…" channel created by conversations.open for a user. */
  dmChannelOf(userId: string): string | undefined;
  dmsTo(userId: string): FakeMessage[];
  resetCalls(): void;
  close(): Promise<void>;
}

const BOT_USER_ID = "UBOT";
const BOT_ID = "BBOT";
const TEAM_ID = "TFAKE";
const WORKSPACE_URL = "https://fake-slack.test/";
const DEFAULT_TOKEN = "xoxb-test-token";
const DEFAULT_CHANNEL = "C0SHARED";

// Limits Slack enforces on message content (Block Kit reference, chat.postMessage).
const MAX_TEXT_CHARS = 40_000;
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_HEADER_TEXT = 150;
const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_BUTTON_TEXT = 75;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_BLOCK_ID = 255;
const MAX_ATTACHMENTS = 100;
const BLOCK_TYPES = new Set(["section", "header", "context", "divider", "actions", "rich_text", "image"]);
const TEXT_OBJECT_TYPES = new Set(["plain_text", "mrkdwn"]);
/** Form fields the client JSON-encodes because they are objects or arrays. */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata"]);

const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;

type Params = Record<string, unknown>;
type Payload = Record<string, unknown>;
type Metadata = NonNullable<FakeMessage["metadata"]>;

/** Slack said no: becomes `{ok:false, error}` (with Slack's `errors` detail list when it gives one). */
class SlackRefusal extends Error {
  constructor(
    readonly error: string,
    readonly details: readonly string[] = [],
  ) {
    super(error);
  }
}

function refuse(error: string, details?: readonly string[]): never {
  throw new SlackRefusal(error, details);
}

interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  attachments: unknown[] | undefined;
  thread_ts: string | undefined;
  metadata: Metadata | undefined;
  user: string;
  editedTs: string | undefined;
  replies: string[];
  deleted: boolean;
  updatable: boolean;
}

interface Channel {
  id: string;
  archived: boolean;
  member: boolean;
  /** In ts order, which is also insertion order because ts only grow. */
  messages: StoredMessage[];
}

interface FaultRule {
  method: string;
  fault: FakeFault;
  remaining: number;
}

interface ParsedRequest {
  params: Params;
  bodyToken: string | undefined;
  /** A refusal found while reading the body; answered only after injected faults had their chance. */
  parseError: SlackRefusal | undefined;
}

/** The workspace state and one handler per Web API method. No HTTP in here. */
class Workspace {
  readonly tokens: Set<string>;
  readonly revoked = new Set<string>();
  readonly channels = new Map<string, Channel>();
  readonly dmByUser = new Map<string, string>();
  private readonly users: Set<string> | undefined;
  private readonly bots: Set<string>;
  private readonly clock: () => number;
  private lastTsMicros = 0;

  readonly handlers: ReadonlyMap<string, (params: Params) => Payload> = new Map([
    ["auth.test", () => this.authTest()],
    ["chat.postMessage", (params: Params) => this.postMessage(params)],
    ["chat.update", (params: Params) => this.update(params)],
    ["chat.getPermalink", (params: Params) => this.getPermalink(params)],
    ["conversations.open", (params: Params) => this.openConversation(params)],
    ["conversations.history", (params: Params) => this.history(params)],
  ]);

  constructor(options: FakeSlackOptions) {
    this.tokens = new Set(options.tokens ?? [DEFAULT_TOKEN]);
    this.users = options.users === undefined ? undefined : new Set(options.users);
    this.bots = new Set([BOT_USER_ID, ...(options.bots ?? [])]);
    this.clock = options.clock ?? Date.now;
    for (const id of options.channels ?? [DEFAULT_CHANNEL]) {
      this.channels.set(id, { id, archived: false, member: true, messages: [] });
    }
  }

  authenticate(token: string | undefined): void {
    if (token === undefined || token === "") refuse("not_authed");
    if (this.revoked.has(token)) refuse("token_revoked");
    if (!this.tokens.has(token)) refuse("invalid_auth");
  }

  channel(id: string): Channel {
    const channel = this.channels.get(id);
    if (channel === undefined) throw new Error(`fake Slack: no channel ${id}`);
    return channel;
  }

  // --- handlers -------------------------------------------------------------------------------------------

  private authTest(): Payload {
    return {
      url: WORKSPACE_URL,
      team: "Fake Workspace",
      user: "observability",
      team_id: TEAM_ID,
      user_id: BOT_USER_ID,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    };
  }

  private postMessage(params: Params): Payload {
    const channel = this.requireChannel(params.channel);
    if (channel.archived) refuse("is_archived");
    if (!channel.member) refuse("not_in_channel");
    const content = readContent(params);
    if (!hasContent(content)) refuse("no_text");
    const metadata = readMetadata(params.metadata);

    let parent: StoredMessage | undefined;
    const threadTs = optionalString(params.thread_ts);
    if (threadTs !== undefined && threadTs !== "") {
      parent = findMessage(channel, threadTs);
      if (parent === undefined) refuse("thread_not_found");
      // Replying to a reply lands in the same thread, under its root.
      if (parent.thread_ts !== undefined && parent.thread_ts !== parent.ts) {
        const root = findMessage(channel, parent.thread_ts);
        if (root === undefined) refuse("thread_not_found");
        parent = root;
      }
    }

    const message: StoredMessage = {
      channel: channel.id,
      ts: this.nextTs(),
      text: content.text ?? "",
      blocks: nonEmpty(content.blocks),
      attachments: nonEmpty(content.attachments),
      thread_ts: parent?.ts,
      metadata,
      user: BOT_USER_ID,
      editedTs: undefined,
      replies: [],
      deleted: false,
      updatable: true,
    };
    channel.messages.push(message);
    if (parent !== undefined) {
      // A message becomes a thread root, with thread_ts === ts, once it has a reply.
      parent.thread_ts = parent.ts;
      parent.replies.push(message.ts);
    }
    return { channel: channel.id, ts: message.ts, message: renderMessage(message, true) };
  }

  private update(params: Params): Payload {
    const channel = this.requireChannel(params.channel);
    if (channel.archived) refuse("is_archived");
    const message = findMessage(channel, optionalString(params.ts));
    if (message === undefined) refuse("message_not_found");
    if (!message.updatable) refuse("cant_update_message");
    const content = readContent(params);
    // An edit must say something, but an empty list is a statement: it removes the blocks or attachments.
    if (!hasContent(content) && content.blocks === undefined && content.attachments === undefined) {
      refuse("no_text");
    }
    const metadata = readMetadata(params.metadata);

    // Fields not given are kept, as Slack keeps previous blocks and attachments unless told otherwise.
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = nonEmpty(content.blocks);
    if (content.attachments !== undefined) message.attachments = nonEmpty(content.attachments);
    if (metadata !== undefined) message.metadata = metadata;
    // The edit time does not take a ts from the sequence: posts stay numbered the same with or without edits.
    message.editedTs = formatTs(Math.floor(this.clock()) * 1000);
    return { channel: channel.id, ts: message.ts, text: message.text, message: renderMessage(message, true) };
  }

  private getPermalink(params: Params): Payload {
    const channel = this.requireChannel(params.channel);
    const message = findMessage(channel, optionalString(params.message_ts));
    if (message === undefined) refuse("message_not_found");
    let permalink = `${WORKSPACE_URL}archives/${channel.id}/p${message.ts.replace(".", "")}`;
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      permalink += `?thread_ts=${message.thread_ts}&cid=${channel.id}`;
    }
    return { channel: channel.id, permalink };
  }

  private openConversation(params: Params): Payload {
    const users = (optionalString(params.users) ?? "")
      .split(",")
      .map((user) => user.trim())
      .filter((user) => user !== "");
    if (users.length === 0) refuse("users_list_not_supplied");
    const [user] = users;
    // Group DMs are not modelled; failing loudly beats pretending.
    if (user === undefined || users.length > 1) refuse("fake_slack_unsupported_multi_person_dm");
    if (this.bots.has(user)) refuse("cannot_dm_bot");
    if (!this.userExists(user)) refuse("user_not_found");

    const existing = this.dmByUser.get(user);
    if (existing !== undefined) return { no_op: true, already_open: true, channel: { id: existing } };
    const id = `D${user.slice(1)}`;
    this.dmByUser.set(user, id);
    this.channels.set(id, { id, archived: false, member: true, messages: [] });
    return { channel: { id } };
  }

  private history(params: Params): Payload {
    const channel = this.requireChannel(params.channel);
    if (!channel.member) refuse("not_in_channel");
    const limit = clampLimit(params.limit);
    const inclusive = readFlag(params.inclusive);
    const oldest = readBound(params.oldest, "invalid_ts_oldest");
    const latest = readBound(params.latest, "invalid_ts_latest");
    const cursor = readCursor(params.cursor);
    const withMetadata = readFlag(params.include_all_metadata);

    const newestFirst = channel.messages
      .filter((message) => !message.deleted && isRoot(message))
      .filter((message) => {
        const micros = parseTs(message.ts) ?? 0;
        // Bounds are exclusive unless `inclusive` is set; the cursor points at the first message of the page.
        if (oldest !== undefined && (inclusive ? micros < oldest : micros <= oldest)) return false;
        if (latest !== undefined && (inclusive ? micros > latest : micros >= latest)) return false;
        if (cursor !== undefined && micros > cursor) return false;
        return true;
      })
      .reverse();
    const page = newestFirst.slice(0, limit);
    const next = newestFirst[limit];
    return {
      messages: page.map((message) => renderMessage(message, withMetadata)),
      has_more: next !== undefined,
      pin_count: 0,
      ...(next === undefined ? {} : { response_metadata: { next_cursor: encodeCursor(next.ts) } }),
    };
  }

  // --- helpers --------------------------------------------------------------------------------------------

  private requireChannel(value: unknown): Channel {
    const id = optionalString(value);
    const channel = id === undefined ? undefined : this.channels.get(id);
    if (channel === undefined) refuse("channel_not_found");
    return channel;
  }

  private userExists(user: string): boolean {
    return this.users === undefined ? /^U[A-Z0-9]+$/.test(user) : this.users.has(user);
  }

  /** Slack ts: "<seconds>.<6 digits>" from the clock, bumped by a microsecond when the clock has not moved. */
  private nextTs(): string {
    this.lastTsMicros = Math.max(Math.floor(this.clock()) * 1000, this.lastTsMicros + 1);
    return formatTs(this.lastTsMicros);
  }
}

// --- content validation ---------------------------------------------------------------------------------

interface Content {
  text: string | undefined;
  blocks: unknown[] | undefined;
  attachments: unknown[] | undefined;
}

function readContent(params: Params): Content {
  const text = params.text === undefined || params.text === null ? undefined : String(params.text);
  if (text !== undefined && text.length > MAX_TEXT_CHARS) refuse("msg_too_long");

  let blocks: unknown[] | undefined;
  if (params.blocks !== undefined && params.blocks !== null) {
    // A string here is JSON that did not parse (or parsed to a non-array).
    if (!Array.isArray(params.blocks)) refuse("invalid_blocks_format");
    const problems = validateBlocks(params.blocks);
    if (problems.length > 0) refuse("invalid_blocks", problems);
    blocks = params.blocks;
  }

  let attachments: unknown[] | undefined;
  if (params.attachments !== undefined && params.attachments !== null) {
    if (!Array.isArray(params.attachments)) refuse("invalid_attachments");
    if (params.attachments.length > MAX_ATTACHMENTS) refuse("too_many_attachments");
    attachments = params.attachments;
  }

  return { text, blocks, attachments };
}

/** Empty text and empty lists are no content, as in Slack. */
function hasContent(content: Content): boolean {
  return (
    (content.text ?? "") !== "" || (content.blocks ?? []).length > 0 || (content.attachments ?? []).length > 0
  );
}

function nonEmpty(list: unknown[] | undefined): unknown[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list;
}

function readMetadata(value: unknown): Metadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) refuse("invalid_metadata_format");
  const { event_type, event_payload } = value;
  if (typeof event_type !== "string" || event_type === "" || !isRecord(event_payload)) {
    refuse("invalid_metadata_format");
  }
  return { event_type, event_payload };
}

/** Slack-style problem strings (`... [json-pointer:/blocks/0/text/text]`); empty when the blocks are valid. */
function validateBlocks(blocks: readonly unknown[]): string[] {
  const problems: string[] = [];
  const problem: Problem = (pointer, message) => {
    problems.push(`${message} [json-pointer:/blocks${pointer}]`);
  };
  if (blocks.length > MAX_BLOCKS) problem("", `no more than ${MAX_BLOCKS} items allowed`);
  const blockIds = new Set<string>();
  for (const [index, block] of blocks.entries()) {
    const at = `/${index}`;
    if (!isRecord(block)) {
      problem(at, "must be an object");
      continue;
    }
    if (typeof block.type !== "string") {
      problem(`${at}/type`, "missing required field: type");
      continue;
    }
    if (!BLOCK_TYPES.has(block.type)) {
      problem(`${at}/type`, `unsupported type: ${block.type}`);
      continue;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string" || block.block_id.length > MAX_BLOCK_ID) {
        problem(`${at}/block_id`, `must be a string of at most ${MAX_BLOCK_ID} characters`);
      } else if (blockIds.has(block.block_id)) {
        problem(`${at}/block_id`, "duplicate block_id");
      } else {
        blockIds.add(block.block_id);
      }
    }
    checkBlock(block, at, problem);
  }
  return problems;
}

type Problem = (pointer: string, message: string) => void;

function checkBlock(block: Record<string, unknown>, at: string, problem: Problem): void {
  switch (block.type) {
    case "section":
      if (block.text === undefined && block.fields === undefined)
        problem(at, "must provide either text or fields");
      if (block.text !== undefined) checkTextObject(block.text, `${at}/text`, MAX_SECTION_TEXT, problem);
      if (block.fields !== undefined) checkFields(block.fields, `${at}/fields`, problem);
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, problem);
      return;
    case "header":
      checkTextObject(block.text, `${at}/text`, MAX_HEADER_TEXT, problem, "plain_text");
      return;
    case "context":
      checkElements(block.elements, `${at}/elements`, MAX_CONTEXT_ELEMENTS, problem);
      return;
    case "actions":
      checkElements(block.elements, `${at}/elements`, MAX_ACTIONS_ELEMENTS, problem);
      return;
    case "rich_text":
      if (!Array.isArray(block.elements)) problem(`${at}/elements`, "missing required field: elements");
      return;
    case "image":
      if (typeof block.image_url !== "string" && !isRecord(block.slack_file)) {
        problem(at, "must provide either image_url or slack_file");
      }
      if (typeof block.alt_text !== "string") problem(`${at}/alt_text`, "missing required field: alt_text");
      return;
    default:
      // divider: nothing to check.
      return;
  }
}

function checkFields(value: unknown, pointer: string, problem: Problem): void {
  if (!Array.isArray(value)) {
    problem(pointer, "must be an array");
    return;
  }
  if (value.length > MAX_FIELDS) problem(pointer, `no more than ${MAX_FIELDS} items allowed`);
  for (const [i, field] of value.entries())
    checkTextObject(field, `${pointer}/${i}`, MAX_FIELD_TEXT, problem);
}

function checkTextObject(
  value: unknown,
  pointer: string,
  maxLength: number,
  problem: Problem,
  onlyType?: "plain_text",
): void {
  if (!isRecord(value)) {
    problem(pointer, "must be a text object");
  } else if (typeof value.type !== "string" || !TEXT_OBJECT_TYPES.has(value.type)) {
    problem(`${pointer}/type`, "must be plain_text or mrkdwn");
  } else if (onlyType !== undefined && value.type !== onlyType) {
    problem(`${pointer}/type`, `must be ${onlyType}`);
  } else if (typeof value.text !== "string" || value.text.length === 0) {
    problem(`${pointer}/text`, "must be more than 0 characters");
  } else if (value.text.length > maxLength) {
    problem(`${pointer}/text`, `must be less than ${maxLength + 1} characters`);
  }
}

function checkElements(value: unknown, pointer: string, maxItems: number, problem: Problem): void {
  if (!Array.isArray(value) || value.length === 0) {
    problem(pointer, "must have at least 1 item");
    return;
  }
  if (value.length > maxItems) problem(pointer, `no more than ${maxItems} items allowed`);
  for (const [i, element] of value.entries()) checkElement(element, `${pointer}/${i}`, problem);
}

/** Only buttons carry a limit we model; other element types pass as long as they have a type. */
function checkElement(value: unknown, pointer: string, problem: Problem): void {
  if (!isRecord(value) || typeof value.type !== "string") {
    problem(pointer, "missing required field: type");
  } else if (value.type === "button") {
    checkTextObject(value.text, `${pointer}/text`, MAX_BUTTON_TEXT, problem, "plain_text");
  }
}

// --- small parsers and renderers -------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** Form bodies carry booleans as "true"/"1"; JSON bodies as real booleans. */
function readFlag(value: unknown): boolean {
  return value === true || value === 1 || value === "true" || value === "1";
}

function clampLimit(value: unknown): number {
  const parsed = typeof value === "number" ? value : Number.parseInt(optionalString(value) ?? "", 10);
  if (!Number.isFinite(parsed) || parsed < 1) return HISTORY_DEFAULT_LIMIT;
  return Math.min(Math.floor(parsed), HISTORY_MAX_LIMIT);
}

function readBound(value: unknown, error: string): number | undefined {
  const text = optionalString(value);
  if (text === undefined || text === "") return undefined;
  return parseTs(text) ?? refuse(error);
}

function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`, "utf8").toString("base64");
}

function readCursor(value: unknown): number | undefined {
  const text = optionalString(value);
  if (text === undefined || text === "") return undefined;
  const decoded = Buffer.from(text, "base64").toString("utf8");
  const ts = decoded.startsWith("next_ts:") ? parseTs(decoded.slice("next_ts:".length)) : undefined;
  return ts ?? refuse("invalid_cursor");
}

/** "1700000000.000123" → 1700000000000123 (microseconds; safe as a double until the year 2255). */
function parseTs(text: string): number | undefined {
  const match = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? "").padEnd(6, "0"));
}

function formatTs(micros: number): string {
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
}

function findMessage(channel: Channel, ts: string | undefined): StoredMessage | undefined {
  if (ts === undefined) return undefined;
  return channel.messages.find((message) => message.ts === ts && !message.deleted);
}

function isRoot(message: { ts: string; thread_ts: string | undefined }): boolean {
  return message.thread_ts === undefined || message.thread_ts === message.ts;
}

/** A message as Slack's responses show it. */
function renderMessage(message: StoredMessage, withMetadata: boolean): Payload {
  return {
    type: "message",
    user: message.user,
    bot_id: BOT_ID,
    text: message.text,
    ts: message.ts,
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
    ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
    ...(message.replies.length === 0
      ? {}
      : { reply_count: message.replies.length, latest_reply: message.replies.at(-1) }),
    ...(message.editedTs === undefined ? {} : { edited: { user: message.user, ts: message.editedTs } }),
    ...(withMetadata && message.metadata !== undefined ? { metadata: message.metadata } : {}),
  };
}

function toFakeMessage(message: StoredMessage): FakeMessage {
  return structuredClone({
    channel: message.channel,
    ts: message.ts,
    text: message.text,
    blocks: message.blocks,
    thread_ts: message.thread_ts,
    metadata: message.metadata,
    edited: message.editedTs !== undefined,
    user: message.user,
  });
}

// --- HTTP ------------------------------------------------------------------------------------------------

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseRequest(contentType: string, body: Buffer): ParsedRequest {
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  const text = body.toString("utf8");
  const params: Params = {};
  let parseError: SlackRefusal | undefined;

  if (mediaType === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
      parseError = new SlackRefusal("invalid_json");
    }
    if (parseError === undefined && !isRecord(parsed)) parseError = new SlackRefusal("json_not_object");
    if (isRecord(parsed)) Object.assign(params, parsed);
    // Slack takes the token of a JSON request only from the Authorization header.
    const { token: _ignored, ...rest } = params;
    return { params: decodeJsonFields(rest), bodyToken: undefined, parseError };
  }

  if (mediaType === "application/x-www-form-urlencoded" || (mediaType === "" && text === "")) {
    for (const [key, value] of new URLSearchParams(text)) params[key] = value;
  } else {
    parseError = new SlackRefusal("invalid_post_type");
  }
  const { token, ...rest } = params;
  return {
    params: decodeJsonFields(rest),
    bodyToken: typeof token === "string" ? token : undefined,
    parseError,
  };
}

/** JSON-encoded object fields become objects; a value that does not parse stays a string for the handler. */
function decodeJsonFields(params: Params): Params {
  for (const key of JSON_FIELDS) {
    const value = params[key];
    if (typeof value !== "string") continue;
    try {
      params[key] = JSON.parse(value);
    } catch {
      // Left as the raw string: the handler answers invalid_blocks_format / invalid_metadata_format.
    }
  }
  return params;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const workspace = new Workspace(options);
  const calls: FakeSlackCall[] = [];
  let faults: FaultRule[] = [];

  function takeFault(method: string): FakeFault | undefined {
    const rule =
      faults.find((candidate) => candidate.method === method) ??
      faults.find((candidate) => candidate.method === "*");
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) faults = faults.filter((candidate) => candidate !== rule);
    return rule.fault;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = new URL(request.url ?? "/", "http://fake-slack.test").pathname;
    const route = /^\/api\/([A-Za-z0-9._-]+)$/.exec(path);
    if (request.method !== "POST" || route?.[1] === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end("fake Slack: POST /api/<method> only");
      return;
    }
    const method = route[1];
    const contentType = request.headers["content-type"] ?? "";
    const parsed = parseRequest(contentType, body);
    const token = bearerToken(request.headers.authorization) ?? parsed.bodyToken;
    const call: FakeSlackCall = {
      method,
      params: parsed.params,
      token: token ?? null,
      contentType,
      status: 200,
      response: undefined,
    };
    calls.push(call);

    const fault = takeFault(method);
    if (fault !== undefined) {
      if ("drop" in fault) {
        call.status = 0;
        request.socket.destroy();
        return;
      }
      if ("error" in fault) {
        send(response, call, 200, { ok: false, error: fault.error });
        return;
      }
      if ("retryAfter" in fault) {
        send(
          response,
          call,
          429,
          { ok: false, error: "ratelimited" },
          { "retry-after": String(fault.retryAfter) },
        );
        return;
      }
      const text = `fake Slack: injected HTTP ${fault.status}`;
      call.status = fault.status;
      call.response = text;
      response.writeHead(fault.status, { "content-type": "text/plain" }).end(text);
      return;
    }

    send(response, call, 200, answer(method, token, parsed));
  }

  function answer(method: string, token: string | undefined, parsed: ParsedRequest): Payload {
    try {
      const handler = workspace.handlers.get(method);
      if (handler === undefined) refuse("unknown_method");
      if (parsed.parseError !== undefined) throw parsed.parseError;
      workspace.authenticate(token);
      return { ok: true, ...handler(parsed.params) };
    } catch (error) {
      if (!(error instanceof SlackRefusal)) throw error;
      if (error.details.length === 0) return { ok: false, error: error.error };
      return {
        ok: false,
        error: error.error,
        errors: [...error.details],
        response_metadata: { messages: error.details.map((detail) => `[ERROR] ${detail}`) },
      };
    }
  }

  function send(
    response: ServerResponse,
    call: FakeSlackCall,
    status: number,
    payload: Payload,
    headers: Record<string, string> = {},
  ): void {
    call.status = status;
    call.response = payload;
    response
      .writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
      .end(JSON.stringify(payload));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the fake itself: make it visible to the client instead of hanging the request.
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end(`fake Slack crashed: ${error instanceof Error ? error.stack : String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const existing = (channel: string): Channel => workspace.channel(channel);
  const messagesOf = (channel?: string): StoredMessage[] => {
    const source = channel === undefined ? [...workspace.channels.values()] : [existing(channel)];
    return source
      .flatMap((c) => c.messages)
      .filter((message) => !message.deleted)
      .sort((a, b) => (parseTs(a.ts) ?? 0) - (parseTs(b.ts) ?? 0));
  };
  const storedMessage = (channel: string, ts: string): StoredMessage => {
    const message = findMessage(existing(channel), ts);
    if (message === undefined) throw new Error(`fake Slack: no message ${ts} in ${channel}`);
    return message;
  };

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((call) => call.method === method),
    failNext(method, fault, times = 1) {
      if (!Number.isInteger(times) || times < 1)
        throw new RangeError("failNext: times must be a positive integer");
      faults.push({ method, fault, remaining: times });
    },
    revokeToken: (token) => {
      workspace.revoked.add(token);
    },
    archiveChannel: (channel) => {
      existing(channel).archived = true;
    },
    removeFromChannel: (channel) => {
      existing(channel).member = false;
    },
    deleteMessage: (channel, ts) => {
      storedMessage(channel, ts).deleted = true;
    },
    forbidUpdates: (channel, ts) => {
      storedMessage(channel, ts).updatable = false;
    },
    messages: (channel) => messagesOf(channel).map(toFakeMessage),
    rootMessages: (channel) => messagesOf(channel).filter(isRoot).map(toFakeMessage),
    threadReplies: (channel, threadTs) =>
      messagesOf(channel)
        .filter((message) => message.thread_ts === threadTs && message.ts !== threadTs)
        .map(toFakeMessage),
    dmChannelOf: (userId) => workspace.dmByUser.get(userId),
    dmsTo: (userId) => {
      const channel = workspace.dmByUser.get(userId);
      return channel === undefined ? [] : messagesOf(channel).map(toFakeMessage);
    },
    resetCalls: () => {
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
