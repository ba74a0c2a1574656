import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { ObservabilityError } from "../errors.js";
import type { Db, Queryable, SqlParam } from "./db.js";
import { advisoryLockSql } from "./locks.js";

const DATE_OID = 1082;
const parsers = { [DATE_OID]: (value: string) => value };

function wrap(pg: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly SqlParam[] = []) {
      const result = await pg.query<R>(sql, params as unknown[]);
      return result.rows;
    },
  };
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) for the zero-setup default. `dataDir` undefined keeps it in
 * memory (tests). PGlite is single-process: a lock file next to the data stops a second process from
 * opening the same directory and corrupting it.
 */
export async function openPglite(dataDir: string | undefined): Promise<{ db: Db; created: boolean }> {
  let created = false;
  let releaseFileLock = () => {};
  let pg: PGlite;
  if (dataDir === undefined) {
    pg = await PGlite.create({ parsers });
  } else {
    const dir = resolve(dataDir);
    const pgdata = join(dir, "pgdata");
    mkdirSync(dir, { recursive: true });
    releaseFileLock = acquireFileLock(join(dir, "embedded.lock"));
    created = !existsPgVersion(pgdata);
    try {
      pg = await PGlite.create(pgdata, { parsers });
    } catch (error) {
      releaseFileLock();
      throw new ObservabilityError(
        "embedded_db_failed",
        `cannot open the embedded database in ${pgdata}: ${error instanceof Error ? error.message : String(error)}; move the directory aside or set OBSERVABILITY_DATA_DIR`,
        { cause: error },
      );
    }
  }
  const queryable = wrap(pg);
  const db: Db = {
    kind: "embedded",
    description:
      dataDir === undefined ? "embedded PGlite (in memory)" : `embedded PGlite at ${resolve(dataDir)}`,
    query: queryable.query,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async exec(script: string) {
      await pg.exec(script);
    },
    async tryAdvisoryLock(key: string) {
      const rows = await queryable.query<{ locked: boolean }>(advisoryLockSql.tryLock, [key]);
      if (rows[0]?.locked !== true) return null;
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await queryable.query(advisoryLockSql.unlock, [key]);
      };
    },
    async close() {
      try {
        if (!pg.closed) await pg.close();
      } finally {
        releaseFileLock();
      }
    },
  };
  return { db, created };
}

function existsPgVersion(pgdata: string): boolean {
  try {
    readFileSync(join(pgdata, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/**
 * An exclusive lock file holding our pid; a lock left by a dead process is taken over. A live holder,
 * this process included (a second open would corrupt the data too), is refused.
 */
function acquireFileLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new ObservabilityError(
          "embedded_db_busy",
          `the embedded database is in use by another process (pid ${holder}); wait for it to finish, or set DATABASE_URL to use PostgreSQL`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new ObservabilityError("embedded_db_busy", `cannot take the embedded database lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
