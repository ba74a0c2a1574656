/** How each part of a group reads in a message. Every function returns escaped mrkdwn unless named *Plain. */

import type { GroupRow, GroupStatus, Severity } from "../types.js";
import { cleanSingleLine, escapeAndTruncate } from "./escape.js";
import type { RenderContext } from "./message-types.js";
import { formatCount, formatPlainText, formatPlainValue, formatSlackDate, formatUser } from "./mrkdwn.js";

/** Per-value caps, far below Slack's limits so that a field built from several values still fits. */
export const VALUE_MAX = { identifier: 200, reason: 500, summaryPart: 120 } as const;

export function describeSeverityEmoji(severity: Severity): string {
  switch (severity) {
    case "info":
      return "🔵";
    case "warning":
      return "🟡";
    case "error":
      return "🔴";
    case "critical":
      return "🚨";
  }
}

export function describeSeverityPlain(severity: Severity): string {
  return `${describeSeverityEmoji(severity)} ${severity.toUpperCase()}`;
}

export function describeStatusWord(status: GroupStatus): string {
  switch (status) {
    case "open":
      return "Open";
    case "acknowledged":
      return "Acknowledged";
    case "snoozed":
      return "Snoozed";
    case "closed":
      return "Closed";
  }
}

/** The status with who, until when or why, e.g. "Acknowledged by <@U1> at <date>". */
export function describeStatus(group: GroupRow, ctx: RenderContext): string {
  switch (group.status) {
    case "open":
      return "Open";
    case "acknowledged":
      return joinWords([
        "Acknowledged",
        prefixed("by", formatUser(ctx.acknowledgedBySlackUserId, group.acknowledged_by_user_id)),
        prefixed("at", group.acknowledged_at === null ? null : formatSlackDate(group.acknowledged_at)),
      ]);
    case "snoozed":
      return joinWords([
        "Snoozed",
        prefixed("until", group.snoozed_until === null ? null : formatSlackDate(group.snoozed_until)),
      ]);
    case "closed":
      return joinWords([
        "Closed",
        group.closed_at === null ? null : formatSlackDate(group.closed_at),
        prefixed("—", describeReason(ctx.closedReason)),
      ]);
  }
}

export function describeReason(reason: string | null): string | null {
  const clean = reason === null ? "" : cleanSingleLine(reason);
  return clean === "" ? null : escapeAndTruncate(clean, VALUE_MAX.reason);
}

/** agency_slug, else agency_id, else "no agency". */
export function describeAgency(group: GroupRow): string {
  const agency = firstNonBlank(group.agency_slug, group.agency_id);
  return agency === null ? "no agency" : formatPlainValue(agency, VALUE_MAX.identifier);
}

/** "<@U1> (team data)", "alice", "team data" or "unowned"; the group row fills in what ctx leaves out. */
export function describeOwner(group: GroupRow, ctx: RenderContext, mention: boolean): string {
  const user = formatUser(
    mention ? ctx.ownerSlackUserId : null,
    ctx.ownerUserId ?? group.assigned_to_user_id,
  );
  const teamId = firstNonBlank(ctx.ownerTeamId, group.assigned_team_id);
  const team = teamId === null ? null : `team ${formatPlainValue(teamId, VALUE_MAX.identifier)}`;
  if (user !== null && team !== null) return `${user} (${team})`;
  return user ?? team ?? "unowned";
}

export function describeOccurrences(group: GroupRow): string {
  return `${formatCount(group.count_total)} total · ${formatCount(group.count_24h)} in 24h`;
}

/** The job a group is about: job_name, else signal_type, else "unknown job" (unescaped, one line). */
export function describeJobPlain(group: GroupRow): string {
  return firstNonBlank(group.job_name, group.signal_type) ?? "unknown job";
}

/** e.g. "🔴 ERROR · orders_daily · UniqueViolation", for plain_text (not escaped). */
export function describeHeadlinePlain(group: GroupRow, ctx: RenderContext): string {
  const parts = [
    describeSeverityPlain(group.current_severity),
    formatPlainText(describeJobPlain(group), VALUE_MAX.summaryPart),
    formatPlainText(ctx.errorClass ?? "", VALUE_MAX.summaryPart),
  ];
  return parts.filter((part) => part !== "").join(" · ");
}

/** The headline for mrkdwn: each part escaped first, then cut, so the escaped length is what is bounded. */
export function describeHeadline(group: GroupRow, ctx: RenderContext): string {
  const parts = [
    describeSeverityPlain(group.current_severity),
    escapeAndTruncate(describeJobPlain(group), VALUE_MAX.summaryPart),
    escapeAndTruncate(firstNonBlank(ctx.errorClass) ?? "", VALUE_MAX.summaryPart),
  ];
  return parts.filter((part) => part !== "").join(" · ");
}

/** The first value that is not null or blank, cleaned to one line. */
export function firstNonBlank(...values: readonly (string | null)[]): string | null {
  for (const value of values) {
    const clean = value === null ? "" : cleanSingleLine(value);
    if (clean !== "") return clean;
  }
  return null;
}

function prefixed(prefix: string, value: string | null): string | null {
  return value === null ? null : `${prefix} ${value}`;
}

function joinWords(words: readonly (string | null)[]): string {
  return words.filter((word) => word !== null).join(" ");
}
