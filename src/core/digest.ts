/**
 * The daily digest: one Slack message summarising the day's groups. Pure: the job loads the groups and
 * computes the 24 h activity flags; this module only decides what to show and renders it within Slack's
 * limits. No I/O, no clock (ages are measured from `input.now`).
 */

import { buildContextBlock, buildHeaderBlock, buildSectionBlock } from "./render/blocks.js";
import { FALLBACK_TEXT_MAX, SLACK_LIMITS } from "./render/constants.js";
import { describeSeverityEmoji, firstNonBlank } from "./render/describe.js";
import { escapeAndTruncate, escapeSlackText, truncateEscapedText } from "./render/escape.js";
import type { SlackBlock, SlackMessage } from "./render/index.js";
import {
  formatCount,
  formatInlineCode,
  formatLink,
  formatPlainText,
  formatPlainValue,
  formatSlackDate,
  formatUser,
  parseZonedTime,
  validUrl,
} from "./render/mrkdwn.js";
import {
  GROUP_STATUSES,
  type GroupStatus,
  isActiveStatus,
  SEVERITIES,
  type Severity,
  severityRank,
} from "./types.js";

/** One group as the digest sees it (loaded by the job; active groups plus those closed in the last 24 h). */
export interface DigestGroup {
  id: string;
  status: GroupStatus;
  current_severity: Severity;
  agency_id: string | null;
  agency_slug: string | null;
  job_name: string | null;
  signal_type: string | null;
  /** Of the last signal. */
  error_class: string | null;
  first_seen_at: string;
  last_seen_at: string;
  count_total: number;
  count_24h: number;
  assigned_to_user_id: string | null;
  assigned_team_id: string | null;
  acknowledged_at: string | null;
  acknowledged_by_user_id: string | null;
  snoozed_until: string | null;
  closed_at: string | null;
  /** When it last became open; "oldest first" and the age shown are measured from first_seen_at. */
  open_since: string | null;
  ui_url: string | null;
  /** Activity in the 24 h before `now`, computed by the job. */
  opened_24h: boolean;
  reopened_24h: boolean;
  closed_24h: boolean;
  /** Closed by the system because the pipeline recovered / the problem went away. */
  auto_closed_24h: boolean;
  /** Last time a user acted on it, for "acknowledged but untouched for more than a day". */
  last_user_activity_at: string | null;
}

export interface DigestInput {
  /** YYYY-MM-DD in timeZone: the digest's date. */
  localDate: string;
  /** IANA zone, shown only: the job has already turned it into localDate and the 24 h flags. */
  timeZone: string;
  /** ISO; ages are relative to it (the digest is a one-off message, never edited). */
  now: string;
  groups: readonly DigestGroup[];
  /** Internal user id -> Slack id, for <@U…> owner mentions. */
  slackUserIds: ReadonlyMap<string, string>;
  /** "…and N more" links go to `${appBaseUrl}/signal-groups?…`; without it, no link. */
  appBaseUrl: string | undefined;
  /** Sources whose last successful ingest is too old (may be empty). */
  staleSources?: readonly { source: string; lastSuccessAt: string | null }[];
}

export interface DigestCounts {
  /** Active groups plus those closed in the last 24 h. */
  byStatus: Record<GroupStatus, number>;
  /** Active groups only. */
  bySeverity: Record<Severity, number>;
  new24h: number;
  reopened24h: number;
  closed24h: number;
  autoClosed24h: number;
  stillOpen: number;
  ackUntouched: number;
  unowned: number;
}

export interface RenderedDigest {
  /** Block Kit plus a one-line text fallback, within Slack's limits. */
  message: SlackMessage;
  /** Groups that appear by name in the message (each gets a digest_sent activity), in order of appearance. */
  listedGroupIds: string[];
  counts: DigestCounts;
  allClear: boolean;
}

const DAY_MS = 86_400_000;

/** How many lines each list shows before "…and N more" (the 3000-character section limit may cut earlier). */
export const DIGEST_CAPS = {
  new: 10,
  reopened: 10,
  stillOpen: 15,
  ackUntouched: 10,
  unowned: 10,
  noisiest: 5,
  closed: 10,
  agencies: 20,
  staleSources: 10,
} as const;

/** Per-value caps (escaped length), so that a line stays far below the section limit whatever the input. */
const VALUE_CAPS = {
  job: 80,
  errorClass: 60,
  user: 60,
  team: 60,
  agency: 60,
  source: 60,
  /** A longer ui_url is shown as plain text rather than letting one link eat the section. */
  url: 500,
  localDate: 40,
  timeZone: 60,
} as const;

/** Where each "…and N more" points in the UI. */
const MORE_QUERIES = {
  new: "opened_within=24h",
  reopened: "reopened_within=24h",
  stillOpen: "status=open",
  ackUntouched: "status=acknowledged",
  unowned: "status=open&owner=none",
  noisiest: "sort=-count_24h",
  closed: "status=closed",
  agencies: "status=open",
  staleSources: null,
} as const satisfies Record<keyof typeof DIGEST_CAPS, string | null>;

/** A group with the values that sorting and filtering need, parsed once (100,000 groups must stay fast). */
interface DigestItem {
  group: DigestGroup;
  active: boolean;
  closed24h: boolean;
  owned: boolean;
  rank: number;
  /** Epoch ms, +Infinity when unparsable so that such groups sort last. */
  firstSeenMs: number;
  /** Epoch ms of closed_at, or undefined. */
  closedMs: number | undefined;
  /** Latest of last_user_activity_at and acknowledged_at, or undefined when neither parses. */
  touchedMs: number | undefined;
}

interface DigestContext {
  nowMs: number;
  slackUserIds: ReadonlyMap<string, string>;
  baseUrl: string | null;
}

/** A rendered list: its section text and how many of its entries made it in. */
interface FittedList {
  text: string;
  shown: number;
}

export function renderDigest(input: DigestInput): RenderedDigest {
  const ctx = buildDigestContext(input);
  const items = selectItems(input.groups);
  const counts = countItems(items, ctx.nowMs);
  const allClear = items.length === 0;
  const listed = new Set<string>();
  const body = allClear ? [buildAllClearBlock()] : buildBodyBlocks(items, counts, ctx, listed);
  const blocks = [
    buildHeaderBlock(describeHeader(input.localDate)),
    ...body,
    ...buildStaleSourcesBlocks(input.staleSources ?? [], ctx),
    buildFooterBlock(input),
  ].slice(0, SLACK_LIMITS.blocks);
  const text = describeFallback(input, counts, allClear);
  return { message: { text, blocks }, listedGroupIds: [...listed], counts, allClear };
}

// ---------------------------------------------------------------------------------------------------------
// Selection and counting

function buildDigestContext(input: DigestInput): DigestContext {
  const nowMs = parseZonedTime(input.now);
  // Every 24 h rule depends on it; a wrong digest is worse than a failed run.
  if (nowMs === undefined) throw new RangeError(`now is not an ISO time with a zone: ${input.now}`);
  const base = input.appBaseUrl?.replace(/\/+$/, "") ?? null;
  return { nowMs, slackUserIds: input.slackUserIds, baseUrl: base === "" ? null : base };
}

/** The groups with something to report, sorted by id so that input order never changes the output. */
function selectItems(groups: readonly DigestGroup[]): DigestItem[] {
  const items: DigestItem[] = [];
  for (const group of groups) {
    if (hasSomethingToReport(group)) items.push(prepareItem(group));
  }
  return items.sort((a, b) => compareIds(a.group, b.group));
}

function hasSomethingToReport(group: DigestGroup): boolean {
  return (
    isActiveStatus(group.status) ||
    group.closed_24h ||
    group.auto_closed_24h ||
    group.opened_24h ||
    group.reopened_24h
  );
}

function prepareItem(group: DigestGroup): DigestItem {
  return {
    group,
    active: isActiveStatus(group.status),
    // An auto-close is a close: counting it separately could show more auto-closed than closed.
    closed24h: group.closed_24h || group.auto_closed_24h,
    owned: firstNonBlank(group.assigned_to_user_id, group.assigned_team_id) !== null,
    rank: severityRank(group.current_severity),
    firstSeenMs: parseZonedTime(group.first_seen_at) ?? Number.POSITIVE_INFINITY,
    closedMs: parseTime(group.closed_at),
    touchedMs: latestTime(group.last_user_activity_at, group.acknowledged_at),
  };
}

function countItems(items: readonly DigestItem[], nowMs: number): DigestCounts {
  const counts: DigestCounts = {
    byStatus: countByStatus(items),
    bySeverity: countBySeverity(items),
    new24h: 0,
    reopened24h: 0,
    closed24h: 0,
    autoClosed24h: 0,
    stillOpen: 0,
    ackUntouched: 0,
    unowned: 0,
  };
  for (const item of items) {
    if (item.group.opened_24h) counts.new24h++;
    if (item.group.reopened_24h) counts.reopened24h++;
    if (item.closed24h) counts.closed24h++;
    if (item.group.auto_closed_24h) counts.autoClosed24h++;
    if (isStillOpen(item)) counts.stillOpen++;
    if (isAckUntouched(item, nowMs)) counts.ackUntouched++;
    if (isUnowned(item)) counts.unowned++;
  }
  return counts;
}

function countByStatus(items: readonly DigestItem[]): Record<GroupStatus, number> {
  const counts = Object.fromEntries(GROUP_STATUSES.map((status) => [status, 0])) as Record<
    GroupStatus,
    number
  >;
  for (const { group } of items) counts[group.status]++;
  return counts;
}

function countBySeverity(items: readonly DigestItem[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const item of items) if (item.active) counts[item.group.current_severity]++;
  return counts;
}

function isStillOpen(item: DigestItem): boolean {
  return item.group.status === "open";
}

/** Acknowledged and nobody has acted on it for more than 24 h (exactly 24 h is not "more than a day"). */
function isAckUntouched(item: DigestItem, nowMs: number): boolean {
  if (item.group.status !== "acknowledged") return false;
  // No usable timestamp means nobody can show it was touched: surface it rather than hide it.
  return item.touchedMs === undefined || item.touchedMs < nowMs - DAY_MS;
}

function isUnowned(item: DigestItem): boolean {
  return item.active && !item.owned;
}

function isNoisy(item: DigestItem): boolean {
  return item.group.count_24h > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Ordering (ties always by id, compared by code unit so that no locale is involved)

function compareIds(a: DigestGroup, b: DigestGroup): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Most severe first, then oldest first. */
function compareBySeverity(a: DigestItem, b: DigestItem): number {
  return (
    compareNumbers(b.rank, a.rank) ||
    compareNumbers(a.firstSeenMs, b.firstSeenMs) ||
    compareIds(a.group, b.group)
  );
}

function compareByFirstSeen(a: DigestItem, b: DigestItem): number {
  return compareNumbers(a.firstSeenMs, b.firstSeenMs) || compareIds(a.group, b.group);
}

/** Longest untouched first; no timestamp at all counts as the longest. */
function compareByUntouched(a: DigestItem, b: DigestItem): number {
  const ta = a.touchedMs ?? Number.NEGATIVE_INFINITY;
  const tb = b.touchedMs ?? Number.NEGATIVE_INFINITY;
  return compareNumbers(ta, tb) || compareIds(a.group, b.group);
}

function compareByNoise(a: DigestItem, b: DigestItem): number {
  return compareNumbers(b.group.count_24h, a.group.count_24h) || compareIds(a.group, b.group);
}

/** Most recently closed first; unknown close times last. */
function compareByClosed(a: DigestItem, b: DigestItem): number {
  const ta = a.closedMs ?? Number.NEGATIVE_INFINITY;
  const tb = b.closedMs ?? Number.NEGATIVE_INFINITY;
  return compareNumbers(tb, ta) || compareIds(a.group, b.group);
}

// ---------------------------------------------------------------------------------------------------------
// Blocks

type GroupListKey = "new" | "reopened" | "stillOpen" | "ackUntouched" | "unowned" | "noisiest" | "closed";

interface GroupList {
  key: GroupListKey;
  title: string;
  items: DigestItem[];
  describe: (item: DigestItem) => string;
}

function buildBodyBlocks(
  items: readonly DigestItem[],
  counts: DigestCounts,
  ctx: DigestContext,
  listed: Set<string>,
): SlackBlock[] {
  const lists = planGroupLists(items, counts, ctx);
  const listBlocks = lists
    .filter((list) => list.items.length > 0)
    .map((list) => buildSectionBlock(renderGroupList(list, ctx, listed)));
  return [buildSectionBlock(describeSummary(counts)), ...listBlocks, buildAgencyBlock(items, ctx)];
}

/** Each list with its members in display order; only the lines that fit are rendered later. */
function planGroupLists(items: readonly DigestItem[], counts: DigestCounts, ctx: DigestContext): GroupList[] {
  const { nowMs } = ctx;
  const closedTitle = `*✅ Closed in the last 24 h* (${formatCount(counts.closed24h)}, ${formatCount(counts.autoClosed24h)} auto-closed on recovery)`;
  return [
    {
      key: "new",
      title: `*🆕 New in the last 24 h* (${formatCount(counts.new24h)})`,
      items: items.filter((item) => item.group.opened_24h).sort(compareBySeverity),
      describe: (item) =>
        describeGroupLine(item, [describeFirstSeen(item, nowMs), describeOwner(item.group, ctx)]),
    },
    {
      key: "reopened",
      title: `*🔁 Reopened in the last 24 h* (${formatCount(counts.reopened24h)})`,
      items: items.filter((item) => item.group.reopened_24h).sort(compareBySeverity),
      describe: (item) =>
        describeGroupLine(item, [describeReopened(item, nowMs), describeOwner(item.group, ctx)]),
    },
    {
      key: "stillOpen",
      title: `*⏳ Still open* (${formatCount(counts.stillOpen)}), oldest first`,
      items: items.filter(isStillOpen).sort(compareByFirstSeen),
      describe: (item) =>
        describeGroupLine(item, [describeFirstSeen(item, nowMs), describeOwner(item.group, ctx)]),
    },
    {
      key: "ackUntouched",
      title: `*👀 Acknowledged, untouched for more than a day* (${formatCount(counts.ackUntouched)})`,
      items: items.filter((item) => isAckUntouched(item, nowMs)).sort(compareByUntouched),
      describe: (item) =>
        describeGroupLine(item, [describeUntouched(item, nowMs), describeAcknowledger(item.group, ctx)]),
    },
    {
      key: "unowned",
      title: `*🙋 Unowned* (${formatCount(counts.unowned)})`,
      items: items.filter(isUnowned).sort(compareBySeverity),
      describe: (item) =>
        describeGroupLine(item, [describeFirstSeen(item, nowMs), describeAgency(item.group)]),
    },
    {
      key: "noisiest",
      title: "*📈 Noisiest in the last 24 h*",
      // Top N is the list itself, not a cap: no "and N more" past it.
      items: items.filter(isNoisy).sort(compareByNoise).slice(0, DIGEST_CAPS.noisiest),
      describe: (item) => describeGroupLine(item, [describeOwner(item.group, ctx)]),
    },
    {
      key: "closed",
      title: closedTitle,
      items: items.filter((item) => item.closed24h).sort(compareByClosed),
      describe: (item) => describeGroupLine(item, [describeClosed(item, nowMs)]),
    },
  ];
}

function renderGroupList(list: GroupList, ctx: DigestContext, listed: Set<string>): string {
  const { items } = list;
  const fitted = fitLines(
    list.title,
    items.length,
    DIGEST_CAPS[list.key],
    (index) => {
      const item = items[index];
      return item === undefined ? "" : list.describe(item);
    },
    buildMoreUrl(ctx, MORE_QUERIES[list.key]),
  );
  for (const item of items.slice(0, fitted.shown)) listed.add(item.group.id);
  return fitted.text;
}

/**
 * The title, then as many lines as the cap and the section limit allow (rendering only those), then
 * "…and N more" for the rest. The tail's room is reserved for the largest N, so it always fits.
 */
function fitLines(
  title: string,
  total: number,
  cap: number,
  renderLine: (index: number) => string,
  moreUrl: string | null,
): FittedList {
  const limit = SLACK_LIMITS.sectionText;
  const reserve = 1 + describeMore(total, moreUrl).length;
  const parts = [title];
  let used = title.length;
  let shown = 0;
  for (const end = Math.min(cap, total); shown < end; shown++) {
    const line = renderLine(shown);
    const isLast = shown === total - 1;
    if (used + 1 + line.length + (isLast ? 0 : reserve) > limit) break;
    parts.push(line);
    used += 1 + line.length;
  }
  if (shown < total) parts.push(describeMore(total - shown, moreUrl));
  return { text: parts.join("\n"), shown };
}

function describeMore(count: number, url: string | null): string {
  const label = `…and ${formatCount(count)} more`;
  return formatLink(url, label) ?? label;
}

function buildMoreUrl(ctx: DigestContext, query: string | null): string | null {
  if (ctx.baseUrl === null || query === null) return null;
  return validUrl(`${ctx.baseUrl}/signal-groups?${query}`);
}

function buildAllClearBlock(): SlackBlock {
  return buildSectionBlock(
    "✅ *All clear*: no active alerts, and nothing opened, reopened or closed in the last 24 h.",
  );
}

function buildFooterBlock(input: DigestInput): SlackBlock {
  const zone = formatPlainValue(input.timeZone, VALUE_CAPS.timeZone);
  return buildContextBlock([`Dates in ${zone} · ages as of ${formatSlackDate(input.now)}`]);
}

// ---------------------------------------------------------------------------------------------------------
// Agencies

interface AgencyTally {
  key: string;
  label: string;
  open: number;
  acknowledged: number;
  snoozed: number;
  closed24h: number;
}

function buildAgencyBlock(items: readonly DigestItem[], ctx: DigestContext): SlackBlock {
  const tallies = [...tallyAgencies(items).values()].sort(compareTallies);
  const fitted = fitLines(
    "*🏢 By agency*",
    tallies.length,
    DIGEST_CAPS.agencies,
    (index) => {
      const tally = tallies[index];
      return tally === undefined ? "" : describeTally(tally);
    },
    buildMoreUrl(ctx, MORE_QUERIES.agencies),
  );
  return buildSectionBlock(fitted.text);
}

/** Items arrive sorted by id, so the label an agency gets (its first slug) does not depend on input order. */
function tallyAgencies(items: readonly DigestItem[]): Map<string, AgencyTally> {
  const tallies = new Map<string, AgencyTally>();
  for (const { group, closed24h } of items) {
    const key = describeAgencyKey(group);
    let tally = tallies.get(key);
    if (tally === undefined) {
      tally = { key, label: describeAgency(group), open: 0, acknowledged: 0, snoozed: 0, closed24h: 0 };
      tallies.set(key, tally);
    }
    addToTally(tally, group.status);
    if (closed24h) tally.closed24h++;
  }
  return tallies;
}

function addToTally(tally: AgencyTally, status: GroupStatus): void {
  switch (status) {
    case "open":
      tally.open++;
      return;
    case "acknowledged":
      tally.acknowledged++;
      return;
    case "snoozed":
      tally.snoozed++;
      return;
    case "closed":
      return;
  }
}

/** By agency id when there is one (two agencies may share a slug), else by slug. */
function describeAgencyKey(group: DigestGroup): string {
  const id = firstNonBlank(group.agency_id);
  if (id !== null) return `id:${id}`;
  const slug = firstNonBlank(group.agency_slug);
  return slug === null ? "none" : `slug:${slug}`;
}

/** Most active first, then most closed, then by key. */
function compareTallies(a: AgencyTally, b: AgencyTally): number {
  const activeA = a.open + a.acknowledged + a.snoozed;
  const activeB = b.open + b.acknowledged + b.snoozed;
  const byKey = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  return compareNumbers(activeB, activeA) || compareNumbers(b.closed24h, a.closed24h) || byKey;
}

function describeTally(tally: AgencyTally): string {
  return `• ${tally.label}: ${formatCount(tally.open)} open · ${formatCount(tally.acknowledged)} acknowledged · ${formatCount(tally.snoozed)} snoozed · ${formatCount(tally.closed24h)} closed in 24 h`;
}

// ---------------------------------------------------------------------------------------------------------
// Stale sources

function buildStaleSourcesBlocks(
  sources: NonNullable<DigestInput["staleSources"]>,
  ctx: DigestContext,
): SlackBlock[] {
  if (sources.length === 0) return [];
  const sorted = [...sources].sort(
    (a, b) =>
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
      compareNullableText(a.lastSuccessAt, b.lastSuccessAt),
  );
  const fitted = fitLines(
    `*⚠️ Stale sources* (${formatCount(sorted.length)}): no successful ingest recently, so alerts may be missing`,
    sorted.length,
    DIGEST_CAPS.staleSources,
    (index) => {
      const source = sorted[index];
      return source === undefined ? "" : describeStaleSource(source, ctx.nowMs);
    },
    null,
  );
  return [buildSectionBlock(fitted.text)];
}

function describeStaleSource(
  source: { source: string; lastSuccessAt: string | null },
  nowMs: number,
): string {
  const name = formatInlineCode(source.source, VALUE_CAPS.source);
  const last = parseTime(source.lastSuccessAt);
  const when =
    last === undefined
      ? "no successful ingest on record"
      : `last success ${formatDuration(nowMs - last)} ago`;
  return `• ${name}: ${when}`;
}

function compareNullableText(a: string | null, b: string | null): number {
  const ta = a ?? "";
  const tb = b ?? "";
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Text

function describeHeader(localDate: string): string {
  return `📋 Daily digest · ${formatPlainText(localDate, VALUE_CAPS.localDate)}`;
}

function describeSummary(counts: DigestCounts): string {
  const { byStatus, bySeverity } = counts;
  const statuses = GROUP_STATUSES.map((status) => `${formatCount(byStatus[status])} ${status}`).join(" · ");
  // Most severe first, as everywhere else.
  const severities = [...SEVERITIES]
    .reverse()
    .map((severity) => `${describeSeverityEmoji(severity)} ${formatCount(bySeverity[severity])} ${severity}`)
    .join(" · ");
  const activity = [
    `${formatCount(counts.new24h)} new`,
    `${formatCount(counts.reopened24h)} reopened`,
    `${formatCount(counts.closed24h)} closed (${formatCount(counts.autoClosed24h)} auto-closed on recovery)`,
  ].join(" · ");
  return [`*By status:* ${statuses}`, `*Active by severity:* ${severities}`, `*Last 24 h:* ${activity}`].join(
    "\n",
  );
}

/** One line, no mentions and no links: it is what notifications show. */
function describeFallback(input: DigestInput, counts: DigestCounts, allClear: boolean): string {
  const date = formatPlainValue(input.localDate, VALUE_CAPS.localDate);
  const stale = input.staleSources?.length ?? 0;
  const staleNote = stale > 0 ? ` · ${formatCount(stale)} stale sources` : "";
  if (allClear) return `Daily digest ${date}: all clear${staleNote}`;
  const { byStatus } = counts;
  const active = byStatus.open + byStatus.acknowledged + byStatus.snoozed;
  const text =
    `Daily digest ${date}: ${formatCount(active)} active (${formatCount(byStatus.open)} open, ` +
    `${formatCount(byStatus.acknowledged)} acknowledged, ${formatCount(byStatus.snoozed)} snoozed) · ` +
    `${formatCount(counts.new24h)} new · ${formatCount(counts.reopened24h)} reopened · ` +
    `${formatCount(counts.closed24h)} closed in 24 h${staleNote}`;
  return truncateEscapedText(text, FALLBACK_TEXT_MAX);
}

/** "🔴 <url|job · ErrorClass> · 17 in 24 h · …details", every untrusted part escaped and capped. */
function describeGroupLine(item: DigestItem, details: readonly (string | null)[]): string {
  const { group } = item;
  const parts = [
    `${describeSeverityEmoji(group.current_severity)} ${describeGroupName(group)}`,
    `${formatCount(group.count_24h)} in 24 h`,
    ...details.filter((detail) => detail !== null),
  ];
  return parts.join(" · ");
}

/** Job and error class, linked to the group's UI page when its URL is usable and not huge. */
function describeGroupName(group: DigestGroup): string {
  const job = escapeAndTruncate(
    firstNonBlank(group.job_name, group.signal_type) ?? "unknown job",
    VALUE_CAPS.job,
  );
  const errorClass = firstNonBlank(group.error_class);
  const label =
    errorClass === null ? job : `${job} · ${escapeAndTruncate(errorClass, VALUE_CAPS.errorClass)}`;
  const url = validUrl(group.ui_url);
  const target = url === null ? null : escapeSlackText(url);
  // The label is escaped already, so the link is assembled here rather than by formatLink (which escapes).
  return target === null || target.length > VALUE_CAPS.url ? label : `<${target}|${label}>`;
}

function describeFirstSeen(item: DigestItem, nowMs: number): string | null {
  const ms = item.firstSeenMs;
  return Number.isFinite(ms) ? `first seen ${formatDuration(nowMs - ms)} ago` : null;
}

function describeReopened(item: DigestItem, nowMs: number): string | null {
  const since = parseTime(item.group.open_since);
  return since === undefined ? "reopened" : `reopened ${formatDuration(nowMs - since)} ago`;
}

function describeUntouched(item: DigestItem, nowMs: number): string {
  const ms = item.touchedMs;
  return ms === undefined ? "untouched" : `untouched for ${formatDuration(nowMs - ms)}`;
}

function describeClosed(item: DigestItem, nowMs: number): string {
  const closedAt = item.closedMs;
  const when = closedAt === undefined ? "closed" : `closed ${formatDuration(nowMs - closedAt)} ago`;
  const how = item.group.auto_closed_24h ? `${when}, auto-closed on recovery` : when;
  // Closed and reopened within the same day: say so, or the line reads as if it were still closed.
  return item.group.status === "closed" ? how : `${how}, now ${item.group.status}`;
}

function describeAcknowledger(group: DigestGroup, ctx: DigestContext): string {
  const by = describeUser(group.acknowledged_by_user_id, ctx.slackUserIds);
  return by === null ? "acknowledged" : `acknowledged by ${by}`;
}

/** "<@U1> (team data)", "alice", "team data" or "unowned". */
function describeOwner(group: DigestGroup, ctx: DigestContext): string {
  return describeOwnerOrNull(group, ctx.slackUserIds) ?? "unowned";
}

/** The owner as shown, or null when the group has neither an assignee nor a team. */
function describeOwnerOrNull(group: DigestGroup, slackUserIds: ReadonlyMap<string, string>): string | null {
  const user = describeUser(group.assigned_to_user_id, slackUserIds);
  const teamId = firstNonBlank(group.assigned_team_id);
  const team = teamId === null ? null : `team ${escapeAndTruncate(teamId, VALUE_CAPS.team)}`;
  if (user !== null && team !== null) return `${user} (${team})`;
  return user ?? team;
}

/** A mention when the user maps to a valid Slack id, else the internal id escaped, else null. */
function describeUser(userId: string | null, slackUserIds: ReadonlyMap<string, string>): string | null {
  const clean = firstNonBlank(userId);
  if (userId === null || clean === null) return null;
  return formatUser(slackUserIds.get(userId) ?? null, null) ?? escapeAndTruncate(clean, VALUE_CAPS.user);
}

function describeAgency(group: DigestGroup): string {
  const agency = firstNonBlank(group.agency_slug, group.agency_id);
  return agency === null ? "no agency" : escapeAndTruncate(agency, VALUE_CAPS.agency);
}

/** "45 min", "5 h 12 min", "3 d 4 h"; a time in the future reads as "0 min". */
export function formatDuration(ms: number): string {
  const minutes = Number.isFinite(ms) ? Math.max(0, Math.floor(ms / 60_000)) : 0;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  if (hours < 24) return restMinutes === 0 ? `${hours} h` : `${hours} h ${restMinutes} min`;
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours === 0 ? `${formatCount(days)} d` : `${formatCount(days)} d ${restHours} h`;
}

function parseTime(iso: string | null): number | undefined {
  return iso === null ? undefined : parseZonedTime(iso);
}

function latestTime(...values: readonly (string | null)[]): number | undefined {
  let latest: number | undefined;
  for (const value of values) {
    const ms = parseTime(value);
    if (ms !== undefined && (latest === undefined || ms > latest)) latest = ms;
  }
  return latest;
}
