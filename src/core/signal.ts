/**
 * From an untrusted signal (a JSON line, an inbox payload, a source mapper's output) to a row of
 * reporting.notification_signal: validation, deterministic id, fingerprint. Pure.
 */
import { hash } from "node:crypto";
import { parse as parseUuid, v5 as uuidv5 } from "uuid";
import { z } from "zod";
import { fingerprintSignal } from "./fingerprint.js";
import { parseIsoTime } from "./time.js";
import { type JsonObject, type JsonValue, SEVERITIES, type SignalInput, type SignalRow } from "./types.js";

/** Namespace of every signal id (UUIDv5); never change it, or re-ingesting would duplicate signals. */
export const SIGNAL_ID_NAMESPACE = "3d1f6a52-8c47-4e0e-9a57-0b6f2c1e9d84";
const NAMESPACE_BYTES = parseUuid(SIGNAL_ID_NAMESPACE);

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})$/;

const optionalString = (max: number) => z.string().max(max).nullish();

export const signalInputSchema = z.strictObject({
  source: z.string().trim().min(1, "must not be empty").max(200),
  signal_type: z.string().trim().min(1, "must not be empty").max(200),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(", ")}` }),
  occurred_at: z
    .string()
    .regex(ISO_WITH_ZONE, "must be an ISO 8601 time with a zone, e.g. 2024-05-01T12:00:00Z")
    .refine((v) => parseIsoTime(v) !== undefined, "is not a real date and time"),
  agency_id: optionalString(200),
  agency_slug: optionalString(200),
  job_name: optionalString(1000),
  run_id: optionalString(1000),
  task_id: optionalString(1000),
  stage: optionalString(1000),
  error_class: optionalString(1000),
  error_message: z.string().nullish(),
  summary: z.string().nullish(),
  details: z.record(z.string(), z.json()).nullish(),
  dedup_key: optionalString(2000),
});

export type ParseResult = { ok: true; value: SignalInput } | { ok: false; reason: string };

/** Validates one untrusted signal. The reason names the field and what is expected. */
export function parseSignalInput(raw: unknown): ParseResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: `expected a JSON object with the signal's fields, got ${describeJson(raw)}` };
  }
  const parsed = signalInputSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data as SignalInput };
  const reason = parsed.error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") return `unknown field(s) ${issue.keys.join(", ")}`;
      const field = issue.path.join(".");
      if (field !== "" && issue.code === "invalid_type" && issue.input === undefined)
        return `${field} is required`;
      return field === "" ? issue.message : `${field} ${issue.message}`;
    })
    .join("; ");
  return { ok: false, reason };
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * Untrusted text made storable: Postgres rejects NUL bytes and lone UTF-16 surrogates in text and jsonb
 * (one such value would fail its whole batch), so NULs are dropped and lone surrogates become U+FFFD.
 */
function cleanText(value: string): string {
  const noNul = value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;
  return noNul.isWellFormed() ? noNul : noNul.toWellFormed();
}

function clean(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : cleanText(value);
}

function cleanJsonValue(value: JsonValue): JsonValue {
  if (typeof value === "string") return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanJsonValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanJsonValue(v)]));
  }
  return value;
}

function cleanEmpty(value: string | null | undefined): string | null {
  const v = clean(value)?.trim();
  return v === undefined || v === "" ? null : v;
}

function cleanJson(value: JsonObject | null | undefined): JsonObject | null {
  if (value === undefined || value === null) return null;
  // JSON.stringify escapes exactly the characters at issue, so one scan of its output finds them.
  return /\\u0000|\\ud[89a-f]/i.test(JSON.stringify(value)) ? (cleanJsonValue(value) as JsonObject) : value;
}

/**
 * The natural key of a signal: the source's own dedup key, or else a digest of everything that
 * identifies the event, so that re-ingesting the same line twice is a no-op either way.
 */
export function naturalKey(input: SignalInput): string {
  if (input.dedup_key) return `key|${input.dedup_key}`;
  const identity = [
    new Date(input.occurred_at).toISOString(),
    input.signal_type,
    input.agency_id ?? "",
    input.job_name ?? "",
    input.run_id ?? "",
    input.task_id ?? "",
    input.stage ?? "",
    input.error_class ?? "",
    input.error_message ?? "",
  ];
  return `content|${hash("sha256", JSON.stringify(identity), "hex")}`;
}

export function signalId(input: SignalInput): string {
  return uuidv5(`${input.source}|${naturalKey(input)}`, NAMESPACE_BYTES);
}

/** Builds the row to insert: cleaned text, UTC timestamp, deterministic id and fingerprint. */
export function prepareSignal(input: SignalInput): SignalRow {
  const agencyId = cleanEmpty(input.agency_id);
  const signalType = clean(input.signal_type) ?? "";
  const jobName = cleanEmpty(input.job_name);
  const stage = cleanEmpty(input.stage);
  const errorClass = cleanEmpty(input.error_class);
  const errorMessage = clean(input.error_message);
  const { fingerprint } = fingerprintSignal({
    agency_id: agencyId,
    signal_type: signalType,
    job_name: jobName,
    stage,
    error_class: errorClass,
    error_message: errorMessage,
  });
  return {
    id: signalId(input),
    occurred_at: new Date(input.occurred_at).toISOString(),
    source: clean(input.source) ?? "",
    signal_type: signalType,
    severity: input.severity,
    agency_id: agencyId,
    agency_slug: cleanEmpty(input.agency_slug),
    job_name: jobName,
    run_id: cleanEmpty(input.run_id),
    task_id: cleanEmpty(input.task_id),
    stage,
    error_class: errorClass,
    error_message: errorMessage,
    fingerprint,
    summary: clean(input.summary),
    details_json: cleanJson(input.details),
  };
}
