/** Building blocks of mrkdwn text: every untrusted value goes through one of these before display. */

import {
  cleanSingleLine,
  cleanUntrustedText,
  escapeAndTruncate,
  escapeSlackText,
  neutralizeCodeFences,
  neutralizeInlineCode,
  truncateText,
} from "./escape.js";

/** What an absent or empty value shows as. */
export const MISSING = "—";

const SLACK_USER_ID = /^[UW][A-Z0-9]{1,30}$/;
const LINKABLE_URL = /^https?:\/\/[^\s<>|]+$/i;
const URL_MAX = 3000;
// A zone is required: without one Date.parse reads the machine's local time, which breaks determinism.
const ZONED_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[zZ]|[+-]\d{2}(?::?\d{2})?))?$/;

/** An untrusted value on one line, escaped, at most `max` units (escaped length). */
export function formatPlainValue(raw: string | null, max: number): string {
  const clean = raw === null ? "" : cleanSingleLine(raw);
  return clean === "" ? MISSING : escapeAndTruncate(clean, max);
}

/** An untrusted identifier as an inline code span (no mrkdwn styling inside), at most `max` units. */
export function formatInlineCode(raw: string | null, max: number): string {
  const clean = raw === null ? "" : cleanSingleLine(raw);
  return clean === "" ? MISSING : `\`${escapeAndTruncate(neutralizeInlineCode(clean), max - 2)}\``;
}

/** Untrusted multi-line text as a ``` code block of at most `max` units, fences included; null if empty. */
export function formatCodeBlock(raw: string | null, max: number): string | null {
  const clean = raw === null ? "" : cleanUntrustedText(raw).trim();
  if (clean === "") return null;
  const open = "```\n";
  const close = "\n```";
  return `${open}${escapeAndTruncate(neutralizeCodeFences(clean), max - open.length - close.length)}${close}`;
}

/**
 * Untrusted text for a plain_text object: cleaned and cut, not escaped (Slack does not parse plain_text),
 * but with a zero-width space after every "<" so that no `<!channel>` appears even if it is ever copied
 * into mrkdwn.
 */
export function formatPlainText(raw: string, max: number): string {
  return truncateText(defuseMarkup(cleanSingleLine(raw)), max);
}

export function defuseMarkup(text: string): string {
  return text.replaceAll("<", "<\u200B");
}

/** Epoch milliseconds of an ISO time with an explicit zone (or a bare date, as UTC), else undefined. */
export function parseZonedTime(text: string): number | undefined {
  const trimmed = text.trim();
  if (!ZONED_TIME.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A time as Slack's date token, which each reader sees in their own zone and which never depends on
 * "now"; the fallback (for clients that cannot render it) is UTC to the minute.
 */
export function formatSlackDate(iso: string): string {
  const ms = parseZonedTime(iso);
  if (ms === undefined) return formatPlainValue(iso, 64);
  const epoch = Math.floor(ms / 1000);
  const fallback = `${new Date(epoch * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${epoch}^{date_short_pretty} {time}|${fallback}>`;
}

/** A Slack user id that is safe to put inside <@…>, else null. */
export function validSlackUserId(id: string | null): string | null {
  return id !== null && SLACK_USER_ID.test(id) ? id : null;
}

/** A user as a mention when the Slack id is valid, else the internal id as escaped text, else null. */
export function formatUser(slackUserId: string | null, userId: string | null): string | null {
  const slackId = validSlackUserId(slackUserId);
  if (slackId !== null) return `<@${slackId}>`;
  if (userId === null || cleanSingleLine(userId) === "") return null;
  return formatPlainValue(userId, 100);
}

/** A URL that Slack accepts as a link or button target (http(s), no spaces or <>|, within Slack's limit). */
export function validUrl(url: string | null): string | null {
  return url !== null && url.length <= URL_MAX && LINKABLE_URL.test(url) ? url : null;
}

/** `<url|label>`, both escaped (Slack reads `&amp;` in a URL as `&`), or null when the URL is unusable. */
export function formatLink(url: string | null, label: string): string | null {
  const target = validUrl(url);
  return target === null ? null : `<${escapeSlackText(target)}|${escapeSlackText(label)}>`;
}

/** An integer with thousands separators, independent of the machine's locale. */
export function formatCount(count: number): string {
  if (!Number.isSafeInteger(count)) return String(count);
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Joins lines with "\n" within `max` units, dropping whole lines from the end (and saying how many) rather
 * than cutting through a mention or date token.
 */
export function joinLinesWithin(lines: readonly string[], max: number): string {
  const all = lines.join("\n");
  if (all.length <= max) return all;
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const length = used + (kept.length > 0 ? 1 : 0) + line.length;
    const rest = lines.length - index - 1;
    const tail = rest > 0 ? describeDropped(rest).length + 1 : 0;
    if (length + tail > max) {
      kept.push(describeDropped(lines.length - index));
      break;
    }
    kept.push(line);
    used = length;
  }
  return kept.join("\n");
}

function describeDropped(count: number): string {
  return `…and ${formatCount(count)} more`;
}
