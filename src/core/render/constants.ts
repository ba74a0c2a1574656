/** Slack's action ids and size limits, shared by the renderer and the Slack adapter. */

/** action_id of every button the root message can carry; the interaction handler dispatches on these. */
export const ACTION_IDS = {
  acknowledge: "observability_ack",
  snooze1h: "observability_snooze_1h",
  snooze4h: "observability_snooze_4h",
  snooze24h: "observability_snooze_24h",
  close: "observability_close",
  open: "observability_open_ui",
} as const;

/** Block Kit limits, in UTF-16 code units as Slack counts them. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  messageText: 40000,
} as const;

/** Our own, tighter cap on the top-level `text` fallback: it is what notifications show, so keep it short. */
export const FALLBACK_TEXT_MAX = 3000;
