import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSignalInput, prepareSignal, signalId } from "./signal.js";
import type { SignalInput } from "./types.js";

const base: SignalInput = {
  source: "airflow:prod",
  signal_type: "task_failed",
  severity: "error",
  occurred_at: "2024-05-01T12:00:00+02:00",
  agency_id: "a1",
  job_name: "load_orders",
  error_message: "boom",
};

describe("parseSignalInput", () => {
  it("accepts a minimal signal and optional fields as null", () => {
    expect(parseSignalInput({ ...base, stage: null, details: { a: [1, "x", null] } })).toMatchObject({
      ok: true,
    });
  });

  it.each([
    [null, "expected a JSON object with the signal's fields, got null"],
    ["text", "expected a JSON object with the signal's fields, got a string"],
    [{ ...base, severity: "fatal" }, "severity must be one of info, warning, error, critical"],
    [{ ...base, occurred_at: "2024-05-01 12:00:00" }, "occurred_at must be an ISO 8601 time with a zone"],
    [{ ...base, occurred_at: "2024-02-31T00:00:00Z" }, "occurred_at is not a real date and time"],
    [{ ...base, occurred_at: "2024-05-01T24:30:00Z" }, "occurred_at is not a real date and time"],
    [{ ...base, source: " " }, "source must not be empty"],
    [{ ...base, severity: undefined }, "severity"],
    [{ ...base, signal_type: undefined }, "signal_type is required"],
    [{ ...base, extra: 1 }, "unknown field(s) extra"],
    [{ ...base, details: [1] }, "details"],
  ])("rejects %j with a reason naming the field", (raw, reason) => {
    const r = parseSignalInput(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe("prepareSignal", () => {
  it("stores UTC, drops NUL bytes, turns blank optional text into null", () => {
    const row = prepareSignal({
      ...base,
      agency_id: " ",
      error_message: "a\u0000b",
      details: { k: "v\u0000" },
    });
    expect(row).toMatchObject({
      occurred_at: "2024-05-01T10:00:00.000Z",
      agency_id: null,
      error_message: "ab",
      details_json: { k: "v" },
    });
    expect(row.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("replaces lone surrogates, in text and inside details (keys too), so Postgres accepts them", () => {
    const row = prepareSignal({
      ...base,
      job_name: "job\ud800",
      error_message: "x\udfff y",
      details: { "k\ud801": ["a\udc00", { n: 1, ok: "\ud83d\ude00" }] },
    });
    expect(row.job_name).toBe("job\ufffd");
    expect(row.error_message).toBe("x\ufffd y");
    expect(row.details_json).toEqual({ "k\ufffd": ["a\ufffd", { n: 1, ok: "\ud83d\ude00" }] });
  });

  it("derives the id from source and dedup key only, so a re-sent event is the same signal", () => {
    const a = prepareSignal({ ...base, dedup_key: "dag|run|task|1" });
    const b = prepareSignal({
      ...base,
      dedup_key: "dag|run|task|1",
      error_message: "other text",
      severity: "critical",
    });
    expect(a.id).toBe(b.id);
    expect(prepareSignal({ ...base, dedup_key: "dag|run|task|2" }).id).not.toBe(a.id);
    expect(prepareSignal({ ...base, source: "airflow:dev", dedup_key: "dag|run|task|1" }).id).not.toBe(a.id);
  });

  it("without a dedup key, identical content is one signal and any identifying difference is another", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (m1, m2) => {
        const x = signalId({ ...base, error_message: m1 });
        expect(signalId({ ...base, error_message: m1, occurred_at: "2024-05-01T10:00:00Z" })).toBe(x);
        if (m1 !== m2) expect(signalId({ ...base, error_message: m2 })).not.toBe(x);
      }),
    );
  });
});
