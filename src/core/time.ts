/** Parsing of the time values people type on the command line. Pure. */

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2}))?$/;

/**
 * An ISO 8601 time with an explicit zone (or a bare date, taken as UTC midnight); undefined if not, or if
 * it names a day or time that does not exist (Date.parse would read 2024-02-31 as March 2nd), or a year
 * (in UTC) outside 1 to 9999.
 */
export function parseIsoTime(text: string): Date | undefined {
  const trimmed = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(trimmed);
  if (!m || !ISO_WITH_ZONE.test(trimmed)) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  if (!month || month > 12 || !day || day > daysInMonth || (hour ?? 0) > 23 || (minute ?? 0) > 59)
    return undefined;
  const date = new Date(trimmed);
  // PostgreSQL's timestamptz has no year 0 and no five-digit years.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999)
    return undefined;
  return date;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration such as "4h", "30m", "1h30m", "2d", "90s"; milliseconds, or undefined if not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  }
  return total > 0 ? total : undefined;
}
