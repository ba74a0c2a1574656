import { describe, expect, it } from "vitest";
import { DEFAULT_SLACK_API_URL, describeDatabaseUrl, loadConfig, redactSecrets } from "./config.js";
import { ObservabilityError } from "./errors.js";

function configError(env: Record<string, string>): ObservabilityError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ObservabilityError) return error;
    throw error;
  }
  throw new Error("expected a config error");
}

describe("loadConfig", () => {
  it("applies the spec's defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: undefined,
      dataDir: ".observability",
      reopenWindowHours: 24,
      reminderT2Hours: 2,
      reminderT8Hours: 8,
      dailyDigestTime: "09:00",
      timeZone: "UTC",
      appBaseUrl: undefined,
      logLevel: "info",
      secrets: [],
    });
    expect(c.slack.apiUrl).toBe(DEFAULT_SLACK_API_URL);
    expect(c.slack.interactive).toBe(false);
    expect(c.slack.rateLimitWaitSeconds).toBe(30);
  });

  it("reads every variable", () => {
    const c = loadConfig({
      DATABASE_URL: "postgres://app:pw%40x@db:5432/app",
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "sign-me",
      SLACK_SHARED_CHANNEL_ID: "C0123ABC",
      SLACK_API_URL: "http://127.0.0.1:9999/api",
      APP_BASE_URL: "https://ops.example.com/",
      REOPEN_WINDOW_HOURS: "12",
      REMINDER_T2_HOURS: "1.5",
      REMINDER_T8_HOURS: "6",
      DAILY_DIGEST_TIME: "7:30",
      NOTIFICATION_TIMEZONE: "Europe/Berlin",
      OBSERVABILITY_DATA_DIR: "/var/lib/obs",
      LOG_LEVEL: "DEBUG",
      SLACK_INTERACTIVE: "yes",
      SLACK_RATE_LIMIT_WAIT_SECONDS: "5",
    });
    expect(c).toMatchObject({
      databaseUrl: "postgres://app:pw%40x@db:5432/app",
      dataDir: "/var/lib/obs",
      slack: {
        botToken: "xoxb-1",
        signingSecret: "sign-me",
        sharedChannelId: "C0123ABC",
        apiUrl: "http://127.0.0.1:9999/api/",
        interactive: true,
        rateLimitWaitSeconds: 5,
      },
      appBaseUrl: "https://ops.example.com",
      reopenWindowHours: 12,
      reminderT2Hours: 1.5,
      reminderT8Hours: 6,
      dailyDigestTime: "07:30",
      timeZone: "Europe/Berlin",
      logLevel: "debug",
    });
    expect([...c.secrets].sort()).toEqual(["pw@x", "sign-me", "xoxb-1"].sort());
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ REOPEN_WINDOW_HOURS: "", DATABASE_URL: " " })).toMatchObject({
      reopenWindowHours: 24,
      databaseUrl: undefined,
    });
  });

  it.each([
    [{ REMINDER_T2_HOURS: "abc" }, 'REMINDER_T2_HOURS must be a positive number, got "abc"'],
    [{ REOPEN_WINDOW_HOURS: "-3" }, 'REOPEN_WINDOW_HOURS must be a positive number, got "-3"'],
    [{ REMINDER_T8_HOURS: "0" }, 'REMINDER_T8_HOURS must be a positive number, got "0"'],
    [{ DAILY_DIGEST_TIME: "25:00" }, 'DAILY_DIGEST_TIME must be a time HH:MM (24h), got "25:00"'],
    [{ SLACK_INTERACTIVE: "maybe" }, 'SLACK_INTERACTIVE must be true or false, got "maybe"'],
    [
      { SLACK_RATE_LIMIT_WAIT_SECONDS: "1.5" },
      'SLACK_RATE_LIMIT_WAIT_SECONDS must be a whole number of seconds, got "1.5"',
    ],
    [
      { NOTIFICATION_TIMEZONE: "Berlin" },
      'NOTIFICATION_TIMEZONE must be an IANA time zone such as Europe/Berlin, got "Berlin"',
    ],
    [
      { SLACK_SHARED_CHANNEL_ID: "#alerts" },
      'SLACK_SHARED_CHANNEL_ID must be a Slack channel id such as C0123456789, got "#alerts"',
    ],
    [{ DATABASE_URL: "mysql://x@y/z" }, "DATABASE_URL must start with postgres:// or postgresql://"],
    [
      { REMINDER_T2_HOURS: "8", REMINDER_T8_HOURS: "8" },
      "REMINDER_T8_HOURS must be greater than REMINDER_T2_HOURS (8), got 8",
    ],
    [
      { LOG_LEVEL: "loud" },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
  ])("rejects %j with exit code 2 and one line", (env, message) => {
    const error = configError(env);
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(2);
  });

  it("names every bad variable at once, and never echoes a database URL", () => {
    const error = configError({ REMINDER_T2_HOURS: "x", DATABASE_URL: "not a url with password hunter2" });
    expect(error.message).toContain("REMINDER_T2_HOURS");
    expect(error.message).toContain("DATABASE_URL must be a postgres:// connection URL");
    expect(error.message).not.toContain("hunter2");
    expect(error.message).not.toContain("\n");
  });
});

describe("secrets", () => {
  it("describeDatabaseUrl hides the password", () => {
    expect(describeDatabaseUrl("postgres://app:hunter2@db:5432/app")).toBe("postgres://app:***@db:5432/app");
    expect(describeDatabaseUrl("postgres://db/app")).toBe("postgres://db/app");
  });

  it("redactSecrets removes raw and URL-encoded forms", () => {
    expect(redactSecrets("token xoxb-1 and p@ss and p%40ss", ["xoxb-1", "p@ss"])).toBe(
      "token *** and *** and ***",
    );
  });
});
