import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertInboxRows } from "../src/db/inbox.js";
import { insertJobRun, listJobRuns } from "../src/db/job-runs.js";
import { openPostgres } from "../src/db/postgres.js";
import { runCli } from "./support/cli.js";
import { createTestDatabase, type TestDatabase, testBackend } from "./support/db.js";

let t: TestDatabase;
let dataDir: string;
/** The environment that points the CLI at this file's database (PostgreSQL, or an embedded data dir). */
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "observability-cli-"));
  if (testBackend() === "postgres") {
    t = await createTestDatabase();
    // The data dir still matters with PostgreSQL: without a Slack token the sync writes its outbox there.
    env = { DATABASE_URL: t.url ?? "", OBSERVABILITY_DATA_DIR: join(dataDir, "state") };
  } else {
    env = { OBSERVABILITY_DATA_DIR: join(dataDir, "state") };
  }
});
afterAll(async () => {
  await t?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const signalLine = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    source: "cli-test",
    signal_type: "task_failed",
    severity: "error",
    occurred_at: "2024-05-01T10:00:00Z",
    agency_id: "a1",
    job_name: "cli_job",
    error_class: "RuntimeError",
    error_message: "failed after 3 retries",
    ...overrides,
  });

describe("observability CLI", () => {
  it("lists the registered jobs, as text and as JSON", async () => {
    const text = await runCli(["list"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^JOB\s+SCHEDULE\s+DESCRIPTION/);
    expect(text.stdout).toContain("ingest_inbox");
    const json = await runCli(["list", "--json"]);
    const jobs = JSON.parse(json.stdout) as { id: string; schedule: string }[];
    expect(jobs.map((j) => j.id)).toContain("ingest_inbox");
    expect(jobs.every((j) => j.schedule.split(" ").length === 5)).toBe(true);
  });

  it("rejects an unknown job with exit 2 and the list of valid ones", async () => {
    const r = await runCli(["run", "no_such_job"], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      'unknown job "no_such_job"; valid jobs: ingest_airflow, ingest_cloverdx, ingest_dq',
    );
  });

  it("rejects bad configuration with exit 2 and one line naming the variable", async () => {
    const r = await runCli(["run", "ingest_inbox"], { env: { ...env, REMINDER_T2_HOURS: "abc" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('observability: REMINDER_T2_HOURS must be a positive number, got "abc"\n');
    const tz = await runCli(["groups", "list"], { env: { ...env, NOTIFICATION_TIMEZONE: "Mars/Base" } });
    expect(tz.code).toBe(2);
    expect(tz.stderr).toContain("NOTIFICATION_TIMEZONE must be an IANA time zone");
  });

  it("rejects bad usage with exit 2 and one line", async () => {
    for (const args of [["frobnicate"], ["list", "--bogus"], ["groups", "list", "--limit"]]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("see `observability --help`");
    }
    const none = await runCli([]);
    expect(none).toMatchObject({ code: 2, stdout: "" });
    expect(none.stderr).toContain("usage: observability");
    const help = await runCli(["--help"]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toContain("usage: observability");
    const dir = await runCli(["ingest", "--file", dataDir], { env });
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain("it is a directory");
    const badNow = await runCli(["groups", "list", "--now", "yesterday"], { env });
    expect(badNow.code).toBe(2);
    expect(badNow.stderr).toContain("--now must be an ISO 8601 time");
    expect((await runCli(["ingest"], { env })).code).toBe(2);
    expect((await runCli(["groups", "ack", "not-a-uuid", "--user", "u"], { env })).code).toBe(2);
  });

  it("never prints a secret, even when the database is unreachable", async () => {
    const r = await runCli(["groups", "list"], {
      env: {
        DATABASE_URL: "postgres://app:s3cr3t-passw0rd@127.0.0.1:1/app",
        SLACK_BOT_TOKEN: "xoxb-very-secret-token",
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/app");
    expect(r.stderr).not.toContain("s3cr3t-passw0rd");
    expect(r.stderr).not.toContain("xoxb-very-secret-token");
  });

  it("fingerprints JSON lines from stdin, explains the rules, and reports bad lines", async () => {
    const input = `${JSON.stringify({ agency_id: "a", signal_type: "t", job_name: "j", error_message: "Timeout after 30 s" })}\nnot json\n`;
    const r = await runCli(["fingerprint", "--explain"], { stdin: input });
    expect(r.code).toBe(1);
    const [first, second] = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof first.normalized).toBe("string");
    expect(typeof first.fingerprint_version).toBe("number");
    expect(Array.isArray(first.rules)).toBe(true);
    expect(second).toMatchObject({ line: 2 });
  });

  it("ingests a JSON-lines file: valid lines go in, malformed ones are reported by line number", async () => {
    const file = join(dataDir, "signals.jsonl");
    writeFileSync(
      file,
      [
        signalLine(),
        "{not json",
        signalLine({ severity: "fatal" }),
        "",
        signalLine({ occurred_at: "2024-05-01T10:05:00Z", error_message: "failed after 7 retries" }),
        signalLine({ bogus: 1 }),
      ].join("\n"),
    );
    const first = await runCli(["ingest", "--file", file, "--now", "2024-05-01T11:00:00Z"], { env });
    expect(first.code).toBe(1);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({
      received: 5,
      inserted: 2,
      duplicates: 0,
      rejected: 3,
      opened: 1,
      attached: 1,
    });
    expect(summary.rejections.map((r: { line: number }) => r.line)).toEqual([2, 3, 6]);
    expect(summary.rejections[1].reason).toContain("severity must be one of info, warning, error, critical");
    expect(summary.rejections[2].reason).toContain("unknown field(s) bogus");
    expect(first.stderr).toContain("line 2 rejected");

    const again = await runCli(["ingest", "--file", file, "--now", "2024-05-01T11:00:00Z"], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, duplicates: 2, opened: 0 });

    const piped = await runCli(["ingest", "--file", "-", "--now", "2024-05-01T11:00:00Z"], {
      env,
      stdin: `${signalLine({ error_message: "failed after 12 retries", dedup_key: "stdin-1" })}\n`,
    });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ received: 1, inserted: 1, attached: 1, opened: 0 });

    const missing = await runCli(["ingest", "--file", join(dataDir, "nope.jsonl")], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });

  it("lists, shows and changes groups as an operator", async () => {
    const listed = await runCli(["groups", "list", "--status", "open", "--json"], { env });
    expect(listed.code).toBe(0);
    const groups = JSON.parse(listed.stdout) as { id: string; job_name: string; count_total: number }[];
    const g = groups.find((x) => x.job_name === "cli_job");
    expect(g?.count_total).toBe(3);
    const id = g?.id ?? "";

    const text = await runCli(["groups", "list"], { env });
    expect(text.stdout).toContain(id);

    const noUser = await runCli(["groups", "ack", id], { env });
    expect(noUser.code).toBe(2);
    const ack = await runCli(["groups", "ack", id, "--user", "alice", "--now", "2024-05-01T12:00:00Z"], {
      env,
    });
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain("acknowledged by alice");
    const again = await runCli(["groups", "ack", id, "--user", "alice"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already acknowledged by alice");

    const snooze = await runCli(
      ["groups", "snooze", id, "--user", "bob", "--for", "4h", "--now", "2024-05-01T12:00:00Z", "--json"],
      {
        env,
      },
    );
    expect(JSON.parse(snooze.stdout)).toMatchObject({
      status: "snoozed",
      snoozed_until: "2024-05-01T16:00:00.000Z",
    });
    const close = await runCli(["groups", "close", id, "--user", "bob", "--now", "2024-05-01T13:00:00Z"], {
      env,
    });
    expect(close.code).toBe(0);
    const reopen = await runCli(
      ["groups", "reopen", id, "--user", "carol", "--now", "2024-05-01T14:00:00Z"],
      { env },
    );
    expect(reopen.code).toBe(0);

    const shown = await runCli(["groups", "show", id, "--json"], { env });
    const detail = JSON.parse(shown.stdout);
    expect(detail).toMatchObject({ id, status: "open", count_total: 3 });
    const lifecycle = detail.activity
      .map((a: { action: string }) => a.action)
      .filter((a: string) => !a.startsWith("slack_"));
    expect(lifecycle).toEqual(["opened", "acknowledged", "snoozed", "closed", "reopened"]);
    const missing = await runCli(["groups", "show", "00000000-0000-4000-8000-000000000000"], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no signal group with id");
  });

  it("runs ingest_inbox: one JSON summary line on stdout, a job-run record, bad rows kept with their reason", async () => {
    const db = testBackend() === "postgres" ? await openPostgres(t.url ?? "") : undefined;
    const rows = [
      {
        source: "airflow-callback",
        payload: JSON.parse(signalLine({ job_name: "inbox_job", dedup_key: "i-1" })),
      },
      { source: "airflow-callback", payload: { signal_type: "task_failed" } },
    ];
    if (db) {
      await insertInboxRows(db, rows);
      await db.close();
    } else {
      // The embedded database belongs to one process at a time: go through a migrated open of it.
      const { openPglite } = await import("../src/db/pglite.js");
      const { db: embedded } = await openPglite(join(dataDir, "state"));
      await insertInboxRows(embedded, rows);
      await embedded.close();
    }
    const r = await runCli(["run", "ingest_inbox", "--now", "2024-05-02T00:00:00Z"], { env });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] ?? "");
    expect(out).toMatchObject({ job: "ingest_inbox", status: "failed", now: "2024-05-02T00:00:00.000Z" });
    expect(out.summary).toMatchObject({ received: 2, inserted: 1, rejected: 1, opened: 1 });
    for (const line of r.stderr.trim().split("\n")) {
      expect(JSON.parse(line)).toMatchObject({ job: "ingest_inbox" });
    }

    const second = await runCli(["run", "ingest_inbox", "--now", "2024-05-02T00:05:00Z"], { env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).summary).toMatchObject({ received: 0, inserted: 0 });

    const check = db
      ? await openPostgres(t.url ?? "")
      : (await (await import("../src/db/pglite.js")).openPglite(join(dataDir, "state"))).db;
    try {
      const runs = await listJobRuns(check, { jobId: "ingest_inbox" });
      expect(runs.map((x) => x.status)).toEqual(["succeeded", "failed"]);
      expect(runs[1]?.summary_json).toMatchObject({ rejected: 1 });
      const inbox = await check.query<{ processed_at: Date | null; error: string | null }>(
        "SELECT processed_at, error FROM reporting.notification_signal_inbox ORDER BY id",
      );
      expect(inbox.every((x) => x.processed_at !== null)).toBe(true);
      expect(inbox[1]?.error).toContain("severity must be one of");
      expect(inbox[1]?.error).toContain("occurred_at is required");
    } finally {
      await check.close();
    }
  });

  it.runIf(testBackend() === "postgres")(
    "marks runs killed before they recorded an outcome as interrupted",
    async () => {
      const db = await openPostgres(t.url ?? "");
      await insertJobRun(db, {
        id: "00000000-0000-4000-8000-00000000dead",
        jobId: "ingest_inbox",
        startedAt: new Date("2024-05-01T00:00:00Z"),
        status: "running",
      });
      const r = await runCli(["run", "ingest_inbox", "--now", "2024-05-03T00:00:00Z"], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("marked interrupted");
      const runs = await listJobRuns(db, { jobId: "ingest_inbox", limit: 100 });
      expect(runs.find((x) => x.id === "00000000-0000-4000-8000-00000000dead")).toMatchObject({
        status: "interrupted",
        finished_at: "2024-05-03T00:00:00.000Z",
      });
      expect(runs.filter((x) => x.status === "running")).toEqual([]);
      await db.close();
    },
  );

  it.runIf(testBackend() === "postgres")(
    "finds a row the database refuses, marks it, and ingests the rest",
    async () => {
      const db = await openPostgres(t.url ?? "");
      await db.query(
        "ALTER TABLE reporting.notification_signal ADD CONSTRAINT no_poison CHECK (job_name <> 'poison')",
      );
      await insertInboxRows(
        db,
        ["ok_1", "poison", "ok_2"].map((job, i) => ({
          source: "cb",
          payload: JSON.parse(signalLine({ job_name: job, dedup_key: `poison-test-${i}` })),
        })),
      );
      const r = await runCli(["run", "ingest_inbox"], { env });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).summary).toMatchObject({ received: 3, inserted: 2, rejected: 1 });
      const rows = await db.query<{ job: string; processed: boolean; error: string | null }>(
        `SELECT payload->>'job_name' AS job, processed_at IS NOT NULL AS processed, error
       FROM reporting.notification_signal_inbox WHERE payload->>'dedup_key' LIKE 'poison-test-%' ORDER BY id`,
      );
      expect(rows.map((x) => [x.job, x.processed, x.error !== null])).toEqual([
        ["ok_1", true, false],
        ["poison", true, true],
        ["ok_2", true, false],
      ]);
      expect(rows[1]?.error).toContain("the database refused the payload");
      await db.query("ALTER TABLE reporting.notification_signal DROP CONSTRAINT no_poison");
      await db.close();
    },
  );

  it.runIf(testBackend() === "postgres")(
    "skips a run while another run of the same job holds its lock",
    async () => {
      const other = await openPostgres(t.url ?? "");
      const release = await other.tryAdvisoryLock("observability:job:ingest_inbox");
      expect(release).not.toBeNull();
      try {
        const r = await runCli(["run", "ingest_inbox"], { env });
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ status: "skipped" });
        expect(r.stderr).toContain("skipped");
      } finally {
        await release?.();
        await other.close();
      }
    },
  );

  it.runIf(testBackend() === "postgres")(
    "db migrate is idempotent and db check reports what is missing",
    async () => {
      const migrate = await runCli(["db", "migrate"], { env });
      expect(migrate.code).toBe(0);
      expect(migrate.stdout).toContain("schema up to date");
      const ok = await runCli(["db", "check"], { env });
      expect(ok.code).toBe(0);
      const db = await openPostgres(t.url ?? "");
      await db.query("ALTER TABLE reporting.notification_signal_group DROP COLUMN slack_message_hash");
      await db.query("DROP INDEX reporting.notification_signal_group_active_uniq");
      await db.query("DROP INDEX reporting.notification_signal_fingerprint_occurred_idx");
      await db.close();
      const bad = await runCli(["db", "check", "--json"], { env });
      expect(bad.code).toBe(1);
      const report = JSON.parse(bad.stdout);
      expect(report.ok).toBe(false);
      expect(report.problems.map((p: { object: string }) => p.object)).toEqual([
        "reporting.notification_signal_group.slack_message_hash",
        "reporting.notification_signal_fingerprint_occurred_idx",
        "reporting.notification_signal_group (agency_id, fingerprint)",
      ]);
    },
  );

  it.runIf(testBackend() === "pglite")(
    "creates the embedded database on first use and says so once",
    async () => {
      const fresh = { OBSERVABILITY_DATA_DIR: join(dataDir, "fresh") };
      const first = await runCli(["groups", "list"], { env: fresh });
      expect(first.code).toBe(0);
      expect(first.stdout).toBe("no signal groups\n");
      expect(first.stderr).toContain("created and migrated the embedded database");
      const second = await runCli(["db", "check"], { env: fresh });
      expect(second.code).toBe(0);
      expect(second.stderr).not.toContain("created");
    },
  );
});
