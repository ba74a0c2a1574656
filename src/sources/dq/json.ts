/**
 * Small helpers the DQ parsers (dbt, GX, Soda) share to read untrusted parsed JSON and report on it.
 * Pure; none of them throws.
 */
import { createHash } from "node:crypto";
import { parseIsoTime } from "../../core/time.js";
import type { JsonValue } from "../../core/types.js";
import type { DqParseResult } from "./types.js";

/** A parsed JSON object whose fields are not known yet. */
export type Obj = Record<string, unknown>;

/** The parse result for a file that could not be read: `reason` says why. */
export function problem(path: string, reason: string): DqParseResult {
  return { ok: false, problem: { path, reason } };
}

/**
 * Runs a parser and returns its result; should it throw (the parsers do not on any JSON, but one must never
 * take the batch down), a problem for the file instead.
 */
export function parseOrProblem(path: string, parse: () => DqParseResult): DqParseResult {
  try {
    return parse();
  } catch (error) {
    return problem(path, `could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The parsed object (a leading BOM is ignored), or a sentence saying why the text is not one. */
export function parseJsonObject(text: string): Obj | string {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    return `not valid JSON (truncated or corrupt?): ${error instanceof Error ? error.message : String(error)}`;
  }
  return isObj(value) ? value : "does not hold a JSON object";
}

export function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value if it is an object, else an empty one. */
export function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

/** A string that is not blank, else null. */
export function str(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** A finite number, else null. */
export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** A non-negative safe integer, else null. */
export function count(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** The non-empty strings of an array (other entries dropped); [] when not an array. */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : [];
}

/** A value for a message: strings as they are, anything else as JSON; at most 200 characters. */
export function show(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** The first 12 hex digits of the SHA-256 of the text. */
export function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function stableJson(value: unknown, depth = 0): string {
  if (depth > 64) return "null";
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v, depth + 1)).join(",")}]`;
  if (isObj(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k], depth + 1)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A parsed-JSON value as JsonValue (drops nothing JSON can hold; caps absurd nesting). */
export function toJson(value: unknown, depth = 0): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (depth > 32) return null;
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
  if (isObj(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, depth + 1)]));
  return null;
}

/** ISO 8601 (with or without offset; none means UTC) → ISO UTC with milliseconds; null if not a time. */
export function toUtcIso(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(text) || !/\d{2}:\d{2}/.test(text) ? text : `${text}Z`;
  return parseIsoTime(zoned)?.toISOString() ?? null;
}
