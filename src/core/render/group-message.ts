/** The root message of a group, re-rendered from state on every sync and edited in place. */

import type { GroupRow } from "../types.js";
import {
  buildActionButton,
  buildActionsBlock,
  buildContextBlock,
  buildFieldsBlock,
  buildHeaderBlock,
  buildLinkButton,
  buildSectionBlock,
} from "./blocks.js";
import { ACTION_IDS, FALLBACK_TEXT_MAX, SLACK_LIMITS } from "./constants.js";
import {
  describeAgency,
  describeHeadline,
  describeHeadlinePlain,
  describeOccurrences,
  describeOwner,
  describeSeverityPlain,
  describeStatus,
  describeStatusWord,
  VALUE_MAX,
} from "./describe.js";
import { truncateEscapedText } from "./escape.js";
import { messageHash } from "./hash.js";
import type { RenderContext, RenderedMessage, SlackBlock, SlackMessage } from "./message-types.js";
import {
  formatCodeBlock,
  formatInlineCode,
  formatLink,
  formatSlackDate,
  joinLinesWithin,
  validUrl,
} from "./mrkdwn.js";

const ERROR_TITLE = "*Error*\n";
const MINIMAL_EXCERPT_MAX = 500;

/** The root message (blocks, short text fallback) and the hash that decides whether Slack needs an edit. */
export function renderGroupMessage(group: GroupRow, ctx: RenderContext): RenderedMessage {
  const message: SlackMessage = { text: buildFallbackText(group, ctx), blocks: buildGroupBlocks(group, ctx) };
  return { ...message, hash: messageHash(message) };
}

/** Text only, no blocks: what to post or edit in when Slack rejects the blocks. */
export function renderMinimalText(group: GroupRow, ctx: RenderContext): SlackMessage {
  const excerpt = formatCodeBlock(ctx.errorMessage, MINIMAL_EXCERPT_MAX);
  const link = formatLink(group.ui_url, "Open in UI");
  const lines = [
    `*${describeHeadline(group, ctx)}*`,
    `Status: ${describeStatus(group, ctx)}`,
    `Agency: ${describeAgency(group)} · Stage: ${formatInlineCode(ctx.stage, VALUE_MAX.identifier)} · Owner: ${describeOwner(group, ctx, true)}`,
    `Occurrences: ${describeOccurrences(group)} · last seen ${formatSlackDate(group.last_seen_at)}`,
    ...(excerpt === null ? [] : [excerpt]),
    ...(link === null ? [] : [link]),
  ];
  return { text: joinLinesWithin(lines, FALLBACK_TEXT_MAX), blocks: [] };
}

/** Mention-free on purpose: the fallback is what notifications show. */
function buildFallbackText(group: GroupRow, ctx: RenderContext): string {
  const status = describeStatusWord(group.status).toLowerCase();
  const text = `${describeHeadline(group, ctx)} — ${status} · ${describeOccurrences(group)}`;
  return truncateEscapedText(text, FALLBACK_TEXT_MAX);
}

function buildGroupBlocks(group: GroupRow, ctx: RenderContext): SlackBlock[] {
  const blocks = [
    buildHeaderBlock(describeHeadlinePlain(group, ctx)),
    buildSectionBlock(`*Status:* ${describeStatus(group, ctx)}`),
    buildFieldsBlock(buildGroupFields(group, ctx)),
    buildErrorBlock(ctx.errorMessage),
    buildContextBlock([buildIdentityLine(group)]),
    buildGroupActions(group, ctx),
  ];
  return blocks.filter((block) => block !== null).slice(0, SLACK_LIMITS.blocks);
}

function buildGroupFields(group: GroupRow, ctx: RenderContext): string[] {
  return [
    `*Severity*\n${describeSeverityPlain(group.current_severity)}`,
    `*Agency*\n${describeAgency(group)}`,
    `*Job*\n${formatInlineCode(group.job_name, VALUE_MAX.identifier)}`,
    `*Stage*\n${formatInlineCode(ctx.stage, VALUE_MAX.identifier)}`,
    `*Error class*\n${formatInlineCode(ctx.errorClass, VALUE_MAX.identifier)}`,
    `*Occurrences*\n${describeOccurrences(group)}`,
    `*First seen*\n${formatSlackDate(group.first_seen_at)}`,
    `*Last seen*\n${formatSlackDate(group.last_seen_at)}`,
    `*Owner*\n${describeOwner(group, ctx, true)}`,
  ];
}

function buildErrorBlock(errorMessage: string | null): SlackBlock | null {
  const excerpt = formatCodeBlock(errorMessage, SLACK_LIMITS.sectionText - ERROR_TITLE.length);
  return excerpt === null ? null : buildSectionBlock(`${ERROR_TITLE}${excerpt}`);
}

function buildIdentityLine(group: GroupRow): string {
  return [
    `Signal ${formatInlineCode(group.signal_type, VALUE_MAX.identifier)}`,
    `group ${formatInlineCode(group.id, VALUE_MAX.identifier)}`,
    `fingerprint ${formatInlineCode(group.fingerprint.slice(0, 12), VALUE_MAX.identifier)}`,
  ].join(" · ");
}

/** Ack/snooze/close for an active group when interactive, plus the UI link; null when there is no button. */
function buildGroupActions(group: GroupRow, ctx: RenderContext): SlackBlock | null {
  const url = validUrl(group.ui_url);
  const buttons = [
    ...(ctx.interactive ? buildStatusButtons(group) : []),
    ...(url === null ? [] : [buildLinkButton("Open in UI", ACTION_IDS.open, url)]),
  ];
  return buttons.length === 0 ? null : buildActionsBlock(buttons);
}

function buildStatusButtons(group: GroupRow): SlackBlock[] {
  // A value Slack would reject is better left out than cut: a cut id names no group.
  if (group.id.length > SLACK_LIMITS.buttonValue) return [];
  switch (group.status) {
    case "open":
    case "snoozed":
      return [buildAcknowledgeButton(group.id), ...buildSnoozeAndCloseButtons(group.id)];
    case "acknowledged":
      return buildSnoozeAndCloseButtons(group.id);
    case "closed":
      return [];
  }
}

function buildAcknowledgeButton(groupId: string): SlackBlock {
  return buildActionButton("Acknowledge", ACTION_IDS.acknowledge, groupId, { style: "primary" });
}

function buildSnoozeAndCloseButtons(groupId: string): SlackBlock[] {
  return [
    buildActionButton("Snooze 1h", ACTION_IDS.snooze1h, groupId),
    buildActionButton("Snooze 4h", ACTION_IDS.snooze4h, groupId),
    buildActionButton("Snooze 24h", ACTION_IDS.snooze24h, groupId),
    buildActionButton("Close", ACTION_IDS.close, groupId, {
      style: "danger",
      confirm: {
        title: "Close this alert?",
        text: "It stops reminders. A new failure within the reopen window reopens it.",
        confirm: "Close",
        deny: "Cancel",
      },
    }),
  ];
}
