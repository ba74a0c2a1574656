import pg from "pg";
import { describeDatabaseUrl } from "../config.js";
import { ObservabilityError } from "../errors.js";
import type { Db, Queryable, SqlParam } from "./db.js";
import { advisoryLockSql } from "./locks.js";

const DATE_OID = 1082;
const INT8_OID = 20;

/** Dates stay "YYYY-MM-DD" text (a local date has no time zone); bigint counts become numbers. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === DATE_OID) return (value: string) => value;
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * A checked-out client whose connection dies emits 'error'; without a listener that crashes the process.
 * The failure still reaches the caller through its pending or next query.
 */
function ignoreIdleErrors(client: pg.PoolClient): () => void {
  const onError = () => {};
  client.on("error", onError);
  return () => client.off("error", onError);
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly SqlParam[] = []) {
      const result = await client.query<R>(sql, params as unknown[]);
      return result.rows;
    },
  };
}

export async function openPostgres(
  databaseUrl: string,
  options: { max?: number; variable?: string } = {},
): Promise<Db> {
  const description = describeDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 4,
    types,
    connectionTimeoutMillis: 10_000,
    application_name: "observability",
    // Short OLTP statements: PostgreSQL's JIT would spend ~200 ms compiling a scan that takes 20 ms.
    options: "-c jit=off",
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new ObservabilityError(
      "db_unreachable",
      `cannot connect to PostgreSQL at ${description}: ${describeConnectError(error)}; check ${options.variable ?? "DATABASE_URL"} and that the server is running`,
      { cause: error },
    );
  }
  const queryable = wrap(pool);
  return {
    kind: "postgres",
    description,
    query: queryable.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const stopIgnoring = ignoreIdleErrors(client);
      try {
        await client.query("BEGIN");
        const result = await fn(wrap(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        stopIgnoring();
        client.release();
      }
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async tryAdvisoryLock(key: string) {
      // Session-level locks live on one connection: keep that connection until release.
      const client = await pool.connect();
      const stopIgnoring = ignoreIdleErrors(client);
      try {
        const rows = await client.query<{ locked: boolean }>(advisoryLockSql.tryLock, [key]);
        if (rows.rows[0]?.locked !== true) {
          stopIgnoring();
          client.release();
          return null;
        }
      } catch (error) {
        stopIgnoring();
        client.release(true);
        throw error;
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          await client.query(advisoryLockSql.unlock, [key]);
          stopIgnoring();
          client.release();
        } catch (error) {
          // Destroying the connection releases the lock too.
          stopIgnoring();
          client.release(error instanceof Error ? error : true);
        }
      };
    },
    async close() {
      await pool.end();
    },
  };
}

function describeConnectError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || (error as AggregateError).errors?.map((e) => String(e)).join(", ");
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
