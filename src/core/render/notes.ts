/** The smaller messages around a root: thread replies, owner DMs and the note when no DM got through. */

import type { GroupRow } from "../types.js";
import { buildContextBlock, buildFieldsBlock, buildSectionBlock } from "./blocks.js";
import { FALLBACK_TEXT_MAX, SLACK_LIMITS } from "./constants.js";
import {
  describeAgency,
  describeHeadline,
  describeOccurrences,
  describeOwner,
  describeReason,
  describeSeverityPlain,
  describeStatusWord,
  VALUE_MAX,
} from "./describe.js";
import type { OwnerDmContext, RenderContext, SlackMessage, ThreadEvent } from "./message-types.js";
import {
  formatCodeBlock,
  formatCount,
  formatInlineCode,
  formatLink,
  formatPlainValue,
  formatSlackDate,
  formatUser,
  joinLinesWithin,
} from "./mrkdwn.js";
import { describeDuration } from "./reminders.js";

const DM_EXCERPT_MAX = 1000;
const HOUR_MS = 3_600_000;
const PROBLEM_MAX = 200;
const SEVERITY_WORD_MAX = 40;
/** How many notified recipients an escalation reply names, and how long each may be. */
const NOTIFIED_SHOWN_MAX = 10;
const NOTIFIED_MAX = 100;

/**
 * One reply for every lifecycle event since the last one, plus the group's current state. Mentions nobody
 * but the user who acknowledged, when known.
 */
export function renderThreadReply(group: GroupRow, events: readonly ThreadEvent[]): SlackMessage {
  const body = joinLinesWithin(events.map(describeEvent), SLACK_LIMITS.sectionText);
  const state = `Now ${describeStatusWord(group.status).toLowerCase()} · ${describeSeverityPlain(group.current_severity)} · ${describeOccurrences(group)}`;
  const blocks = [...(body === "" ? [] : [buildSectionBlock(body)]), buildContextBlock([state])];
  return { text: joinLinesWithin(body === "" ? [state] : [body], FALLBACK_TEXT_MAX), blocks };
}

/** The DM to an owner when a group opens or reopens: what failed, and where to look. */
export function renderOwnerDm(group: GroupRow, ctx: OwnerDmContext): SlackMessage {
  const intro = describeDmIntro(group, ctx);
  const excerpt = formatCodeBlock(ctx.errorMessage, DM_EXCERPT_MAX);
  const links = [
    formatLink(ctx.permalink, "View the alert in the channel"),
    formatLink(group.ui_url, "Open in UI"),
  ]
    .filter((link) => link !== null)
    .join(" · ");
  const blocks = [
    buildSectionBlock(intro),
    buildFieldsBlock([
      `*Agency*\n${describeAgency(group)}`,
      `*Job*\n${formatInlineCode(group.job_name, VALUE_MAX.identifier)}`,
      `*Stage*\n${formatInlineCode(ctx.stage, VALUE_MAX.identifier)}`,
      `*Error class*\n${formatInlineCode(ctx.errorClass, VALUE_MAX.identifier)}`,
      `*Occurrences*\n${describeOccurrences(group)}`,
      `*Last seen*\n${formatSlackDate(group.last_seen_at)}`,
    ]),
    ...(excerpt === null ? [] : [buildSectionBlock(excerpt)]),
    ...(links === "" ? [] : [buildSectionBlock(links)]),
  ];
  return { text: intro, blocks };
}

/**
 * A note for the root's thread when no DM reached anyone, so the channel knows. Mentions nobody: the owner
 * appears by internal id even when a Slack id is known.
 */
export function renderUndeliveredDmNote(
  group: GroupRow,
  ctx: RenderContext,
  problems: readonly string[],
): SlackMessage {
  const owner = describeOwner(group, ctx, false);
  const headline =
    owner === "unowned"
      ? "⚠️ This alert has no owner, so nobody was notified by DM."
      : `⚠️ Nobody was notified by DM about this alert. Owner: ${owner}.`;
  const details = problems.map((problem) => `• ${formatPlainValue(problem, PROBLEM_MAX)}`);
  const text = joinLinesWithin([headline, ...details], Math.min(SLACK_LIMITS.sectionText, FALLBACK_TEXT_MAX));
  return { text, blocks: [buildSectionBlock(text)] };
}

function describeDmIntro(group: GroupRow, ctx: OwnerDmContext): string {
  const what = ctx.reason === "opened" ? "A new alert" : "An alert that was closed has reopened";
  const who =
    ctx.role === "primary"
      ? "you own it"
      : "you are its secondary owner, because the primary owner could not be reached";
  return `${what}, and ${who}: *${describeHeadline(group, ctx)}*`;
}

function describeEvent(event: ThreadEvent): string {
  switch (event.kind) {
    case "reopened":
      return "🔁 *Reopened*: it failed again after being closed.";
    case "escalated":
      return `⬆️ *Escalated* from ${describeSeverityWord(event.from)} to ${describeSeverityWord(event.to)}`;
    case "closed": {
      const reason = describeReason(event.reason);
      return reason === null ? "✅ *Closed*" : `✅ *Closed*: ${reason}`;
    }
    case "acknowledged":
      return `👀 *Acknowledged* by ${formatUser(event.bySlackUserId, event.byUserId) ?? "someone"}`;
    case "snoozed":
      return `😴 *Snoozed* until ${formatSlackDate(event.until)}`;
    case "reminder_escalated": {
      const openFor = describeDuration(event.hours * HOUR_MS);
      const open = openFor === null ? "open" : `open for ${openFor}`;
      return `⏫ *Escalated*: ${open} without acknowledgement; notified: ${describeNotified(event.notified)}`;
    }
    case "snooze_expired":
      return "⏰ *Snooze ended*: back to open";
  }
}

/** Recipients as escaped text, never mentions: the thread is public and they already got a DM. */
function describeNotified(notified: readonly string[]): string {
  const shown = notified.slice(0, NOTIFIED_SHOWN_MAX).map((entry) => formatPlainValue(entry, NOTIFIED_MAX));
  const rest = notified.length - shown.length;
  if (shown.length === 0) return "nobody";
  return rest > 0 ? `${shown.join(", ")} and ${formatCount(rest)} more` : shown.join(", ");
}

function describeSeverityWord(severity: string): string {
  return formatPlainValue(severity.toUpperCase(), SEVERITY_WORD_MAX);
}
