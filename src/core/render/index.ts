/** Slack rendering as plain data: Block Kit messages and their content hash. Pure: no I/O, no clock. */

export { ACTION_IDS, SLACK_LIMITS } from "./constants.js";
export { escapeAndTruncate, escapeSlackText, truncateEscapedText, truncateText } from "./escape.js";
export { renderGroupMessage, renderMinimalText } from "./group-message.js";
export { messageHash } from "./hash.js";
export type {
  OwnerDmContext,
  ReminderDmContext,
  RenderContext,
  RenderedMessage,
  SlackBlock,
  SlackMessage,
  ThreadEvent,
} from "./message-types.js";
export { renderOwnerDm, renderThreadReply, renderUndeliveredDmNote } from "./notes.js";
export { describeDuration, renderReminderDm } from "./reminders.js";
