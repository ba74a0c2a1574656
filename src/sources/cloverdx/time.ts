/**
 * Wall-clock times of a CloverDX server to UTC and back. Pure; DST-correct through Intl (no tz database of
 * our own). The Simple HTTP API writes and filters times in the server's zone without an offset, and some
 * REST records do too, so both directions are needed.
 */

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in `timeZone` at the instant `utcMs`. */
export function utcToLocal(utcMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: ((utcMs % 1000) + 1000) % 1000,
  };
}

/** The zone's offset from UTC at the instant `utcMs`, in milliseconds (east positive). */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const l = utcToLocal(utcMs, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
  return asUtc - utcMs;
}

function naiveUtc(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
}

/**
 * Every instant whose wall-clock time in `timeZone` is `local`, ascending: one normally, two in the hour a
 * fall-back repeats, none in the hour a spring-forward skips.
 */
export function localToUtcCandidates(local: LocalDateTime, timeZone: string): number[] {
  const naive = naiveUtc(local);
  // Offsets in use within a day either side cover every transition that can affect this wall time.
  const offsets = new Set([
    zoneOffsetMs(naive - 86_400_000, timeZone),
    zoneOffsetMs(naive + 86_400_000, timeZone),
  ]);
  offsets.add(zoneOffsetMs(naive, timeZone));
  const out = new Set<number>();
  for (const offset of offsets) {
    const candidate = naive - offset;
    if (naiveUtc(utcToLocal(candidate, timeZone)) === naive) out.add(candidate);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * A wall-clock time in `timeZone` as a UTC instant. In a repeated hour the earlier instant is chosen (the
 * server cannot tell them apart either; the cursor overlap absorbs the other); in a skipped hour the time is
 * moved forward by the gap, as java.time does for such a local time.
 */
export function localToUtc(local: LocalDateTime, timeZone: string): number {
  const candidates = localToUtcCandidates(local, timeZone);
  if (candidates[0] !== undefined) return candidates[0];
  const naive = naiveUtc(local);
  // In a gap: the offset before the transition puts the instant just after it.
  return naive - zoneOffsetMs(naive - 86_400_000, timeZone);
}

const LOCAL_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A server time as an ISO UTC string: with an offset (or Z) it is taken as is, without one it is read in
 * `timeZone`. Epoch milliseconds (a number, or digits) are accepted too. Null when it is not a time.
 */
export function parseServerTime(value: unknown, timeZone: string): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? new Date(value).toISOString() : null;
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (/^\d{12,14}$/.test(text)) return new Date(Number(text)).toISOString();
  const m = LOCAL_TIME.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const local: LocalDateTime = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s ?? 0),
    millisecond: Number((frac ?? "0").padEnd(3, "0").slice(0, 3)),
  };
  if (local.month < 1 || local.month > 12 || local.day < 1 || local.day > 31 || local.hour > 23) return null;
  if (local.minute > 59 || local.second > 59) return null;
  // Rejects 2024-02-31 and the like (Date.UTC would roll them over).
  if (new Date(naiveUtc(local)).getUTCDate() !== local.day) return null;
  let ms: number;
  if (zone === undefined) ms = localToUtc(local, timeZone);
  else {
    const naive = naiveUtc(local);
    if (zone.toUpperCase() === "Z") ms = naive;
    else {
      const sign = zone.startsWith("-") ? -1 : 1;
      const digits = zone.slice(1).replace(":", "");
      const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
      ms = naive - sign * offset;
    }
  }
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "yyyy-MM-dd HH:mm" in `timeZone`, the Simple HTTP API's filter format. */
export function formatLocalMinute(utcMs: number, timeZone: string): string {
  const l = utcToLocal(utcMs, timeZone);
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}`;
}

/** "yyyy-MM-dd HH:mm:ss" in `timeZone`, how the Simple HTTP API prints times (the fake uses it). */
export function formatLocalSecond(utcMs: number, timeZone: string): string {
  const l = utcToLocal(utcMs, timeZone);
  return `${formatLocalMinute(utcMs, timeZone)}:${pad(l.second)}`;
}

/**
 * A lower bound for a minute-precision local filter that never starts after `utcMs`: floored to the minute
 * and, when that wall time repeats (fall-back), stepped back so the server's reading of it, whichever of the
 * two it picks, is not later than `utcMs`.
 */
export function lowerBoundLocalMinute(utcMs: number, timeZone: string): string {
  let at = utcMs;
  for (let i = 0; i < 3; i++) {
    const text = formatLocalMinute(at, timeZone);
    const l = utcToLocal(at, timeZone);
    const latest = localToUtcCandidates({ ...l, second: 0, millisecond: 0 }, timeZone).at(-1) ?? at;
    if (latest <= utcMs) return text;
    at -= latest - utcMs;
  }
  return formatLocalMinute(at, timeZone);
}

/** An upper bound for a minute-precision local filter that never ends before `utcMs` (next minute up). */
export function upperBoundLocalMinute(utcMs: number, timeZone: string): string {
  return formatLocalMinute(utcMs + 60_000, timeZone);
}
