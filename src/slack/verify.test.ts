import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signSlackRequest, verifySlackRequest } from "./verify.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const T = 1_531_420_618;
const NOW = new Date(T * 1000);
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V" +
  "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J";

function at(seconds: number): Date {
  return new Date(seconds * 1000);
}

describe("signSlackRequest", () => {
  it("computes HMAC-SHA256 over v0:timestamp:body, hex, prefixed with v0=", () => {
    const expected = createHmac("sha256", SECRET).update(`v0:${T}:${BODY}`).digest("hex");
    expect(signSlackRequest(BODY, SECRET, T)).toEqual({
      "x-slack-request-timestamp": String(T),
      "x-slack-signature": `v0=${expected}`,
    });
  });

  it("refuses an empty secret and a non-integer timestamp", () => {
    expect(() => signSlackRequest(BODY, "", T)).toThrow(TypeError);
    expect(() => signSlackRequest(BODY, SECRET, 1.5)).toThrow(RangeError);
    expect(() => signSlackRequest(BODY, SECRET, -1)).toThrow(RangeError);
  });
});

describe("verifySlackRequest", () => {
  const headers = signSlackRequest(BODY, SECRET, T);

  it("accepts a correctly signed request", () => {
    expect(verifySlackRequest(BODY, headers, SECRET, NOW)).toEqual({ ok: true });
  });

  it("rejects a tampered body", () => {
    expect(verifySlackRequest(`${BODY}&x=1`, headers, SECRET, NOW)).toEqual({
      ok: false,
      reason: "signature mismatch",
    });
  });

  it("rejects a signature made with another secret, without revealing either", () => {
    const forged = signSlackRequest(BODY, "another-secret", T);
    const result = verifySlackRequest(BODY, forged, SECRET, NOW);
    expect(result).toEqual({ ok: false, reason: "signature mismatch" });
    const reason = result.ok ? "" : result.reason;
    expect(reason).not.toContain(SECRET);
    expect(reason).not.toContain(headers["x-slack-signature"].slice(3, 20));
  });

  it("rejects stale and future timestamps and accepts the exact ±300 s edges", () => {
    const window = "timestamp outside the 5-minute window";
    expect(verifySlackRequest(BODY, headers, SECRET, at(T + 301))).toEqual({ ok: false, reason: window });
    expect(verifySlackRequest(BODY, headers, SECRET, at(T - 301))).toEqual({ ok: false, reason: window });
    expect(verifySlackRequest(BODY, headers, SECRET, at(T + 300))).toEqual({ ok: true });
    expect(verifySlackRequest(BODY, headers, SECRET, at(T - 300))).toEqual({ ok: true });
    // Sub-second parts of `now` do not push an edge request out of the window.
    expect(verifySlackRequest(BODY, headers, SECRET, new Date((T + 300) * 1000 + 999))).toEqual({ ok: true });
  });

  it("rejects a replay whose timestamp was moved without re-signing", () => {
    const moved = { ...headers, "x-slack-request-timestamp": String(T + 10) };
    expect(verifySlackRequest(BODY, moved, SECRET, NOW)).toEqual({ ok: false, reason: "signature mismatch" });
  });

  it("names a missing header", () => {
    expect(verifySlackRequest(BODY, { "x-slack-request-timestamp": String(T) }, SECRET, NOW)).toEqual({
      ok: false,
      reason: "missing x-slack-signature header",
    });
    expect(
      verifySlackRequest(BODY, { "x-slack-signature": headers["x-slack-signature"] }, SECRET, NOW),
    ).toEqual({ ok: false, reason: "missing x-slack-request-timestamp header" });
    expect(verifySlackRequest(BODY, { ...headers, "x-slack-signature": "" }, SECRET, NOW)).toEqual({
      ok: false,
      reason: "missing x-slack-signature header",
    });
    expect(verifySlackRequest(BODY, { ...headers, "x-slack-signature": undefined }, SECRET, NOW)).toEqual({
      ok: false,
      reason: "missing x-slack-signature header",
    });
  });

  it("rejects malformed timestamps and signatures", () => {
    for (const timestamp of ["abc", "1531420618.5", "-1531420618", "1e9", "0x5b47", "99999999999999999999"]) {
      expect(
        verifySlackRequest(BODY, { ...headers, "x-slack-request-timestamp": timestamp }, SECRET, NOW),
      ).toEqual({ ok: false, reason: "malformed timestamp" });
    }
    const hex = headers["x-slack-signature"].slice(3);
    expect(verifySlackRequest(BODY, { ...headers, "x-slack-signature": `v1=${hex}` }, SECRET, NOW)).toEqual({
      ok: false,
      reason: "unsupported signature version",
    });
    expect(verifySlackRequest(BODY, { ...headers, "x-slack-signature": hex }, SECRET, NOW)).toEqual({
      ok: false,
      reason: "unsupported signature version",
    });
    for (const signature of ["v0=", "v0=abc", `v0=${hex}00`, `v0=${hex.toUpperCase()}`]) {
      expect(verifySlackRequest(BODY, { ...headers, "x-slack-signature": signature }, SECRET, NOW)).toEqual({
        ok: false,
        reason: "signature mismatch",
      });
    }
  });

  it("reads header names case-insensitively", () => {
    const mixed = {
      "X-Slack-Request-Timestamp": headers["x-slack-request-timestamp"],
      "X-SLACK-SIGNATURE": headers["x-slack-signature"],
    };
    expect(verifySlackRequest(BODY, mixed, SECRET, NOW)).toEqual({ ok: true });
  });

  it("accepts single-element array headers and rejects repeated ones", () => {
    const arrays = {
      "x-slack-request-timestamp": [headers["x-slack-request-timestamp"]],
      "x-slack-signature": [headers["x-slack-signature"]],
    };
    expect(verifySlackRequest(BODY, arrays, SECRET, NOW)).toEqual({ ok: true });
    const repeated = { ...arrays, "x-slack-signature": ["v0=deadbeef", headers["x-slack-signature"]] };
    expect(verifySlackRequest(BODY, repeated, SECRET, NOW)).toEqual({
      ok: false,
      reason: "multiple x-slack-signature headers",
    });
    const twoSpellings = { ...headers, "X-Slack-Signature": "v0=deadbeef" };
    expect(verifySlackRequest(BODY, twoSpellings, SECRET, NOW)).toEqual({
      ok: false,
      reason: "multiple x-slack-signature headers",
    });
  });

  it("accepts a fetch Headers instance", () => {
    expect(verifySlackRequest(BODY, new Headers(headers), SECRET, NOW)).toEqual({ ok: true });
    const appended = new Headers(headers);
    appended.append("x-slack-signature", "v0=deadbeef");
    expect(verifySlackRequest(BODY, appended, SECRET, NOW)).toEqual({
      ok: false,
      reason: "signature mismatch",
    });
  });

  it("hashes a Buffer body as its exact bytes, including non-ASCII and invalid UTF-8", () => {
    const text = '{"text":"Zürich ✓ 日本 🚨"}';
    const signed = signSlackRequest(text, SECRET, T);
    expect(verifySlackRequest(Buffer.from(text, "utf8"), signed, SECRET, NOW)).toEqual({ ok: true });
    expect(verifySlackRequest(Buffer.from(text, "latin1"), signed, SECRET, NOW)).toEqual({
      ok: false,
      reason: "signature mismatch",
    });
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const binarySigned = signSlackRequest(invalidUtf8, SECRET, T);
    expect(verifySlackRequest(invalidUtf8, binarySigned, SECRET, NOW)).toEqual({ ok: true });
    expect(verifySlackRequest(invalidUtf8.toString("utf8"), binarySigned, SECRET, NOW)).toEqual({
      ok: false,
      reason: "signature mismatch",
    });
  });

  it("throws on caller mistakes instead of deciding", () => {
    expect(() => verifySlackRequest(BODY, headers, "", NOW)).toThrow(TypeError);
    expect(() => verifySlackRequest(BODY, headers, SECRET, new Date(Number.NaN))).toThrow(RangeError);
  });

  it("fails for any single-byte change of the body", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, position, delta) => {
          const body = Buffer.from(bytes);
          const signed = signSlackRequest(body, SECRET, T);
          const changed = Buffer.from(body);
          const index = position % changed.length;
          changed[index] = ((changed[index] ?? 0) + delta) % 256;
          expect(verifySlackRequest(body, signed, SECRET, NOW)).toEqual({ ok: true });
          expect(verifySlackRequest(changed, signed, SECRET, NOW)).toEqual({
            ok: false,
            reason: "signature mismatch",
          });
        },
      ),
    );
  });
});
