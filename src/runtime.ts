import { randomUUID } from "node:crypto";
import type { Config } from "./config.js";
import { type Db, readDatabaseNow } from "./db/db.js";
import { migrate } from "./db/migrate.js";
import { openPglite } from "./db/pglite.js";
import { openPostgres } from "./db/postgres.js";
import type { Logger } from "./log.js";
import type { SlackTarget } from "./slack/index.js";

/** Opens the database the configuration selects: PostgreSQL with DATABASE_URL, else embedded PGlite. */
export async function openDatabase(config: Config, log: Logger): Promise<Db> {
  if (config.databaseUrl !== undefined) return openPostgres(config.databaseUrl);
  const { db, created } = await openPglite(config.dataDir);
  try {
    // The embedded database is ours alone: keep it fully migrated, core tables included.
    await migrate(db, { withCore: true });
  } catch (error) {
    await db.close();
    throw error;
  }
  if (created) log.info({ data_dir: config.dataDir }, "created and migrated the embedded database");
  return db;
}

export interface JobOptions {
  /** Backfill from this time instead of the cursor. */
  since?: Date;
  /** Progress lines for a person watching (set when stdout is a terminal). */
  progress?: (line: string) => void;
  /** Report what would be sent; change nothing (no claims, no run record, no Slack). */
  dryRun?: boolean;
}

export interface Runtime {
  db: Db;
  config: Config;
  log: Logger;
  now: Date;
  runId: string;
  /** Options of `observability run` that a job may read (backfill start, progress output). */
  jobOptions?: JobOptions;
  /** Aborted when the process is asked to stop; jobs check it between batches (never inside one). */
  stopSignal?: AbortSignal;
  /** Where Slack messages go; built from the configuration when absent (tests inject one), null = off. */
  slack?: SlackTarget | null;
  close(): Promise<void>;
}

/** Everything a command or job needs for one run; `now` is read once (from the database unless given). */
export async function createRuntime(
  config: Config,
  log: Logger,
  options: { now?: Date; db?: Db } = {},
): Promise<Runtime> {
  const db = options.db ?? (await openDatabase(config, log));
  try {
    const now = options.now ?? (await readDatabaseNow(db));
    return {
      db,
      config,
      log,
      now,
      runId: randomUUID(),
      close: () => (options.db ? Promise.resolve() : db.close()),
    };
  } catch (error) {
    if (!options.db) await db.close();
    throw error;
  }
}
