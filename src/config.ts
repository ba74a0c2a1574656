import { z } from "zod";
import { configError } from "./errors.js";

/** Validated configuration. Built once per process by `loadConfig(process.env)`. */
export interface Config {
  /** Postgres connection string; undefined selects the embedded PGlite database. */
  databaseUrl: string | undefined;
  dataDir: string;
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    sharedChannelId: string | undefined;
    apiUrl: string;
    /** Root messages carry acknowledge / snooze / close buttons (needs a receiver; see README). */
    interactive: boolean;
    /** The longest a run waits, in total, for Slack rate limits before leaving groups for the next run. */
    rateLimitWaitSeconds: number;
  };
  appBaseUrl: string | undefined;
  reopenWindowHours: number;
  reminderT2Hours: number;
  reminderT8Hours: number;
  /** "HH:MM", local to `timeZone`. */
  dailyDigestTime: string;
  /** IANA time zone for local dates (digest, daily reminders). */
  timeZone: string;
  logLevel: LogLevel;
  /** Values that must never appear in any output (tokens, the database password). */
  secrets: readonly string[];
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_SLACK_API_URL = "https://slack.com/api/";
export const DEFAULT_DATA_DIR = ".observability";

type Env = Readonly<Record<string, string | undefined>>;

/** Trims, and treats an empty value as unset (Kubernetes often renders unset values as ""). */
const optionalText = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined),
  z.string().optional(),
);

function positiveHours(fallback: number) {
  return z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined),
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n) || n <= 0) {
          ctx.addIssue({ code: "custom", message: `must be a positive number, got ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return n;
      }),
  );
}

function nonNegativeSeconds(fallback: number) {
  return optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a whole number of seconds, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return Number(v);
  });
}

const booleanFlag = optionalText.transform((v, ctx) => {
  if (v === undefined) return false;
  const value = v.toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  ctx.addIssue({ code: "custom", message: `must be true or false, got ${JSON.stringify(v)}` });
  return z.NEVER;
});

function url(kind: string) {
  return optionalText.superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      new URL(v);
    } catch {
      ctx.addIssue({ code: "custom", message: `must be ${kind}, got a value that is not a URL` });
    }
  });
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const schema = z.object({
  DATABASE_URL: url("a postgres:// connection URL").superRefine((v, ctx) => {
    if (v !== undefined && !/^postgres(ql)?:\/\//.test(v)) {
      ctx.addIssue({ code: "custom", message: "must start with postgres:// or postgresql://" });
    }
  }),
  OBSERVABILITY_DATA_DIR: optionalText.transform((v) => v ?? DEFAULT_DATA_DIR),
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_SHARED_CHANNEL_ID: optionalText.superRefine((v, ctx) => {
    if (v !== undefined && !/^[A-Z0-9]+$/.test(v)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a Slack channel id such as C0123456789, got ${JSON.stringify(v)}`,
      });
    }
  }),
  SLACK_API_URL: url("an http(s) URL such as https://slack.com/api/").transform((v) =>
    v === undefined ? DEFAULT_SLACK_API_URL : v.endsWith("/") ? v : `${v}/`,
  ),
  SLACK_INTERACTIVE: booleanFlag,
  SLACK_RATE_LIMIT_WAIT_SECONDS: nonNegativeSeconds(30),
  APP_BASE_URL: url("an http(s) URL such as https://ops.example.com").transform((v) =>
    v?.replace(/\/+$/, ""),
  ),
  REOPEN_WINDOW_HOURS: positiveHours(24),
  REMINDER_T2_HOURS: positiveHours(2),
  REMINDER_T8_HOURS: positiveHours(8),
  DAILY_DIGEST_TIME: optionalText.transform((v, ctx) => {
    const value = v ?? "09:00";
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(value);
    if (!m) {
      ctx.addIssue({ code: "custom", message: `must be a time HH:MM (24h), got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return `${m[1]?.padStart(2, "0")}:${m[2]}`;
  }),
  NOTIFICATION_TIMEZONE: optionalText.transform((v, ctx) => {
    const value = v ?? "UTC";
    if (!isTimeZone(value)) {
      ctx.addIssue({
        code: "custom",
        message: `must be an IANA time zone such as Europe/Berlin, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return value;
  }),
  LOG_LEVEL: optionalText.transform((v, ctx) => {
    const value = (v ?? "info").toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(value)) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return value as LogLevel;
  }),
});

/**
 * Validates every variable once. Throws one config error (exit code 2) whose message names each bad
 * variable and what is expected; secrets are never echoed.
 */
export function loadConfig(env: Env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "configuration");
      return `${name} ${issue.message}`;
    });
    throw configError(lines.join("; "));
  }
  const e = parsed.data;
  if (e.REMINDER_T8_HOURS <= e.REMINDER_T2_HOURS) {
    throw configError(
      `REMINDER_T8_HOURS must be greater than REMINDER_T2_HOURS (${e.REMINDER_T2_HOURS}), got ${e.REMINDER_T8_HOURS}`,
    );
  }
  const secrets = [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, databasePassword(e.DATABASE_URL)].filter(
    (s): s is string => s !== undefined && s.length > 0,
  );
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.OBSERVABILITY_DATA_DIR,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      sharedChannelId: e.SLACK_SHARED_CHANNEL_ID,
      apiUrl: e.SLACK_API_URL,
      interactive: e.SLACK_INTERACTIVE,
      rateLimitWaitSeconds: e.SLACK_RATE_LIMIT_WAIT_SECONDS,
    },
    appBaseUrl: e.APP_BASE_URL,
    reopenWindowHours: e.REOPEN_WINDOW_HOURS,
    reminderT2Hours: e.REMINDER_T2_HOURS,
    reminderT8Hours: e.REMINDER_T8_HOURS,
    dailyDigestTime: e.DAILY_DIGEST_TIME,
    timeZone: e.NOTIFICATION_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    secrets,
  };
}

function databasePassword(databaseUrl: string | undefined): string | undefined {
  if (databaseUrl === undefined) return undefined;
  try {
    const password = new URL(databaseUrl).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** A connection URL safe to print: the password is replaced. */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/** Replaces every known secret (and its URL-encoded form) in `text` with "***". */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 3) continue; // a 1-2 character "secret" would shred every message
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join("***");
    }
  }
  return out;
}
