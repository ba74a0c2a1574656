/**
 * The Web API adapter against real sockets: timeouts, bounded retries and error mapping, as a batch job
 * needs them (the fake Slack covers the happy paths and Slack's own errors).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSlack } from "../src/fakes/slack.js";
import { createLogger } from "../src/log.js";
import { SlackCallError } from "../src/slack/errors.js";
import { createWebApiSlack } from "../src/slack/web-api-slack.js";

const log = createLogger({ level: "silent", secrets: [] });
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
}

async function failure(p: Promise<unknown>): Promise<SlackCallError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SlackCallError);
  return error as SlackCallError;
}

describe("createWebApiSlack", () => {
  it("gives up on a request that never answers after its timeout, as a transient failure", async () => {
    let requests = 0;
    const url = await serve(() => {
      requests += 1; // never responds
    });
    const slack = createWebApiSlack({
      token: "xoxb-t",
      apiUrl: url,
      log,
      timeoutMs: 200,
      retries: 1,
      retryDelayMs: 10,
    });
    const error = await failure(slack.updateMessage({ channel: "C1", ts: "1.2", text: "hi" }));
    expect(error.category).toBe("transient");
    expect(error.slackError).toBe("timeout");
    expect(requests).toBe(2); // one retry, then give up: bounded
  });

  it("never retries chat.postMessage itself: a timed-out post may have been delivered", async () => {
    let requests = 0;
    const url = await serve(() => {
      requests += 1;
    });
    const slack = createWebApiSlack({
      token: "xoxb-t",
      apiUrl: url,
      log,
      timeoutMs: 200,
      retries: 3,
      retryDelayMs: 5,
    });
    expect(await failure(slack.postMessage({ channel: "C1", text: "hi" }))).toMatchObject({
      slackError: "timeout",
    });
    expect(requests).toBe(1);
  });

  it("retries a 5xx a bounded number of times, then reports http_<status>", async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests += 1;
      res.writeHead(502).end("bad gateway");
    });
    const slack = createWebApiSlack({ token: "xoxb-t", apiUrl: url, log, retries: 2, retryDelayMs: 5 });
    const error = await failure(slack.updateMessage({ channel: "C1", ts: "1.2", text: "x" }));
    expect(error).toMatchObject({ category: "transient", slackError: "http_502", method: "chat.update" });
    expect(requests).toBe(3);
  });

  it("hands a 429 straight back with its Retry-After instead of waiting inside the library", async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests += 1;
      res.writeHead(429, { "Retry-After": "42", "Content-Type": "application/json" }).end('{"ok":false}');
    });
    const slack = createWebApiSlack({ token: "xoxb-t", apiUrl: url, log, retries: 2, retryDelayMs: 5 });
    const error = await failure(slack.postMessage({ channel: "C1", text: "hi" }));
    expect(error).toMatchObject({ category: "rate_limited", retryAfterSeconds: 42 });
    expect(requests).toBe(1);
  });

  it("maps Slack's error strings to categories, with Slack's explanation kept apart from the message", async () => {
    const fake = await startFakeSlack({ tokens: ["xoxb-good"] });
    try {
      const bad = createWebApiSlack({ token: "xoxb-wrong", apiUrl: fake.url, log });
      expect(await failure(bad.authTest())).toMatchObject({ category: "auth", slackError: "invalid_auth" });
      const good = createWebApiSlack({ token: "xoxb-good", apiUrl: fake.url, log });
      expect(await failure(good.postMessage({ channel: "CNOPE", text: "x" }))).toMatchObject({
        category: "channel",
        slackError: "channel_not_found",
      });
      const tooMany = Array.from({ length: 51 }, () => ({ type: "divider" }));
      const content = await failure(good.postMessage({ channel: "C0SHARED", text: "x", blocks: tooMany }));
      expect(content.category).toBe("content");
      expect(content.message).not.toContain("xoxb");
      expect(await good.authTest()).toEqual({ teamId: expect.any(String), userId: "UBOT" });
      // Nothing the token authorises leaks through an error's text.
      fake.revokeToken("xoxb-good");
      const revoked = await failure(good.openDm("UALICE"));
      expect(revoked).toMatchObject({ category: "auth", slackError: "token_revoked" });
      expect(`${revoked.message} ${revoked.details.join(" ")}`).not.toContain("xoxb-good");
    } finally {
      await fake.close();
    }
  });

  it("finds a message by its metadata across history pages", async () => {
    const fake = await startFakeSlack({ tokens: ["xoxb-good"] });
    try {
      const slack = createWebApiSlack({ token: "xoxb-good", apiUrl: fake.url, log });
      const metadata = { event_type: "observability_signal_group", event_payload: { group_id: "g-1" } };
      const { ts } = await slack.postMessage({ channel: "C0SHARED", text: "root", metadata });
      for (let i = 0; i < 450; i++) await slack.postMessage({ channel: "C0SHARED", text: `noise ${i}` });
      const found = await slack.findMessageByMetadata({
        channel: "C0SHARED",
        eventType: "observability_signal_group",
        key: "group_id",
        value: "g-1",
        oldestEpochSeconds: 0,
        latestEpochSeconds: 2_000_000_000,
      });
      expect(found).toBe(ts);
      expect(fake.callsTo("conversations.history").length).toBe(3);
      const missing = await slack.findMessageByMetadata({
        channel: "C0SHARED",
        eventType: "observability_signal_group",
        key: "group_id",
        value: "g-2",
        oldestEpochSeconds: 0,
        latestEpochSeconds: 2_000_000_000,
      });
      expect(missing).toBeNull();
    } finally {
      await fake.close();
    }
  });
});
