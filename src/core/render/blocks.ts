/** Block Kit builders that enforce Slack's limits on whatever they are given. */

import { SLACK_LIMITS } from "./constants.js";
import { truncateEscapedText, truncateText } from "./escape.js";
import type { SlackBlock } from "./message-types.js";

const MAX_SECTION_FIELDS = 10;

export interface TextObject {
  type: "plain_text" | "mrkdwn";
  text: string;
  emoji?: boolean;
}

export function buildPlainText(text: string, max: number): TextObject {
  return { type: "plain_text", text: truncateText(text, max), emoji: true };
}

/**
 * A mrkdwn text object. Callers compose text that already fits; the cut here is a last guard, entity-aware
 * because the text is escaped.
 */
export function buildMrkdwn(text: string, max: number): TextObject {
  return { type: "mrkdwn", text: truncateEscapedText(text, max) };
}

export function buildHeaderBlock(text: string): SlackBlock {
  return { type: "header", text: buildPlainText(text, SLACK_LIMITS.headerText) };
}

export function buildSectionBlock(text: string): SlackBlock {
  return { type: "section", text: buildMrkdwn(text, SLACK_LIMITS.sectionText) };
}

export function buildFieldsBlock(fields: readonly string[]): SlackBlock {
  return {
    type: "section",
    fields: fields.slice(0, MAX_SECTION_FIELDS).map((field) => buildMrkdwn(field, SLACK_LIMITS.fieldText)),
  };
}

export function buildContextBlock(texts: readonly string[]): SlackBlock {
  return {
    type: "context",
    elements: texts
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => buildMrkdwn(text, SLACK_LIMITS.sectionText)),
  };
}

export function buildActionsBlock(elements: readonly SlackBlock[]): SlackBlock {
  return { type: "actions", elements: [...elements] };
}

/** A button that only opens `url` (the URL must already be validated). */
export function buildLinkButton(label: string, actionId: string, url: string): SlackBlock {
  return { type: "button", action_id: actionId, text: buildPlainText(label, SLACK_LIMITS.buttonText), url };
}

export interface ButtonOptions {
  style?: "primary" | "danger";
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

/** A button that sends `value` to the interaction handler under `actionId`. */
export function buildActionButton(
  label: string,
  actionId: string,
  value: string,
  options: ButtonOptions = {},
): SlackBlock {
  const button: SlackBlock = {
    type: "button",
    action_id: actionId,
    text: buildPlainText(label, SLACK_LIMITS.buttonText),
    value,
  };
  if (options.style !== undefined) button.style = options.style;
  if (options.confirm !== undefined) button.confirm = buildConfirm(options.confirm);
  return button;
}

function buildConfirm(dialog: NonNullable<ButtonOptions["confirm"]>): Record<string, TextObject> {
  // Slack's confirmation dialog limits: title 100, text 300, buttons 30.
  return {
    title: buildPlainText(dialog.title, 100),
    text: buildPlainText(dialog.text, 300),
    confirm: buildPlainText(dialog.confirm, 30),
    deny: buildPlainText(dialog.deny, 30),
  };
}
