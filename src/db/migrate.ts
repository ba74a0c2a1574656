import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ObservabilityError } from "../errors.js";
import type { Db } from "./db.js";

const SCHEMA_DIR = fileURLToPath(new URL("./schema/", import.meta.url));
const MIGRATION_LOCK = 0x0b5e0001;

export type MigrationTrack = "core" | "backend";

export interface Migration {
  track: MigrationTrack;
  name: string;
  sql: string;
}

/** The numbered SQL files of one track, in order. */
export function loadMigrations(track: MigrationTrack): Migration[] {
  const dir = `${SCHEMA_DIR}${track}/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => ({ track, name: `${track}/${f}`, sql: readFileSync(`${dir}${f}`, "utf8") }));
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies the backend additions (and, with `withCore`, the core tables first). Each file runs as one
 * implicit transaction together with its bookkeeping row, under an advisory lock, so concurrent migrations
 * and re-runs are harmless.
 */
export async function migrate(db: Db, options: { withCore: boolean }): Promise<MigrateResult> {
  await db.exec(`CREATE SCHEMA IF NOT EXISTS reporting;
    CREATE TABLE IF NOT EXISTS reporting.observability_schema_migration (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    );`);
  const done = new Set(
    (await db.query<{ name: string }>("SELECT name FROM reporting.observability_schema_migration")).map(
      (r) => r.name,
    ),
  );
  const migrations = [...(options.withCore ? loadMigrations("core") : []), ...loadMigrations("backend")];
  if (!options.withCore && !(await coreTablesExist(db))) {
    throw new ObservabilityError(
      "core_schema_missing",
      "the core tables reporting.notification_* do not exist; apply the shared schema first, or run `observability db migrate --with-core` (development only)",
      { kind: "config" },
    );
  }
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    if (done.has(m.name)) {
      result.alreadyApplied.push(m.name);
      continue;
    }
    // A simple-protocol multi-statement script is one implicit transaction: all or nothing.
    await db.exec(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});
${m.sql}
;INSERT INTO reporting.observability_schema_migration (name) VALUES ('${m.name.replaceAll("'", "''")}')
  ON CONFLICT (name) DO NOTHING;`);
    result.applied.push(m.name);
  }
  return result;
}

async function coreTablesExist(db: Db): Promise<boolean> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.tables
     WHERE table_schema = 'reporting'
       AND table_name IN ('notification_signal', 'notification_signal_group', 'notification_signal_group_activity')`,
  );
  return rows[0]?.n === 3;
}
