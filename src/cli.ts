/**
 * The command line. `main` parses arguments, builds what a command needs, runs it and turns every
 * failure into one line on stderr and an exit code: 0 ok (or skipped), 1 failed, 2 usage or config.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { dbCheck, dbMigrate } from "./commands/db.js";
import { runDemo } from "./commands/demo.js";
import { printDoctor, runDoctor } from "./commands/doctor.js";
import { fingerprintCommand } from "./commands/fingerprint.js";
import { type GroupActionVerb, groupsAction, groupsList, groupsShow, parseLimit } from "./commands/groups.js";
import { type CommandIo, formatTable, writeJsonLine } from "./commands/io.js";
import { type Config, loadConfig, redactSecrets } from "./config.js";
import { parseIsoTime } from "./core/time.js";
import { listJobRuns } from "./db/job-runs.js";
import { ObservabilityError, sqlState, usageError } from "./errors.js";
import { findJob, JOBS } from "./jobs/registry.js";
import { runJob } from "./jobs/run-job.js";
import { createLogger, type Logger } from "./log.js";
import { createRuntime, openDatabase, type Runtime } from "./runtime.js";
import { createSlackTarget, runSlackSync } from "./slack/index.js";
import { DEFAULT_BATCH_SIZE, ingestJsonLines } from "./sources/jsonl.js";

export const USAGE = `usage: observability <command> [options]

commands:
  list [--json]                              list the jobs with their descriptions and schedules
  run <job> [--since <ISO time>] [--dry-run]  run one job; prints one JSON summary line
                                             (--since: backfill; --dry-run: what would be sent, changes nothing)
  ingest --file <path|-> [--batch-size N]    ingest JSON-lines signals, then sync Slack; prints one JSON summary
  fingerprint [--explain]                    fingerprint JSON lines read from stdin
  groups list [--status S[,S]] [--limit N] [--json]
  groups show <id> [--json]                  a group with its activity history
  groups ack|close|reopen <id> --user U      change a group's status as a person
  groups snooze <id> --user U (--until T | --for 4h)
  runs list [--job J] [--limit N] [--json]   recent job runs: start, end, outcome, summary
  doctor [--json]                            check configuration, database, schema, Slack, sources; exit 1 on a failure
  db migrate [--with-core] [--json]          apply the backend's schema additions
  db check [--json]                          compare the live schema with what the code uses
  demo [--out DIR]                           a simulated day on the bundled sample data, no services needed:
                                             writes DIR/index.html (the Slack channel and DMs) and
                                             DIR/slack-outbox.json; prints the page's path (DIR: .observability/demo)

every command accepts --help, and all but demo --now <ISO time> (default: the database's clock).
`;

const COMMON = {
  now: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(
      `${error instanceof Error ? error.message : String(error)}; see \`observability --help\``,
    );
  }
}

function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const now = parseIsoTime(text);
  if (!now)
    throw usageError(
      `--now must be an ISO 8601 time with a zone (2024-05-01T12:00:00Z), got ${JSON.stringify(text)}`,
    );
  return now;
}

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  let secrets: readonly string[] = [];
  let log: Logger | undefined;
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      // Asked for: help on stdout. Missing command: a usage error, so the help goes to stderr.
      (command === undefined ? io.stderr : io.stdout).write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === "list") return listCommand(io, rest);
    if (command === "doctor") {
      // Before loadConfig: a bad configuration is one of the checks it reports, not an exit 2.
      const { values, positionals } = parse(rest, { json: { type: "boolean" } });
      if (values.help) return help(io);
      if (positionals.length > 0) throw usageError(`doctor takes no arguments, got ${positionals.join(" ")}`);
      const checks = await runDoctor(
        io.env,
        (config) =>
          createLogger({
            level: config.logLevel,
            secrets: config.secrets,
            base: { command: "doctor" },
            destination: io.stderr,
          }),
        parseNow(values.now),
      );
      return printDoctor(io, checks, values.json === true);
    }
    if (command === "demo") {
      // Before loadConfig: the demo builds its own configuration (fakes, embedded database), whatever the env.
      const { values, positionals } = parse(rest, { out: { type: "string" } });
      if (values.help) return help(io);
      if (positionals.length > 0) throw usageError(`demo takes no arguments, got ${positionals.join(" ")}`);
      if (values.now !== undefined) throw usageError("demo simulates its own times; it takes no --now");
      const result = await runDemo(io, values.out);
      io.stdout.write(`${result.indexHtml}\n`);
      return 0;
    }
    if (command === "fingerprint") {
      const { values, positionals } = parse(rest, { explain: { type: "boolean" } });
      if (values.help) return help(io);
      if (positionals.length > 0)
        throw usageError(`fingerprint takes no arguments, got ${positionals.join(" ")}`);
      parseNow(values.now);
      return await fingerprintCommand(io, values.explain === true);
    }

    const config = loadConfig(io.env);
    secrets = config.secrets;
    const logger = (base: Record<string, string>) =>
      createLogger({ level: config.logLevel, secrets: config.secrets, base, destination: io.stderr });
    switch (command) {
      case "run": {
        const { values, positionals } = parse(rest, {
          since: { type: "string" },
          "dry-run": { type: "boolean" },
        });
        if (values.help) return help(io);
        const jobId = positionals[0];
        const job = jobId === undefined ? undefined : findJob(jobId);
        if (job === undefined || positionals.length !== 1) {
          throw usageError(
            `${jobId === undefined ? "run needs a job name" : `unknown job ${JSON.stringify(jobId)}`}; valid jobs: ${JOBS.map((j) => j.id).join(", ")}`,
          );
        }
        let since: Date | undefined;
        if (values.since !== undefined) {
          if (!job.acceptsSince) {
            throw usageError(
              `--since applies to ${JOBS.filter((j) => j.acceptsSince)
                .map((j) => j.id)
                .join(", ")}, not ${job.id}`,
            );
          }
          since = parseIsoTime(values.since);
          if (since === undefined) {
            throw usageError(
              `--since must be an ISO 8601 time with a zone (2024-05-01T00:00:00Z), got ${JSON.stringify(values.since)}`,
            );
          }
        }
        const dryRun = values["dry-run"] === true;
        if (dryRun && !job.supportsDryRun) {
          throw usageError(
            `--dry-run applies to ${JOBS.filter((j) => j.supportsDryRun)
              .map((j) => j.id)
              .join(", ")}, not ${job.id}`,
          );
        }
        // Progress for a person at a terminal; a CronJob's stdout stays one JSON line.
        const progress =
          io.stdout.isTTY === true
            ? (line: string) => {
                io.stderr.write(`\r\u001b[K${line}`);
              }
            : undefined;
        log = logger({ job: job.id });
        return await withRuntime(config, log, parseNow(values.now), async (runtime) => {
          const runLog = runtime.log.child({ run_id: runtime.runId });
          const outcome = await runJob(job, {
            ...runtime,
            log: runLog,
            ...(io.stopSignal ? { stopSignal: io.stopSignal } : {}),
            jobOptions: {
              ...(since ? { since } : {}),
              ...(progress ? { progress } : {}),
              ...(dryRun ? { dryRun } : {}),
            },
          });
          if (progress) io.stderr.write("\r\u001b[K");
          // Message bodies (a dry run's would_send) go to stdout only, never into the info log.
          const { would_send: _w, would_expire: _e, ...logged } = outcome.summary;
          runLog.info({ status: outcome.status, summary: logged }, "run finished");
          writeJsonLine(io, outcome);
          return outcome.status === "failed" ? 1 : 0;
        });
      }
      case "ingest": {
        const { values, positionals } = parse(rest, {
          file: { type: "string" },
          "batch-size": { type: "string" },
        });
        if (values.help) return help(io);
        if (values.file === undefined || positionals.length > 0) {
          throw usageError("ingest needs --file <path>, or --file - to read standard input");
        }
        const batchSize =
          values["batch-size"] === undefined ? DEFAULT_BATCH_SIZE : Number(values["batch-size"]);
        if (!Number.isInteger(batchSize) || batchSize < 1) {
          throw usageError(
            `--batch-size must be a positive whole number, got ${JSON.stringify(values["batch-size"])}`,
          );
        }
        const file = values.file;
        log = logger({ command: "ingest" });
        const input = file === "-" ? io.stdin : await openInput(file);
        return await withRuntime(config, log, parseNow(values.now), async (runtime) => {
          // Checked before ingesting: a Slack misconfiguration must stop the command before it writes.
          const target = createSlackTarget(runtime);
          const summary = await ingestJsonLines(runtime.db, input, {
            now: runtime.now,
            reopenWindowHours: config.reopenWindowHours,
            appBaseUrl: config.appBaseUrl,
            batchSize,
            ...(io.stopSignal ? { stopSignal: io.stopSignal } : {}),
            onRejected: (r) =>
              runtime.log.warn({ line: r.line, reason: r.reason }, `line ${r.line} rejected: ${r.reason}`),
          });
          // Like every ingest job, end by bringing Slack up to date (or the local outbox without a token).
          const slack = await runSlackSync(
            { ...runtime, ...(io.stopSignal ? { stopSignal: io.stopSignal } : {}) },
            { target },
          );
          runtime.log.info({ summary: { ...summary, rejections: undefined, slack } }, "ingest finished");
          writeJsonLine(io, { ...summary, slack });
          return summary.rejected > 0 || slack.failed > 0 ? 1 : 0;
        });
      }
      case "groups":
        log = logger({ command: "groups" });
        return await groupsCommand(config, log, io, rest);
      case "db":
        log = logger({ command: "db" });
        return await dbCommand(config, log, io, rest);
      case "runs":
        log = logger({ command: "runs" });
        return await runsCommand(config, log, io, rest);
      default:
        throw usageError(`unknown command ${JSON.stringify(command)}; see \`observability --help\``);
    }
  } catch (error) {
    return reportError(error, io, secrets, log);
  }
}

function help(io: CommandIo): number {
  io.stdout.write(USAGE);
  return 0;
}

function listCommand(io: CommandIo, rest: string[]): number {
  const { values, positionals } = parse(rest, { json: { type: "boolean" } });
  if (values.help) return help(io);
  if (positionals.length > 0) throw usageError(`list takes no arguments, got ${positionals.join(" ")}`);
  parseNow(values.now);
  const jobs = JOBS.map((j) => ({ id: j.id, description: j.description, schedule: j.schedule }));
  if (values.json) writeJsonLine(io, jobs);
  else
    io.stdout.write(
      formatTable(
        ["JOB", "SCHEDULE", "DESCRIPTION"],
        jobs.map((j) => [j.id, j.schedule, j.description]),
      ),
    );
  return 0;
}

async function groupsCommand(config: Config, log: Logger, io: CommandIo, rest: string[]): Promise<number> {
  const { values, positionals } = parse(rest, {
    json: { type: "boolean" },
    status: { type: "string" },
    limit: { type: "string" },
    user: { type: "string" },
    until: { type: "string" },
    for: { type: "string" },
    reason: { type: "string" },
  });
  if (values.help) return help(io);
  const [sub, id, ...extra] = positionals;
  const json = values.json === true;
  const now = parseNow(values.now);
  if (sub === "list") {
    if (id !== undefined)
      throw usageError(`groups list takes no arguments, got ${positionals.slice(1).join(" ")}`);
    return withRuntime(config, log, now, (rt) =>
      groupsList(rt, io, {
        json,
        ...(values.status !== undefined ? { status: values.status } : {}),
        ...(values.limit !== undefined ? { limit: values.limit } : {}),
      }),
    );
  }
  if (sub === "show" || sub === "ack" || sub === "snooze" || sub === "close" || sub === "reopen") {
    if (id === undefined || extra.length > 0) throw usageError(`groups ${sub} needs exactly one group id`);
    if (sub === "show") return withRuntime(config, log, now, (rt) => groupsShow(rt, io, id, json));
    const verb: GroupActionVerb = sub;
    return withRuntime(config, log, now, (rt) =>
      groupsAction(rt, io, verb, id, {
        json,
        ...(values.user !== undefined ? { user: values.user } : {}),
        ...(values.until !== undefined ? { until: values.until } : {}),
        ...(values.for !== undefined ? { for: values.for } : {}),
        ...(values.reason !== undefined ? { reason: values.reason } : {}),
      }),
    );
  }
  throw usageError(
    `groups needs one of: list, show, ack, snooze, close, reopen${sub ? ` (got ${JSON.stringify(sub)})` : ""}`,
  );
}

async function runsCommand(config: Config, log: Logger, io: CommandIo, rest: string[]): Promise<number> {
  const { values, positionals } = parse(rest, {
    json: { type: "boolean" },
    job: { type: "string" },
    limit: { type: "string" },
  });
  if (values.help) return help(io);
  parseNow(values.now);
  if (positionals.length !== 1 || positionals[0] !== "list") {
    throw usageError(
      `runs needs: list${positionals.length > 0 ? ` (got ${JSON.stringify(positionals.join(" "))})` : ""}`,
    );
  }
  const limit = parseLimit(values.limit, 50);
  return withRuntime(config, log, undefined, async (rt) => {
    const runs = await listJobRuns(rt.db, { ...(values.job ? { jobId: values.job } : {}), limit });
    if (values.json) {
      writeJsonLine(io, runs);
      return 0;
    }
    if (runs.length === 0) {
      io.stdout.write("no job runs\n");
      return 0;
    }
    io.stdout.write(
      formatTable(
        ["STARTED", "FINISHED", "JOB", "STATUS", "SUMMARY / ERROR"],
        runs.map((r) => [
          r.started_at,
          r.finished_at ?? "-",
          r.job_id,
          r.status,
          (r.error ?? JSON.stringify(r.summary_json ?? null)).slice(0, 120),
        ]),
      ),
    );
    return 0;
  });
}

async function dbCommand(config: Config, log: Logger, io: CommandIo, rest: string[]): Promise<number> {
  const { values, positionals } = parse(rest, {
    json: { type: "boolean" },
    "with-core": { type: "boolean" },
  });
  if (values.help) return help(io);
  parseNow(values.now);
  const [sub, ...extra] = positionals;
  if ((sub !== "migrate" && sub !== "check") || extra.length > 0) {
    throw usageError(
      `db needs one of: migrate, check${sub ? ` (got ${JSON.stringify(positionals.join(" "))})` : ""}`,
    );
  }
  const db = await openDatabase(config, log);
  try {
    return sub === "migrate"
      ? await dbMigrate(db, io, { withCore: values["with-core"] === true, json: values.json === true })
      : await dbCheck(db, io, { json: values.json === true });
  } finally {
    await db.close();
  }
}

async function withRuntime(
  config: Config,
  log: Logger,
  now: Date | undefined,
  fn: (runtime: Runtime) => Promise<number>,
): Promise<number> {
  const runtime = await createRuntime(config, log, now === undefined ? {} : { now });
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** Opens a file to ingest; anything that is not a readable regular file is a usage error. */
async function openInput(path: string) {
  const unreadable = (reason: string, cause?: unknown) =>
    new ObservabilityError(
      "input_unreadable",
      `cannot read ${path}: ${reason}; pass a JSON-lines file or - for stdin`,
      {
        kind: "usage",
        cause,
      },
    );
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw unreadable((error as NodeJS.ErrnoException).code ?? String(error), error);
  }
  if (!info.isFile() && !info.isFIFO())
    throw unreadable(info.isDirectory() ? "it is a directory" : "not a regular file");
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (error: NodeJS.ErrnoException) =>
      reject(unreadable(error.code ?? error.message, error)),
    );
  });
  return stream;
}

const SCHEMA_STATES = new Set(["42P01", "42703", "3F000", "42883"]);
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "57P01",
]);

/** One line on stderr naming the cause and the fix; never a stack trace, never a secret. */
function reportError(
  error: unknown,
  io: CommandIo,
  secrets: readonly string[],
  log: Logger | undefined,
): number {
  let message: string;
  let exitCode: 1 | 2 = 1;
  // A driver error may arrive wrapped (e.g. with the line a failed batch started at): look at its cause.
  const driverError =
    error instanceof ObservabilityError &&
    error.code === "ingest_batch_failed" &&
    error.cause instanceof Error
      ? error.cause
      : error;
  const state = sqlState(driverError);
  const errno =
    typeof driverError === "object" && driverError !== null
      ? (driverError as { code?: unknown }).code
      : undefined;
  const context = error instanceof ObservabilityError && driverError !== error ? ` (${error.message})` : "";
  if (state !== undefined && SCHEMA_STATES.has(state)) {
    message = `the database schema is not what this version expects${context || ` (${(driverError as Error).message})`}; run \`observability db migrate\`, then \`observability db check\``;
  } else if (typeof errno === "string" && CONNECTION_CODES.has(errno)) {
    message = `lost the connection to PostgreSQL (${errno})${context || `: ${(driverError as Error).message}`}; check that the server is up and DATABASE_URL is right`;
  } else if (error instanceof ObservabilityError) {
    message = error.message;
    exitCode = error.exitCode;
  } else {
    message = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    log?.debug({ err: error }, "internal error");
  }
  io.stderr.write(`observability: ${redactSecrets(message, secrets)}\n`);
  return exitCode;
}
