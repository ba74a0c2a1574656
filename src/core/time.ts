/** Parsing of the time values people type on the command line. Pure. */

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2}))?$/;

/** An ISO 8601 time with an explicit zone (or a bare date, taken as UTC midnight); undefined if not. */
export function parseIsoTime(text: string): Date | undefined {
  if (!ISO_WITH_ZONE.test(text.trim())) return undefined;
  const date = new Date(text.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
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
