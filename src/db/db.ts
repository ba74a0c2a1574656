/**
 * The one narrow database seam. Both adapters (node-postgres and embedded PGlite) implement it, and no
 * other module can tell them apart. Parameters are plain values: strings, numbers, booleans, null, arrays
 * of those, or JSON text cast in SQL (`$1::jsonb`).
 */
export type SqlParam = string | number | boolean | null | readonly (string | number | null)[];

export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
}

export type DbKind = "postgres" | "embedded";

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** A human description safe to log (never contains a password). */
  readonly description: string;
  /** Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Tries a session-level advisory lock held until the returned release function is called (or the
   * process dies). Returns null when another session holds it.
   */
  tryAdvisoryLock(key: string): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}

/** Rows come back with timestamptz as Date; this turns one into ISO text (or null). */
export function isoOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

export function iso(value: unknown): string {
  const out = isoOrNull(value);
  if (out === null) throw new Error("expected a timestamp, got null");
  return out;
}

/** The database's clock, read once per run. */
export async function readDatabaseNow(db: Queryable): Promise<Date> {
  const rows = await db.query<{ now: Date }>("SELECT now() AS now");
  const now = rows[0]?.now;
  if (!now) throw new Error("SELECT now() returned no row");
  return new Date(now);
}
