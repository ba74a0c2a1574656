import {
  ErrorCode,
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, type FakeSlackOptions, startFakeSlack } from "../src/fakes/slack.js";

// The fake is only worth something if the real client accepts its answers, so everything goes through
// WebClient except the request shapes the client never sends (JSON bodies, malformed fields).

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0SHARED";
const T0 = 1_700_000_000_000;

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let fake: FakeSlack;
let nowMs: number;

async function start(options: FakeSlackOptions = {}): Promise<void> {
  await fake.close();
  fake = await startFakeSlack({ clock: () => nowMs, ...options });
}

function clientFor(token = TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silentLogger,
  });
}

/** Slack's error string of a refused call. */
async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof WebAPIPlatformError) return error.data.error;
    throw error;
  }
  throw new Error("expected the call to be refused");
}

async function postRaw(
  method: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${method}`, { method: "POST", body, headers });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

beforeEach(async () => {
  nowMs = T0;
  fake = await startFakeSlack({ clock: () => nowMs });
});

afterEach(async () => {
  await fake.close();
});

describe("fake Slack: messages", () => {
  it("answers auth.test and records the call as the client sent it", async () => {
    const result = await clientFor().auth.test();
    expect(result).toMatchObject({ ok: true, user_id: "UBOT", bot_id: "BBOT", team_id: expect.any(String) });
    expect(fake.calls).toEqual([
      {
        method: "auth.test",
        params: {},
        token: TOKEN,
        contentType: "application/x-www-form-urlencoded",
        status: 200,
        response: expect.objectContaining({ ok: true }),
      },
    ]);
  });

  it("posts with blocks and metadata, updates in place, and keeps metadata unless given", async () => {
    const client = clientFor();
    const blocks = [
      { type: "header", text: { type: "plain_text", text: "Job failed" } },
      { type: "section", text: { type: "mrkdwn", text: "*dag* `load`" } },
    ];
    const metadata = { event_type: "observability_group", event_payload: { group_id: "g-1", version: 1 } };
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: "Job failed", blocks, metadata });
    expect(posted).toMatchObject({
      ok: true,
      channel: CHANNEL,
      ts: "1700000000.000000",
      message: { text: "Job failed", ts: "1700000000.000000", blocks, metadata },
    });
    const params = fake.callsTo("chat.postMessage")[0]?.params;
    expect(params).toEqual({ channel: CHANNEL, text: "Job failed", blocks, metadata });

    const ts = posted.ts ?? "";
    const updated = await client.chat.update({ channel: CHANNEL, ts, text: "Job recovered", blocks: [] });
    expect(updated).toMatchObject({ ok: true, channel: CHANNEL, ts, text: "Job recovered" });
    expect(fake.messages(CHANNEL)).toEqual([
      {
        channel: CHANNEL,
        ts,
        text: "Job recovered",
        blocks: undefined,
        thread_ts: undefined,
        metadata,
        edited: true,
        user: "UBOT",
      },
    ]);

    // Blocks not given are kept; metadata given replaces.
    await client.chat.update({
      channel: CHANNEL,
      ts,
      blocks,
      metadata: { ...metadata, event_payload: { v: 2 } },
    });
    expect(fake.messages(CHANNEL)[0]).toMatchObject({
      text: "Job recovered",
      blocks,
      metadata: { event_payload: { v: 2 } },
    });
  });

  it("hands out unique, strictly increasing ts even when the clock stands still or goes back", async () => {
    const client = clientFor();
    const first = await client.chat.postMessage({ channel: CHANNEL, text: "a" });
    const second = await client.chat.postMessage({ channel: CHANNEL, text: "b" });
    nowMs = T0 + 1_234;
    const third = await client.chat.postMessage({ channel: CHANNEL, text: "c" });
    nowMs = T0 - 60_000;
    const fourth = await client.chat.postMessage({ channel: CHANNEL, text: "d" });
    expect([first.ts, second.ts, third.ts, fourth.ts]).toEqual([
      "1700000000.000000",
      "1700000000.000001",
      "1700000001.234000",
      "1700000001.234001",
    ]);
  });

  it("keeps threads: replies are stored under their root and left out of history", async () => {
    const client = clientFor();
    const root = await client.chat.postMessage({ channel: CHANNEL, text: "root" });
    const rootTs = root.ts ?? "";
    const reply = await client.chat.postMessage({ channel: CHANNEL, text: "reply 1", thread_ts: rootTs });
    // A reply to a reply lands in the same thread.
    await client.chat.postMessage({ channel: CHANNEL, text: "reply 2", thread_ts: reply.ts ?? "" });
    await client.chat.postMessage({ channel: CHANNEL, text: "other root" });

    expect(fake.rootMessages(CHANNEL).map((m) => m.text)).toEqual(["root", "other root"]);
    expect(fake.threadReplies(CHANNEL, rootTs).map((m) => [m.text, m.thread_ts])).toEqual([
      ["reply 1", rootTs],
      ["reply 2", rootTs],
    ]);
    expect(fake.messages(CHANNEL).find((m) => m.ts === rootTs)?.thread_ts).toBe(rootTs);

    const history = await client.conversations.history({ channel: CHANNEL });
    expect(history.messages?.map((m) => m.text)).toEqual(["other root", "root"]);
    expect(history.messages?.[1]).toMatchObject({ thread_ts: rootTs, reply_count: 2 });

    expect(
      await slackError(
        client.chat.postMessage({ channel: CHANNEL, text: "x", thread_ts: "1600000000.000000" }),
      ),
    ).toBe("thread_not_found");
  });

  it("lists history newest first, with metadata only on request", async () => {
    const client = clientFor();
    const metadata = { event_type: "observability_group", event_payload: { group_id: "g-1" } };
    await client.chat.postMessage({ channel: CHANNEL, text: "plain" });
    await client.chat.postMessage({ channel: CHANNEL, text: "tagged", metadata });

    const without = await client.conversations.history({ channel: CHANNEL });
    expect(without.messages?.map((m) => [m.text, m.metadata])).toEqual([
      ["tagged", undefined],
      ["plain", undefined],
    ]);
    const withMetadata = await client.conversations.history({ channel: CHANNEL, include_all_metadata: true });
    expect(withMetadata.messages?.map((m) => [m.text, m.metadata])).toEqual([
      ["tagged", metadata],
      ["plain", undefined],
    ]);
    expect(fake.callsTo("conversations.history")[1]?.params).toMatchObject({ include_all_metadata: "true" });
  });

  it("pages history with cursors, through the client's own paginate()", async () => {
    const client = clientFor();
    for (const text of ["m1", "m2", "m3", "m4", "m5"])
      await client.chat.postMessage({ channel: CHANNEL, text });

    const first = await client.conversations.history({ channel: CHANNEL, limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(["m5", "m4"]);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor ?? "";
    expect(cursor).not.toBe("");
    const second = await client.conversations.history({ channel: CHANNEL, limit: 2, cursor });
    expect(second.messages?.map((m) => m.text)).toEqual(["m3", "m2"]);

    const pages: string[][] = [];
    for await (const page of client.paginate("conversations.history", { channel: CHANNEL, limit: 2 })) {
      const messages = (page as { messages?: { text?: string }[] }).messages ?? [];
      pages.push(messages.map((m) => m.text ?? ""));
    }
    expect(pages).toEqual([["m5", "m4"], ["m3", "m2"], ["m1"]]);
    const last = await client.conversations.history({
      channel: CHANNEL,
      limit: 2,
      cursor: second.response_metadata?.next_cursor ?? "",
    });
    expect(last.has_more).toBe(false);
    expect(last.response_metadata?.next_cursor).toBeUndefined();

    expect(await slackError(client.conversations.history({ channel: CHANNEL, cursor: "bm9wZQ==" }))).toBe(
      "invalid_cursor",
    );
  });

  it("applies oldest and latest as exclusive bounds unless inclusive is set", async () => {
    const client = clientFor();
    const ts: string[] = [];
    for (const text of ["m1", "m2", "m3", "m4"]) {
      ts.push((await client.chat.postMessage({ channel: CHANNEL, text })).ts ?? "");
    }
    const [, second, , fourth] = ts;
    const exclusive = await client.conversations.history({
      channel: CHANNEL,
      oldest: second,
      latest: fourth,
    });
    expect(exclusive.messages?.map((m) => m.text)).toEqual(["m3"]);
    const inclusive = await client.conversations.history({
      channel: CHANNEL,
      oldest: second,
      latest: fourth,
      inclusive: true,
    });
    expect(inclusive.messages?.map((m) => m.text)).toEqual(["m4", "m3", "m2"]);
    expect(await slackError(client.conversations.history({ channel: CHANNEL, oldest: "yesterday" }))).toBe(
      "invalid_ts_oldest",
    );
  });

  it("gives permalinks for messages and replies", async () => {
    const client = clientFor();
    const root = await client.chat.postMessage({ channel: CHANNEL, text: "root" });
    const reply = await client.chat.postMessage({ channel: CHANNEL, text: "r", thread_ts: root.ts ?? "" });
    expect(await client.chat.getPermalink({ channel: CHANNEL, message_ts: root.ts ?? "" })).toMatchObject({
      ok: true,
      channel: CHANNEL,
      permalink: "https://fake-slack.test/archives/C0SHARED/p1700000000000000",
    });
    const replyLink = await client.chat.getPermalink({ channel: CHANNEL, message_ts: reply.ts ?? "" });
    expect(replyLink.permalink).toBe(
      "https://fake-slack.test/archives/C0SHARED/p1700000000000001?thread_ts=1700000000.000000&cid=C0SHARED",
    );
    expect(await slackError(client.chat.getPermalink({ channel: CHANNEL, message_ts: "1.000000" }))).toBe(
      "message_not_found",
    );
  });
});

describe("fake Slack: direct messages", () => {
  it("opens one stable DM channel per user and delivers to it", async () => {
    const client = clientFor();
    const opened = await client.conversations.open({ users: "U123ABC" });
    const dm = opened.channel?.id ?? "";
    expect(dm).toMatch(/^D/);
    expect(fake.dmChannelOf("U123ABC")).toBe(dm);
    const again = await client.conversations.open({ users: "U123ABC" });
    expect(again.channel?.id).toBe(dm);
    expect(again).toMatchObject({ already_open: true });

    await client.chat.postMessage({ channel: dm, text: "you own this" });
    expect(fake.dmsTo("U123ABC").map((m) => [m.channel, m.text])).toEqual([[dm, "you own this"]]);
    expect(fake.dmsTo("U999")).toEqual([]);
    expect(fake.dmChannelOf("U999")).toBeUndefined();
    // A DM channel that was never opened does not exist.
    expect(await slackError(client.chat.postMessage({ channel: "D999", text: "x" }))).toBe(
      "channel_not_found",
    );
  });

  it("refuses unknown users and bots", async () => {
    await start({ users: ["UALICE"], bots: ["UROBOT"] });
    const client = clientFor();
    expect((await client.conversations.open({ users: "UALICE" })).ok).toBe(true);
    expect(await slackError(client.conversations.open({ users: "UBOB" }))).toBe("user_not_found");
    expect(await slackError(client.conversations.open({ users: "UROBOT" }))).toBe("cannot_dm_bot");
    expect(await slackError(client.conversations.open({ users: "UBOT" }))).toBe("cannot_dm_bot");
    // The typed client insists on users or channel; apiCall sends what Slack would get from a careless caller.
    expect(await slackError(client.apiCall("conversations.open", {}))).toBe("users_list_not_supplied");
  });

  it("treats any U-shaped id as an existing user by default", async () => {
    const client = clientFor();
    expect((await client.conversations.open({ users: "U0AB12" })).ok).toBe(true);
    expect(await slackError(client.conversations.open({ users: "alice" }))).toBe("user_not_found");
  });
});

describe("fake Slack: refusals", () => {
  it("authenticates: not_authed, invalid_auth, token_revoked", async () => {
    await start({ tokens: [TOKEN, "xoxb-second"] });
    const anonymous = new WebClient(undefined, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      logger: silentLogger,
    });
    expect(await slackError(anonymous.auth.test())).toBe("not_authed");
    expect(await slackError(clientFor("xoxb-unknown").auth.test())).toBe("invalid_auth");
    fake.revokeToken(TOKEN);
    expect(await slackError(clientFor().chat.postMessage({ channel: CHANNEL, text: "x" }))).toBe(
      "token_revoked",
    );
    expect((await clientFor("xoxb-second").auth.test()).ok).toBe(true);
    // A per-call token override travels in the Authorization header too.
    expect((await clientFor("xoxb-unknown").auth.test({ token: "xoxb-second" })).ok).toBe(true);
  });

  it("answers unknown_method for methods it does not have", async () => {
    expect(await slackError(clientFor().apiCall("chat.fly"))).toBe("unknown_method");
  });

  it("refuses posting to unknown, archived and left channels", async () => {
    await start({ channels: [CHANNEL, "C0OTHER", "C0GONE"] });
    const live = clientFor();
    const posted = await live.chat.postMessage({ channel: "C0OTHER", text: "before" });
    expect(await slackError(live.chat.postMessage({ channel: "C0NOPE", text: "x" }))).toBe(
      "channel_not_found",
    );
    expect(await slackError(live.chat.postMessage({ channel: "", text: "x" }))).toBe("channel_not_found");
    fake.archiveChannel("C0OTHER");
    expect(await slackError(live.chat.postMessage({ channel: "C0OTHER", text: "x" }))).toBe("is_archived");
    expect(await slackError(live.chat.update({ channel: "C0OTHER", ts: posted.ts ?? "", text: "y" }))).toBe(
      "is_archived",
    );
    fake.removeFromChannel("C0GONE");
    expect(await slackError(live.chat.postMessage({ channel: "C0GONE", text: "x" }))).toBe("not_in_channel");
  });

  it("refuses empty and too long text", async () => {
    const client = clientFor();
    expect(await slackError(client.chat.postMessage({ channel: CHANNEL, text: "" }))).toBe("no_text");
    expect(await slackError(client.chat.postMessage({ channel: CHANNEL, blocks: [] }))).toBe("no_text");
    expect(await slackError(client.chat.postMessage({ channel: CHANNEL, text: "x".repeat(40_001) }))).toBe(
      "msg_too_long",
    );
    expect((await client.chat.postMessage({ channel: CHANNEL, text: "x".repeat(40_000) })).ok).toBe(true);
    // Blocks alone are enough content.
    const blocksOnly = [{ type: "divider" }];
    expect((await client.chat.postMessage({ channel: CHANNEL, blocks: blocksOnly })).ok).toBe(true);
  });

  const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
  const button = (text: string) => ({ type: "button", text: { type: "plain_text", text }, action_id: "a" });
  const field = (text: string) => ({ type: "mrkdwn", text });
  const invalid: [string, unknown[]][] = [
    ["more than 50 blocks", Array.from({ length: 51 }, () => ({ type: "divider" }))],
    ["section text over 3000", [section("x".repeat(3001))]],
    ["header text over 150", [{ type: "header", text: { type: "plain_text", text: "x".repeat(151) } }]],
    ["header text in mrkdwn", [{ type: "header", text: { type: "mrkdwn", text: "*x*" } }]],
    ["a block without type", [{ text: { type: "mrkdwn", text: "x" } }]],
    ["an unknown block type", [{ type: "carousel" }]],
    ["field text over 2000", [{ type: "section", fields: [field("x".repeat(2001))] }]],
    ["more than 10 fields", [{ type: "section", fields: Array.from({ length: 11 }, () => field("f")) }]],
    ["button text over 75", [{ type: "actions", elements: [button("x".repeat(76))] }]],
    ["accessory button text over 75", [{ ...section("s"), accessory: button("x".repeat(76)) }]],
    [
      "duplicate block_id",
      [
        { ...section("a"), block_id: "b" },
        { ...section("b"), block_id: "b" },
      ],
    ],
  ];
  it.each(invalid)("refuses blocks with %s as invalid_blocks", async (_label, blocks) => {
    const client = clientFor();
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: "ok" });
    const error = await clientFor()
      .chat.postMessage({ channel: CHANNEL, text: "fallback", blocks: blocks as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIPlatformError);
    expect((error as WebAPIPlatformError).data).toMatchObject({
      error: "invalid_blocks",
      response_metadata: { messages: [expect.stringMatching(/^\[ERROR\] .*\[json-pointer:\/blocks/)] },
    });
    // The same validation guards edits.
    expect(
      await slackError(
        client.chat.update({ channel: CHANNEL, ts: posted.ts ?? "", text: "x", blocks: blocks as never }),
      ),
    ).toBe("invalid_blocks");
  });

  it("accepts the limits exactly", async () => {
    const blocks = [
      { type: "header", text: { type: "plain_text", text: "h".repeat(150) } },
      section("s".repeat(3000)),
      { type: "section", fields: Array.from({ length: 10 }, () => field("f".repeat(2000))) },
      { type: "actions", elements: [button("b".repeat(75))] },
      { type: "context", elements: [{ type: "mrkdwn", text: "ctx" }] },
      { type: "rich_text", elements: [] },
      { type: "image", image_url: "https://example.test/i.png", alt_text: "i" },
      ...Array.from({ length: 43 }, () => ({ type: "divider" })),
    ];
    expect(blocks).toHaveLength(50);
    expect((await clientFor().chat.postMessage({ channel: CHANNEL, text: "t", blocks })).ok).toBe(true);
  });

  it("refuses malformed JSON in form fields", async () => {
    const headers = {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    const blocks = await postRaw("chat.postMessage", `channel=${CHANNEL}&text=x&blocks=%5B%7B`, headers);
    expect(blocks.json).toEqual({ ok: false, error: "invalid_blocks_format" });
    const metadata = await postRaw("chat.postMessage", `channel=${CHANNEL}&text=x&metadata=%7Bnope`, headers);
    expect(metadata.json).toEqual({ ok: false, error: "invalid_metadata_format" });
    expect(fake.callsTo("chat.postMessage")[0]?.params).toMatchObject({ blocks: "[{" });
  });

  it("refuses edits of unknown, deleted and protected messages", async () => {
    const client = clientFor();
    const a = (await client.chat.postMessage({ channel: CHANNEL, text: "a" })).ts ?? "";
    const b = (await client.chat.postMessage({ channel: CHANNEL, text: "b" })).ts ?? "";
    expect(await slackError(client.chat.update({ channel: CHANNEL, ts: "1.000000", text: "x" }))).toBe(
      "message_not_found",
    );
    fake.deleteMessage(CHANNEL, a);
    expect(await slackError(client.chat.update({ channel: CHANNEL, ts: a, text: "x" }))).toBe(
      "message_not_found",
    );
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["b"]);
    fake.forbidUpdates(CHANNEL, b);
    expect(await slackError(client.chat.update({ channel: CHANNEL, ts: b, text: "x" }))).toBe(
      "cant_update_message",
    );
    expect(await slackError(client.chat.update({ channel: "C0NOPE", ts: b, text: "x" }))).toBe(
      "channel_not_found",
    );
    const c = (await client.chat.postMessage({ channel: CHANNEL, text: "c" })).ts ?? "";
    expect(await slackError(client.apiCall("chat.update", { channel: CHANNEL, ts: c }))).toBe("no_text");
    expect(await slackError(client.chat.update({ channel: CHANNEL, ts: c, text: "" }))).toBe("no_text");
  });
});

describe("fake Slack: injected faults", () => {
  it("answers an error once, then normally; '*' matches any method; times counts", async () => {
    const client = clientFor();
    fake.failNext("chat.postMessage", { error: "internal_error" });
    expect(await slackError(client.chat.postMessage({ channel: CHANNEL, text: "x" }))).toBe("internal_error");
    expect((await client.chat.postMessage({ channel: CHANNEL, text: "x" })).ok).toBe(true);

    fake.failNext("*", { error: "fatal_error" }, 2);
    expect(await slackError(client.auth.test())).toBe("fatal_error");
    expect(await slackError(client.conversations.history({ channel: CHANNEL }))).toBe("fatal_error");
    expect((await client.auth.test()).ok).toBe(true);
    // Faults come before authentication and validation, and are recorded.
    fake.failNext("chat.postMessage", { error: "ratelimited" });
    expect(await slackError(clientFor("xoxb-nobody").chat.postMessage({ channel: "nope", text: "" }))).toBe(
      "ratelimited",
    );
    expect(fake.calls.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fake.messages(CHANNEL)).toHaveLength(1);
  });

  it("surfaces 429 as the client's rate-limited error with retryAfter", async () => {
    fake.failNext("chat.postMessage", { status: 429, retryAfter: 7 });
    const error = await clientFor()
      .chat.postMessage({ channel: CHANNEL, text: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(fake.callsTo("chat.postMessage")[0]).toMatchObject({ status: 429, response: { ok: false } });
    expect(fake.messages()).toEqual([]);
  });

  it("surfaces 5xx as an HTTP error and a dropped socket as a request error", async () => {
    const client = clientFor();
    fake.failNext("chat.update", { status: 503 });
    const http = await client.chat
      .update({ channel: CHANNEL, ts: "1.000000", text: "x" })
      .catch((e: unknown) => e);
    expect(http).toBeInstanceOf(WebAPIHTTPError);
    expect(http).toMatchObject({ statusCode: 503 });

    fake.failNext("chat.postMessage", { drop: true });
    const dropped = await client.chat.postMessage({ channel: CHANNEL, text: "x" }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(WebAPIRequestError);
    expect(fake.calls.map((c) => [c.method, c.status])).toEqual([
      ["chat.update", 503],
      ["chat.postMessage", 0],
    ]);
    expect(fake.messages()).toEqual([]);
    // The server is still fine afterwards.
    expect((await client.chat.postMessage({ channel: CHANNEL, text: "x" })).ok).toBe(true);
  });
});

describe("fake Slack: JSON bodies and raw requests", () => {
  it("accepts application/json with the token in the Authorization header", async () => {
    const blocks = [{ type: "section", text: { type: "plain_text", text: "hi" } }];
    const metadata = { event_type: "e", event_payload: { n: 1 } };
    const posted = await postRaw(
      "chat.postMessage",
      JSON.stringify({ channel: CHANNEL, text: "json", blocks, metadata }),
      { authorization: `Bearer ${TOKEN}`, "content-type": "application/json; charset=utf-8" },
    );
    expect(posted).toMatchObject({ status: 200, json: { ok: true, channel: CHANNEL } });
    expect(fake.messages(CHANNEL)).toMatchObject([{ text: "json", blocks, metadata }]);

    const history = await postRaw(
      "conversations.history",
      JSON.stringify({ channel: CHANNEL, include_all_metadata: true, limit: 1 }),
      { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    );
    expect(history.json).toMatchObject({ ok: true, has_more: false, messages: [{ text: "json", metadata }] });
  });

  it("takes a form token field but not a JSON one, and refuses unparseable bodies", async () => {
    const form = await postRaw("auth.test", `token=${TOKEN}`, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.json).toMatchObject({ ok: true });
    expect(fake.calls[0]).toMatchObject({ token: TOKEN, params: {} });

    const json = await postRaw("auth.test", JSON.stringify({ token: TOKEN }), {
      "content-type": "application/json",
    });
    expect(json.json).toEqual({ ok: false, error: "not_authed" });

    const broken = await postRaw("auth.test", "{nope", {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
    });
    expect(broken.json).toEqual({ ok: false, error: "invalid_json" });
    const array = await postRaw("auth.test", "[]", {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
    });
    expect(array.json).toEqual({ ok: false, error: "json_not_object" });
    const text = await postRaw("auth.test", "hello", {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "text/plain",
    });
    expect(text.json).toEqual({ ok: false, error: "invalid_post_type" });
  });

  it("forgets recorded calls on resetCalls", async () => {
    await clientFor().auth.test();
    expect(fake.calls).toHaveLength(1);
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
    await clientFor().auth.test();
    expect(fake.callsTo("auth.test")).toHaveLength(1);
  });
});
