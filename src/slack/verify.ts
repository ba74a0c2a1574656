import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Verification of Slack's request signatures (signing scheme v0). Pure apart from node:crypto: the caller
 * passes the raw body exactly as received (before any parsing) and the current time.
 */

export type SlackVerification = { ok: true } | { ok: false; reason: string };

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

const SIGNATURE_HEADER = "x-slack-signature";
const TIMESTAMP_HEADER = "x-slack-request-timestamp";
const VERSION = "v0";
/** Slack's replay window; requests older or newer than this are refused. */
const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Slack's v0 signing scheme: basestring `v0:${timestamp}:${rawBody}`, HMAC-SHA256 with the signing secret, hex,
 * compared to header `x-slack-signature` ("v0=<hex>") in constant time (crypto.timingSafeEqual, guard unequal lengths);
 * `x-slack-request-timestamp` must be within 5 minutes of `now` in BOTH directions (stale and future rejected).
 *
 * Throws only on caller mistakes (empty secret, invalid `now`), so a misconfiguration fails loudly instead of
 * accepting or refusing everything quietly.
 */
export function verifySlackRequest(
  rawBody: string | Buffer,
  headers: HeaderBag,
  signingSecret: string,
  now: Date,
): SlackVerification {
  assertSecret(signingSecret);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError("verifySlackRequest: now is an invalid Date");

  const signature = readHeader(headers, SIGNATURE_HEADER);
  if (!signature.ok) return signature;
  const timestampText = readHeader(headers, TIMESTAMP_HEADER);
  if (!timestampText.ok) return timestampText;

  const timestamp = parseTimestamp(timestampText.value);
  if (timestamp === undefined) return { ok: false, reason: "malformed timestamp" };
  // Whole seconds on both sides, as Slack sends them; the exact ±300 s edges are still accepted.
  const skew = Math.floor(nowMs / 1000) - timestamp;
  if (Math.abs(skew) > MAX_SKEW_SECONDS)
    return { ok: false, reason: "timestamp outside the 5-minute window" };

  if (!signature.value.startsWith(`${VERSION}=`))
    return { ok: false, reason: "unsupported signature version" };

  const expected = Buffer.from(computeSignature(rawBody, signingSecret, timestamp), "utf8");
  const received = Buffer.from(signature.value, "utf8");
  // timingSafeEqual throws on unequal lengths; a length difference leaks nothing the format does not already.
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: "signature mismatch" };
  }
  return { ok: true };
}

/** Builds the headers for a body (used by tests and by people testing their receiver). */
export function signSlackRequest(
  rawBody: string | Buffer,
  signingSecret: string,
  timestampSeconds: number,
): { "x-slack-request-timestamp": string; "x-slack-signature": string } {
  assertSecret(signingSecret);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError("signSlackRequest: timestampSeconds must be a non-negative integer");
  }
  return {
    [TIMESTAMP_HEADER]: String(timestampSeconds),
    [SIGNATURE_HEADER]: computeSignature(rawBody, signingSecret, timestampSeconds),
  };
}

function computeSignature(rawBody: string | Buffer, signingSecret: string, timestamp: number): string {
  const hmac = createHmac("sha256", signingSecret);
  hmac.update(`${VERSION}:${timestamp}:`, "utf8");
  // A Buffer is hashed as the exact bytes received: decoding it first would alter invalid UTF-8.
  hmac.update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody);
  return `${VERSION}=${hmac.digest("hex")}`;
}

function assertSecret(signingSecret: string): void {
  // With an empty key anyone can compute a valid signature, so it must never be used to verify.
  if (signingSecret.length === 0) throw new TypeError("Slack signing secret is empty");
}

function parseTimestamp(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : undefined;
}

function readHeader(
  headers: HeaderBag,
  name: string,
): { ok: true; value: string } | { ok: false; reason: string } {
  let raw: string | string[] | null | undefined;
  if (headers instanceof Headers) {
    raw = headers.get(name);
  } else {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() !== name) continue;
      if (raw !== undefined && value !== undefined) return { ok: false, reason: `multiple ${name} headers` };
      raw = value;
    }
  }
  if (Array.isArray(raw)) {
    // Frameworks hand repeated headers over as arrays; only an unambiguous single value is usable.
    if (raw.length > 1) return { ok: false, reason: `multiple ${name} headers` };
    raw = raw[0];
  }
  if (raw === undefined || raw === null || raw.trim() === "") {
    return { ok: false, reason: `missing ${name} header` };
  }
  return { ok: true, value: raw.trim() };
}
