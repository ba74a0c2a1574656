/** The plain-data shapes the renderer produces and consumes. */

import type { ReminderTier } from "../reminders.js";

/** A Block Kit block as plain JSON data. */
export type SlackBlock = { type: string; [key: string]: unknown };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export interface RenderedMessage extends SlackMessage {
  hash: string;
}

export interface RenderContext {
  /** Slack user id (U…) of the assigned owner, when the user map has one; mention it as <@U…>. */
  ownerSlackUserId: string | null;
  /** Internal user id of the owner (assigned_to_user_id), shown as plain escaped text when there is no Slack id. */
  ownerUserId: string | null;
  /** Owning team id (assigned_team_id), shown as escaped text ("team <id>"). */
  ownerTeamId: string | null;
  /** Slack id of whoever acknowledged (mapped from acknowledged_by_user_id), else null (then show the internal id escaped). */
  acknowledgedBySlackUserId: string | null;
  /** Why the group was closed (from its last `closed` activity), e.g. "manual", "recovered: dag run succeeded". */
  closedReason: string | null;
  /** Error message excerpt from the group's last signal (untrusted, may be huge), or null. */
  errorMessage: string | null;
  /** Stage and error class of the last signal (untrusted), or null. */
  stage: string | null;
  errorClass: string | null;
  /** When true, render interactive buttons (ACTION_IDS); otherwise only a link button to ui_url. */
  interactive: boolean;
}

export type ThreadEvent =
  | { kind: "reopened" }
  | { kind: "escalated"; from: string; to: string }
  | { kind: "closed"; reason: string | null }
  | { kind: "acknowledged"; bySlackUserId: string | null; byUserId: string | null }
  | { kind: "snoozed"; until: string }
  /** T8 passed without acknowledgement; `notified` are internal ids or descriptions, shown as text, never mentions. */
  | { kind: "reminder_escalated"; hours: number; notified: readonly string[] }
  | { kind: "snooze_expired" };

export interface OwnerDmContext extends RenderContext {
  /** Permalink of the root message, or null when it is not known. */
  permalink: string | null;
  reason: "opened" | "reopened";
  /** Whether the recipient is the primary owner or the secondary (fallback) owner. */
  role: "primary" | "secondary";
}

/** A reminder DM (reminder_dispatcher): which tier, since when, and who the recipient is to the group. */
export interface ReminderDmContext extends RenderContext {
  tier: ReminderTier;
  /** When the group last became open (open_since, else first_seen_at), ISO with zone. */
  openSince: string;
  /** The run's `now`, ISO with zone: the renderer never reads the clock. */
  now: string;
  /** Permalink of the root message, or null when it is not known. */
  permalink: string | null;
  /** The assigned owner, or the secondary (escalation) owner. */
  role: "owner" | "secondary";
}
