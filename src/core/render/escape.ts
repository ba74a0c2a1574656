/** Escaping, cleaning and cutting of text for Slack. Pure string functions. */

const ELLIPSIS = "…";

/** Escapes Slack's three control characters (&, <, >) and nothing else, so `<!channel>` stays text. */
export function escapeSlackText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending in "…" when cut. Never splits a surrogate pair (a lone
 * surrogate makes Slack reject or mangle the message).
 */
export function truncateText(text: string, max: number): string {
  const limit = normalizeLimit(max);
  if (text.length <= limit) return text;
  if (limit === 0) return "";
  return `${cutBeforeSurrogateSplit(text, limit - ELLIPSIS.length)}${ELLIPSIS}`;
}

/**
 * Like truncateText for text that is already escaped: the cut also never leaves half an entity such as
 * `&am` behind (it cuts before the `&`), so the escaped result stays within `max`.
 */
export function truncateEscapedText(escaped: string, max: number): string {
  const limit = normalizeLimit(max);
  if (escaped.length <= limit) return escaped;
  if (limit === 0) return "";
  const kept = cutBeforeSurrogateSplit(escaped, limit - ELLIPSIS.length);
  return `${dropPartialEntity(kept)}${ELLIPSIS}`;
}

/** Escapes, then cuts: the length that counts is the escaped one. */
export function escapeAndTruncate(text: string, max: number): string {
  return truncateEscapedText(escapeSlackText(text), max);
}

/**
 * Makes untrusted text safe to measure and display: lone surrogates become U+FFFD, line breaks become
 * "\n", and control and bidi-override characters (which can hide or reorder what readers see) are dropped.
 */
export function cleanUntrustedText(text: string): string {
  return text
    .toWellFormed()
    .replace(/\r\n?|[\u2028\u2029]/g, "\n")
    .replace(/[\u202A-\u202E\u2066-\u2069]/g, "")
    .replace(/[^\P{Cc}\n\t]/gu, "");
}

/** cleanUntrustedText, then every run of whitespace as one space: for values shown on one line. */
export function cleanSingleLine(text: string): string {
  return cleanUntrustedText(text).replace(/\s+/g, " ").trim();
}

/** Breaks every run of backticks with zero-width spaces so text cannot close a ``` code block. */
export function neutralizeCodeFences(text: string): string {
  return text.replace(/`(?=`)/g, "`\u200B");
}

/** Replaces backticks with a look-alike so text cannot close an inline `code` span. */
export function neutralizeInlineCode(text: string): string {
  return text.replaceAll("`", "ˋ");
}

function normalizeLimit(max: number): number {
  return Number.isFinite(max) && max > 0 ? Math.floor(max) : 0;
}

function cutBeforeSurrogateSplit(text: string, end: number): string {
  const last = text.charCodeAt(end - 1);
  const isHighSurrogate = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, isHighSurrogate ? end - 1 : end);
}

function dropPartialEntity(escaped: string): string {
  // In escaped text every "&" starts an entity, so an "&" with no ";" after it is a cut entity.
  const amp = escaped.lastIndexOf("&");
  return amp !== -1 && !escaped.includes(";", amp) ? escaped.slice(0, amp) : escaped;
}
