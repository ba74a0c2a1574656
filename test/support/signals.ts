import { prepareSignal } from "../../src/core/signal.js";
import type { SignalInput, SignalRow } from "../../src/core/types.js";

let counter = 0;

/** A valid signal with sensible defaults; every call gets its own dedup key unless one is given. */
export function signal(overrides: Partial<SignalInput> = {}): SignalInput {
  counter += 1;
  return {
    source: "test",
    signal_type: "task_failed",
    severity: "error",
    occurred_at: "2024-05-01T10:00:00Z",
    agency_id: "agency-1",
    agency_slug: "acme",
    job_name: "load_orders",
    stage: "extract",
    error_class: "ValueError",
    error_message: "could not parse row 17",
    dedup_key: `k-${counter}-${Math.random()}`,
    ...overrides,
  };
}

export function row(overrides: Partial<SignalInput> = {}): SignalRow {
  return prepareSignal(signal(overrides));
}

export function addHours(iso: string, hours: number): string {
  return new Date(Date.parse(iso) + hours * 3_600_000).toISOString();
}
