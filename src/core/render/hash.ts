/** Content hash of a message: the sync edits Slack only when this differs from slack_message_hash. */

import { createHash } from "node:crypto";
import type { SlackMessage } from "./message-types.js";

/** sha256 hex of the canonical JSON of {text, blocks} (any other property, such as a hash, is ignored). */
export function messageHash(message: SlackMessage): string {
  const canonical = canonicalJson({ text: message.text, blocks: message.blocks });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** JSON with object keys sorted at every level, so equal data always gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
