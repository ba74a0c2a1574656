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
    /** Without a token, write to the local outbox even with DATABASE_URL (demos; default only when embedded). */
    outbox: boolean;
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
  /** The Airflow source (ingest_airflow); baseUrl undefined when not configured. */
  airflow: AirflowSettings;
  /** The CloverDX source (ingest_cloverdx); baseUrl undefined when not configured. */
  cloverdx: CloverdxSettings;
  /** The data-quality sources (ingest_dq); each is off while its location is unset. */
  dq: DqSettings;
  /** Signals older than this many days are deleted by the prune job. */
  signalRetentionDays: number;
  /** A configured source whose ingest has not succeeded for this long is reported stale (digest, doctor). */
  sourceStaleHours: number;
  /** Prometheus Pushgateway for run metrics (optional). */
  pushgatewayUrl: string | undefined;
  /** Values that must never appear in any output (tokens, the database password). */
  secrets: readonly string[];
}

export const SIGNAL_SEVERITIES = ["info", "warning", "error", "critical"] as const;

export interface AirflowSettings {
  baseUrl: string | undefined;
  apiVersion: "v1" | "v2" | "auto";
  username: string | undefined;
  password: string | undefined;
  token: string | undefined;
  /** Names this deployment: prefixes dedup keys, keys the cursor and the run lock. */
  instance: string | undefined;
  overlapMinutes: number;
  lookbackHours: number;
  agencyTagPrefix: string;
  /** Raw AIRFLOW_AGENCY_RULES, validated by the job's parser at load time. */
  agencyRules: string | undefined;
  severities: Readonly<Record<AirflowSignalType, (typeof SIGNAL_SEVERITIES)[number]>>;
  recovery: boolean;
  slaMisses: boolean;
  fetchLogs: boolean;
  pageLimit: number;
  timeoutSeconds: number;
}

export interface CloverdxSettings {
  baseUrl: string | undefined;
  /** "rest" (/clover/api/rest/v1) or "simple" (the Simple HTTP API's executions_history). */
  api: "rest" | "simple";
  username: string | undefined;
  password: string | undefined;
  instance: string | undefined;
  /** IANA zone the server writes its times in (Simple HTTP API and zone-less REST times). */
  serverTimeZone: string;
  overlapMinutes: number;
  lookbackHours: number;
  includeAborted: boolean;
  /** Raw CLOVERDX_AGENCY_RULES: "sandboxA=acme,sandboxB=globex" (sandbox code to agency slug). */
  agencyRules: string | undefined;
  recovery: boolean;
  fetchLogs: boolean;
  pageSize: number;
  timeoutSeconds: number;
}

export interface DqSettings {
  /** Directory of dbt invocations (each a directory with run_results.json and manifest.json). */
  dbtArtifactsDir: string | undefined;
  /** Directory of Great Expectations validation result JSON files. */
  gxResultsDir: string | undefined;
  /** Directory of Soda scan result JSON files (`soda scan -srf`). */
  sodaResultsDir: string | undefined;
  /** A database with a test-results table (read-only use). */
  resultsDatabaseUrl: string | undefined;
  /** "elementary" (elementary_test_results) or "generic". */
  resultsPreset: "elementary" | "generic";
  /** Schema-qualified table name; default per preset. */
  resultsTable: string | undefined;
  /** Severity of a `warn` result (default warning). */
  warnSeverity: (typeof SIGNAL_SEVERITIES)[number];
  agencyMetaKey: string;
  ownerMetaKey: string;
  recovery: boolean;
  overlapMinutes: number;
  lookbackHours: number;
  /** Names this DQ deployment (dedup-key prefix, cursors, run lock). */
  instance: string;
}

export const AIRFLOW_SIGNAL_TYPES = [
  "task_failed",
  "dag_run_failed",
  "dag_import_error",
  "sla_miss",
] as const;
export type AirflowSignalType = (typeof AIRFLOW_SIGNAL_TYPES)[number];
export const DEFAULT_AIRFLOW_SEVERITIES: Readonly<
  Record<AirflowSignalType, (typeof SIGNAL_SEVERITIES)[number]>
> = {
  task_failed: "error",
  dag_run_failed: "error",
  dag_import_error: "critical",
  sla_miss: "warning",
};

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

function wholeNumber(fallback: number, unit: string) {
  return optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a whole number of ${unit}, got ${JSON.stringify(v)}`,
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

function positiveInteger(fallback: number) {
  return optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      ctx.addIssue({ code: "custom", message: `must be a positive whole number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return Number(v);
  });
}

function defaultTrue(schema: typeof booleanFlag) {
  return z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? v : "true"), schema);
}

/** "task_failed=error,dag_import_error=critical": overrides of the default severity per signal type. */
const airflowSeverities = optionalText.transform((v, ctx) => {
  const out = { ...DEFAULT_AIRFLOW_SEVERITIES };
  if (v === undefined) return out;
  for (const entry of v
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")) {
    const [type, severity] = entry.split("=").map((x) => x.trim());
    if (!(AIRFLOW_SIGNAL_TYPES as readonly string[]).includes(type ?? "")) {
      ctx.addIssue({
        code: "custom",
        message: `names unknown signal type ${JSON.stringify(type)}; use ${AIRFLOW_SIGNAL_TYPES.join(", ")}`,
      });
      return z.NEVER;
    }
    if (!(SIGNAL_SEVERITIES as readonly string[]).includes(severity ?? "")) {
      ctx.addIssue({
        code: "custom",
        message: `gives ${JSON.stringify(severity)} for ${type}; use one of ${SIGNAL_SEVERITIES.join(", ")}`,
      });
      return z.NEVER;
    }
    out[type as AirflowSignalType] = severity as (typeof SIGNAL_SEVERITIES)[number];
  }
  return out;
});

/** A source instance's name: it prefixes dedup keys and names cursors and run locks. */
const instanceName = optionalText.superRefine((v, ctx) => {
  if (v !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(v)) {
    ctx.addIssue({
      code: "custom",
      message: `must be a short name of letters, digits, . _ : - (e.g. prod-eu), got ${JSON.stringify(v)}`,
    });
  }
});

function timeZoneName(fallback: string) {
  return optionalText.transform((v, ctx) => {
    const value = v ?? fallback;
    if (!isTimeZone(value)) {
      ctx.addIssue({
        code: "custom",
        message: `must be an IANA time zone such as Europe/Berlin, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

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
  SLACK_OUTBOX: booleanFlag,
  SLACK_RATE_LIMIT_WAIT_SECONDS: wholeNumber(30, "seconds"),
  AIRFLOW_BASE_URL: url("an http(s) URL such as https://airflow.example.com").superRefine((v, ctx) => {
    if (v !== undefined && !/^https?:\/\//.test(v))
      ctx.addIssue({ code: "custom", message: "must start with http:// or https://" });
  }),
  AIRFLOW_API_VERSION: optionalText.transform((v, ctx) => {
    const value = (v ?? "auto").toLowerCase();
    if (value !== "v1" && value !== "v2" && value !== "auto") {
      ctx.addIssue({
        code: "custom",
        message: `must be v1 (Airflow 2), v2 (Airflow 3) or auto, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return value;
  }),
  AIRFLOW_USERNAME: optionalText,
  AIRFLOW_PASSWORD: optionalText,
  AIRFLOW_TOKEN: optionalText,
  AIRFLOW_INSTANCE: instanceName,
  AIRFLOW_OVERLAP_MINUTES: wholeNumber(15, "minutes"),
  AIRFLOW_LOOKBACK_HOURS: positiveHours(24),
  AIRFLOW_AGENCY_TAG_PREFIX: optionalText.transform((v) => v ?? "agency:"),
  AIRFLOW_AGENCY_RULES: optionalText,
  AIRFLOW_SEVERITY: airflowSeverities,
  AIRFLOW_RECOVERY: defaultTrue(booleanFlag),
  AIRFLOW_SLA_MISSES: defaultTrue(booleanFlag),
  AIRFLOW_FETCH_LOGS: defaultTrue(booleanFlag),
  AIRFLOW_PAGE_LIMIT: positiveInteger(100),
  AIRFLOW_TIMEOUT_SECONDS: positiveInteger(30),
  CLOVERDX_BASE_URL: url("an http(s) URL such as https://cloverdx.example.com").superRefine((v, ctx) => {
    if (v !== undefined && !/^https?:\/\//.test(v))
      ctx.addIssue({ code: "custom", message: "must start with http:// or https://" });
  }),
  CLOVERDX_API: optionalText.transform((v, ctx) => {
    const value = (v ?? "rest").toLowerCase();
    if (value !== "rest" && value !== "simple") {
      ctx.addIssue({ code: "custom", message: `must be rest or simple, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return value;
  }),
  CLOVERDX_USERNAME: optionalText,
  CLOVERDX_PASSWORD: optionalText,
  CLOVERDX_INSTANCE: instanceName,
  CLOVERDX_TIMEZONE: timeZoneName("UTC"),
  CLOVERDX_OVERLAP_MINUTES: wholeNumber(30, "minutes"),
  CLOVERDX_LOOKBACK_HOURS: positiveHours(24),
  CLOVERDX_INCLUDE_ABORTED: booleanFlag,
  CLOVERDX_AGENCY_RULES: optionalText,
  CLOVERDX_RECOVERY: defaultTrue(booleanFlag),
  CLOVERDX_FETCH_LOGS: defaultTrue(booleanFlag),
  CLOVERDX_PAGE_SIZE: positiveInteger(100),
  CLOVERDX_TIMEOUT_SECONDS: positiveInteger(30),
  DQ_DBT_ARTIFACTS_DIR: optionalText,
  DQ_GX_RESULTS_DIR: optionalText,
  DQ_SODA_RESULTS_DIR: optionalText,
  DQ_RESULTS_DATABASE_URL: url("a postgres:// connection URL").superRefine((v, ctx) => {
    if (v !== undefined && !/^postgres(ql)?:\/\//.test(v))
      ctx.addIssue({ code: "custom", message: "must start with postgres:// or postgresql://" });
  }),
  DQ_RESULTS_PRESET: optionalText.transform((v, ctx) => {
    const value = (v ?? "elementary").toLowerCase();
    if (value !== "elementary" && value !== "generic") {
      ctx.addIssue({ code: "custom", message: `must be elementary or generic, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return value;
  }),
  DQ_RESULTS_TABLE: optionalText.superRefine((v, ctx) => {
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(v)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a table name like analytics.elementary_test_results, got ${JSON.stringify(v)}`,
      });
    }
  }),
  DQ_WARN_SEVERITY: optionalText.transform((v, ctx) => {
    const value = v ?? "warning";
    if (!(SIGNAL_SEVERITIES as readonly string[]).includes(value)) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of ${SIGNAL_SEVERITIES.join(", ")}, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return value as (typeof SIGNAL_SEVERITIES)[number];
  }),
  DQ_AGENCY_META_KEY: optionalText.transform((v) => v ?? "agency"),
  DQ_OWNER_META_KEY: optionalText.transform((v) => v ?? "owner"),
  DQ_RECOVERY: defaultTrue(booleanFlag),
  DQ_OVERLAP_MINUTES: wholeNumber(60, "minutes"),
  DQ_LOOKBACK_HOURS: positiveHours(24),
  DQ_INSTANCE: instanceName,
  SIGNAL_RETENTION_DAYS: positiveInteger(90),
  SOURCE_STALE_HOURS: positiveHours(2),
  PUSHGATEWAY_URL: url("an http(s) URL such as http://pushgateway:9091"),
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
  if (
    e.AIRFLOW_BASE_URL !== undefined &&
    e.AIRFLOW_TOKEN === undefined &&
    (e.AIRFLOW_USERNAME === undefined) !== (e.AIRFLOW_PASSWORD === undefined)
  ) {
    throw configError(
      `${e.AIRFLOW_USERNAME === undefined ? "AIRFLOW_USERNAME" : "AIRFLOW_PASSWORD"} is not set; set both AIRFLOW_USERNAME and AIRFLOW_PASSWORD, or AIRFLOW_TOKEN`,
    );
  }
  const secrets = [
    e.SLACK_BOT_TOKEN,
    e.SLACK_SIGNING_SECRET,
    databasePassword(e.DATABASE_URL),
    e.AIRFLOW_PASSWORD,
    e.AIRFLOW_TOKEN,
    urlPassword(e.AIRFLOW_BASE_URL),
    e.CLOVERDX_PASSWORD,
    urlPassword(e.CLOVERDX_BASE_URL),
    urlPassword(e.DQ_RESULTS_DATABASE_URL),
  ].filter((s): s is string => s !== undefined && s.length > 0);
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
      outbox: e.SLACK_OUTBOX,
    },
    appBaseUrl: e.APP_BASE_URL,
    reopenWindowHours: e.REOPEN_WINDOW_HOURS,
    reminderT2Hours: e.REMINDER_T2_HOURS,
    reminderT8Hours: e.REMINDER_T8_HOURS,
    dailyDigestTime: e.DAILY_DIGEST_TIME,
    timeZone: e.NOTIFICATION_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    signalRetentionDays: e.SIGNAL_RETENTION_DAYS,
    sourceStaleHours: e.SOURCE_STALE_HOURS,
    pushgatewayUrl: e.PUSHGATEWAY_URL,
    cloverdx: {
      baseUrl: e.CLOVERDX_BASE_URL,
      api: e.CLOVERDX_API as "rest" | "simple",
      username: e.CLOVERDX_USERNAME,
      password: e.CLOVERDX_PASSWORD,
      instance: e.CLOVERDX_INSTANCE,
      serverTimeZone: e.CLOVERDX_TIMEZONE,
      overlapMinutes: e.CLOVERDX_OVERLAP_MINUTES,
      lookbackHours: e.CLOVERDX_LOOKBACK_HOURS,
      includeAborted: e.CLOVERDX_INCLUDE_ABORTED,
      agencyRules: e.CLOVERDX_AGENCY_RULES,
      recovery: e.CLOVERDX_RECOVERY,
      fetchLogs: e.CLOVERDX_FETCH_LOGS,
      pageSize: e.CLOVERDX_PAGE_SIZE,
      timeoutSeconds: e.CLOVERDX_TIMEOUT_SECONDS,
    },
    dq: {
      dbtArtifactsDir: e.DQ_DBT_ARTIFACTS_DIR,
      gxResultsDir: e.DQ_GX_RESULTS_DIR,
      sodaResultsDir: e.DQ_SODA_RESULTS_DIR,
      resultsDatabaseUrl: e.DQ_RESULTS_DATABASE_URL,
      resultsPreset: e.DQ_RESULTS_PRESET as "elementary" | "generic",
      resultsTable: e.DQ_RESULTS_TABLE,
      warnSeverity: e.DQ_WARN_SEVERITY,
      agencyMetaKey: e.DQ_AGENCY_META_KEY,
      ownerMetaKey: e.DQ_OWNER_META_KEY,
      recovery: e.DQ_RECOVERY,
      overlapMinutes: e.DQ_OVERLAP_MINUTES,
      lookbackHours: e.DQ_LOOKBACK_HOURS,
      instance: e.DQ_INSTANCE ?? "default",
    },
    airflow: {
      baseUrl: e.AIRFLOW_BASE_URL,
      apiVersion: e.AIRFLOW_API_VERSION,
      username: e.AIRFLOW_USERNAME,
      password: e.AIRFLOW_PASSWORD,
      token: e.AIRFLOW_TOKEN,
      instance: e.AIRFLOW_INSTANCE,
      overlapMinutes: e.AIRFLOW_OVERLAP_MINUTES,
      lookbackHours: e.AIRFLOW_LOOKBACK_HOURS,
      agencyTagPrefix: e.AIRFLOW_AGENCY_TAG_PREFIX,
      agencyRules: e.AIRFLOW_AGENCY_RULES,
      severities: e.AIRFLOW_SEVERITY,
      recovery: e.AIRFLOW_RECOVERY,
      slaMisses: e.AIRFLOW_SLA_MISSES,
      fetchLogs: e.AIRFLOW_FETCH_LOGS,
      pageLimit: e.AIRFLOW_PAGE_LIMIT,
      timeoutSeconds: e.AIRFLOW_TIMEOUT_SECONDS,
    },
    secrets,
  };
}

function databasePassword(databaseUrl: string | undefined): string | undefined {
  return urlPassword(databaseUrl);
}

function urlPassword(databaseUrl: string | undefined): string | undefined {
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
