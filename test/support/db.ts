/**
 * A fresh, fully migrated database for one test file: embedded PGlite (in memory) or a PostgreSQL
 * database cloned from the template, depending on the vitest project.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { Db } from "../../src/db/db.js";
import { migrate } from "../../src/db/migrate.js";
import { openPglite } from "../../src/db/pglite.js";
import { openPostgres } from "../../src/db/postgres.js";

export type TestBackend = "pglite" | "postgres";

export function testBackend(): TestBackend {
  return process.env.OBSERVABILITY_TEST_DB === "postgres" ? "postgres" : "pglite";
}

export interface TestDatabase {
  db: Db;
  backend: TestBackend;
  /** The connection URL (postgres only), for CLI runs and extra connections. */
  url: string | undefined;
  /** Another independent connection pool to the same database (postgres only). */
  openAnother(): Promise<Db>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (testBackend() === "pglite") {
    const { db } = await openPglite(undefined);
    await migrate(db, { withCore: true });
    return {
      db,
      backend: "pglite",
      url: undefined,
      openAnother: () => Promise.reject(new Error("PGlite has a single connection")),
      drop: () => db.close(),
    };
  }
  const admin = inject("postgresAdminUrl");
  const template = inject("postgresTemplate");
  // The pid lets the global setup of another test run tell a live test's database from a leftover.
  const name = `obs_t_${process.pid}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString(), { max: 8 });
  const others: Db[] = [];
  return {
    db,
    backend: "postgres",
    url: url.toString(),
    async openAnother() {
      const other = await openPostgres(url.toString(), { max: 4 });
      others.push(other);
      return other;
    },
    async drop() {
      await Promise.all([db, ...others].map((d) => d.close()));
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
