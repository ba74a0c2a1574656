import { createInterface } from "node:readline";
import { fingerprintSignal } from "../core/fingerprint.js";
import { explainNormalization, FINGERPRINT_VERSION } from "../core/normalize.js";
import type { CommandIo } from "./io.js";
import { writeJsonLine } from "./io.js";

const PART_NAMES = ["agency_id", "signal_type", "job_name", "stage", "error_class", "error_message"] as const;

/**
 * Reads JSON lines of fingerprint parts from stdin and writes one JSON line each. A bad line gets a line
 * with its number and error (and the exit code is 1); the other lines are still answered.
 */
export async function fingerprintCommand(io: CommandIo, explain: boolean): Promise<number> {
  let failed = false;
  let lineNumber = 0;
  for await (const text of createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber += 1;
    if (text.trim() === "") continue;
    const parts = parseParts(text);
    if (typeof parts === "string") {
      failed = true;
      writeJsonLine(io, { line: lineNumber, error: parts });
      continue;
    }
    const result = fingerprintSignal(parts);
    if (explain) {
      const explanation = explainNormalization(parts.error_message ?? null);
      writeJsonLine(io, {
        ...result,
        fingerprint_version: FINGERPRINT_VERSION,
        rules: explanation.rules,
      });
    } else {
      writeJsonLine(io, result);
    }
  }
  return failed ? 1 : 0;
}

function parseParts(text: string): Partial<Record<(typeof PART_NAMES)[number], string | null>> | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return `invalid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "expected a JSON object";
  const parts: Partial<Record<(typeof PART_NAMES)[number], string | null>> = {};
  for (const name of PART_NAMES) {
    const value = (raw as Record<string, unknown>)[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" && typeof value !== "number") return `${name} must be a string`;
    parts[name] = String(value);
  }
  return parts;
}
