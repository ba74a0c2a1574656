/** The reminder DM: an open group nobody has acknowledged, sent at T2, at T8 (escalation) and daily after. */

import type { GroupRow } from "../types.js";
import { buildContextBlock, buildFieldsBlock, buildSectionBlock } from "./blocks.js";
import { FALLBACK_TEXT_MAX } from "./constants.js";
import {
  describeAgency,
  describeHeadline,
  describeOccurrences,
  describeOwner,
  VALUE_MAX,
} from "./describe.js";
import { truncateEscapedText } from "./escape.js";
import type { ReminderDmContext, SlackMessage } from "./message-types.js";
import { formatCodeBlock, formatInlineCode, formatLink, formatSlackDate, parseZonedTime } from "./mrkdwn.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const DM_EXCERPT_MAX = 1000;

/**
 * What is wrong, for how long, how often, which reminder this is, where to look and what to do. Mentions
 * nobody: it is the recipient's own DM, and the owner field names people by internal id.
 */
export function renderReminderDm(group: GroupRow, ctx: ReminderDmContext): SlackMessage {
  const intro = truncateEscapedText(describeReminderIntro(group, ctx), FALLBACK_TEXT_MAX);
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
      `*Open since*\n${formatSlackDate(ctx.openSince)}`,
      `*Last seen*\n${formatSlackDate(group.last_seen_at)}`,
      `*Owner*\n${describeOwner(group, ctx, false)}`,
    ]),
    ...(excerpt === null ? [] : [buildSectionBlock(excerpt)]),
    ...(links === "" ? [] : [buildSectionBlock(links)]),
    buildContextBlock([describeWhatToDo(ctx)]),
  ];
  return { text: intro, blocks };
}

/**
 * A duration for people: "45 min", "8 h 15 min", "2 d 3 h" (coarser as it grows, always rounded down),
 * "less than a minute"; null for a negative or unreadable one.
 */
export function describeDuration(ms: number): string | null {
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < MINUTE_MS) return "less than a minute";
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.floor((ms % DAY_MS) / HOUR_MS);
  const minutes = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  const parts =
    days > 0
      ? [`${days} d`, hours > 0 ? `${hours} h` : null]
      : [hours > 0 ? `${hours} h` : null, minutes > 0 ? `${minutes} min` : null];
  return parts.filter((part) => part !== null).join(" ");
}

/** "open for 8 h 15 min", or just "open" when the times cannot be read (the field still shows openSince). */
function describeOpenFor(ctx: ReminderDmContext): string {
  const since = parseZonedTime(ctx.openSince);
  const now = parseZonedTime(ctx.now);
  const duration = since === undefined || now === undefined ? null : describeDuration(now - since);
  return duration === null ? "open" : `open for ${duration}`;
}

function describeReminderIntro(group: GroupRow, ctx: ReminderDmContext): string {
  const headline = `*${describeHeadline(group, ctx)}*`;
  const openFor = describeOpenFor(ctx);
  switch (ctx.tier) {
    case "t2":
      return ctx.role === "owner"
        ? `⏰ *Reminder*: an alert you own has been ${openFor} without acknowledgement: ${headline}`
        : `⏰ *Reminder*: an alert for which you are the secondary owner has been ${openFor} without acknowledgement: ${headline}`;
    case "t8":
      return ctx.role === "owner"
        ? `⏫ *Second reminder*: an alert you own has been ${openFor} without acknowledgement, so it has been escalated: ${headline}`
        : `⏫ *Escalated to you as secondary owner*: an alert has been ${openFor} without acknowledgement by its owner: ${headline}`;
    case "daily":
      return ctx.role === "owner"
        ? `📅 *Daily reminder*: an alert you own has been ${openFor} without acknowledgement: ${headline}`
        : `📅 *Daily reminder*: an alert escalated to you as secondary owner has been ${openFor} without acknowledgement: ${headline}`;
  }
}

function describeWhatToDo(ctx: ReminderDmContext): string {
  const stop =
    "Acknowledge it (or snooze it) from the alert in the channel or in the UI to stop these reminders; close it when it is fixed.";
  switch (ctx.tier) {
    case "t2":
      return `${stop} If nobody acknowledges it, it is escalated to the secondary owner later.`;
    case "t8":
    case "daily":
      return `${stop} Until then a reminder follows once a day.`;
  }
}
