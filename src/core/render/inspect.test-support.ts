/**
 * Test support for the renderers' tests (not built into dist): walking Block Kit data for the texts Slack
 * parses, so each test checks escaping and limits the same way.
 */
import type { SlackMessage } from "./index.js";

export interface TextObject {
  type: string;
  text: string;
}

export function isTextObject(value: unknown): value is TextObject {
  return (
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    "text" in value &&
    typeof value.text === "string" &&
    (value.type === "mrkdwn" || value.type === "plain_text")
  );
}

/** Every text object in the blocks, however deeply nested. */
export function collectTextObjects(value: unknown, found: TextObject[] = []): TextObject[] {
  if (isTextObject(value)) found.push(value);
  if (Array.isArray(value)) for (const item of value) collectTextObjects(item, found);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) collectTextObjects(item, found);
  return found;
}

/** The message text and every mrkdwn text in its blocks: what Slack parses for mentions and links. */
export function collectMrkdwn(message: SlackMessage): string[] {
  return [
    message.text,
    ...collectTextObjects(message.blocks)
      .filter((t) => t.type === "mrkdwn")
      .map((t) => t.text),
  ];
}

/** Every string anywhere in a value. */
export function collectStrings(value: unknown, found: string[] = []): string[] {
  if (typeof value === "string") found.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, found);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) collectStrings(item, found);
  return found;
}
