/**
 * Once per test run (postgres project): build a template database with the full schema, so that each test
 * file can clone its own database from it in milliseconds.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/db/migrate.js";
import { openPostgres } from "../../src/db/postgres.js";

/** Per test run (its pid): two runs against one server each build and drop their own template. */
export const TEMPLATE_DB = `observability_test_template_${process.pid}`;

export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    postgresTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const admin = new pg.Client({ connectionString: adminUrl() });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `the postgres test project needs PostgreSQL at ${adminUrl()} (set TEST_DATABASE_URL): ${(error as Error).message}`,
    );
  }
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  const db = await openPostgres(databaseUrl(TEMPLATE_DB), { max: 1 });
  await migrate(db, { withCore: true });
  await db.close();
  // Leftovers of runs that were killed before their teardown: only those whose test process is gone (the
  // name carries its pid), so two test runs against the same server never drop each other's databases.
  const stale = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'obs_t_%' OR datname LIKE 'observability_test_template%'",
  );
  for (const row of stale.rows) {
    const pid = Number(/^(?:obs_t_|observability_test_template_)(\d+)/.exec(row.datname)?.[1]);
    if (Number.isInteger(pid) && processAlive(pid)) continue;
    await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
  }
  await admin.end();
  project.provide("postgresAdminUrl", adminUrl());
  project.provide("postgresTemplate", TEMPLATE_DB);
  return async () => {
    const c = new pg.Client({ connectionString: adminUrl() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await c.end();
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
