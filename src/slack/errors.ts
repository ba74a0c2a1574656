/**
 * What a failed Slack call means for us. Every adapter error becomes a SlackCallError with a category
 * the sync acts on; Slack's own error string is kept in `slackError` for the record.
 */

export type SlackErrorCategory =
  /** The token is unusable: stop the run, exit 1. */
  | "auth"
  /** The root message is gone or cannot be edited: post a fresh root. */
  | "message_gone"
  /** The channel cannot be posted to: record on the group, go on with others. */
  | "channel"
  /** A DM cannot be delivered to this person: fall back. */
  | "dm"
  /** Slack refused the content: retry once as minimal text. */
  | "content"
  /** HTTP 429: retryAfterSeconds says when to come back. */
  | "rate_limited"
  /** Network failure, timeout or 5xx after the client's bounded retries: leave for the next run. */
  | "transient"
  /** Anything else Slack said no to. */
  | "other";

const CATEGORY_BY_ERROR: Readonly<Record<string, SlackErrorCategory>> = {
  not_authed: "auth",
  invalid_auth: "auth",
  token_revoked: "auth",
  token_expired: "auth",
  account_inactive: "auth",
  missing_scope: "auth",
  not_allowed_token_type: "auth",
  no_permission: "auth",
  team_access_not_granted: "auth",
  ekm_access_denied: "auth",
  org_login_required: "auth",
  invalid_token: "auth",

  message_not_found: "message_gone",
  cant_update_message: "message_gone",
  edit_window_closed: "message_gone",

  channel_not_found: "channel",
  not_in_channel: "channel",
  is_archived: "channel",
  restricted_action: "channel",
  restricted_action_read_only_channel: "channel",
  restricted_action_thread_only_channel: "channel",
  restricted_action_non_threadable_channel: "channel",
  team_not_found: "channel",

  user_not_found: "dm",
  users_not_found: "dm",
  cannot_dm_bot: "dm",
  user_disabled: "dm",
  user_not_visible: "dm",
  not_allowed: "dm",
  cannot_find_service: "dm",

  invalid_blocks: "content",
  invalid_blocks_format: "content",
  msg_too_long: "content",
  no_text: "content",
  too_many_attachments: "content",
  invalid_metadata_format: "content",
  invalid_metadata_schema: "content",
  metadata_too_large: "content",

  ratelimited: "rate_limited",
  rate_limited: "rate_limited",

  internal_error: "transient",
  fatal_error: "transient",
  service_unavailable: "transient",
  request_timeout: "transient",
};

export function categorizeSlackError(slackError: string): SlackErrorCategory {
  return CATEGORY_BY_ERROR[slackError] ?? "other";
}

export class SlackCallError extends Error {
  readonly category: SlackErrorCategory;
  /** Slack's error string (`token_revoked`), or `http_503`, `network`, `rate_limited`. */
  readonly slackError: string;
  readonly method: string;
  readonly retryAfterSeconds: number | undefined;
  /** Slack's extra explanation (response_metadata.messages), for the log only. */
  readonly details: readonly string[];

  constructor(options: {
    method: string;
    slackError: string;
    category?: SlackErrorCategory;
    retryAfterSeconds?: number;
    details?: readonly string[];
    cause?: unknown;
  }) {
    super(
      `Slack ${options.method} failed: ${options.slackError}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SlackCallError";
    this.method = options.method;
    this.slackError = options.slackError;
    this.category = options.category ?? categorizeSlackError(options.slackError);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details ?? [];
  }
}
