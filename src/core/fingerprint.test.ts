import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeFingerprint, type FingerprintParts, fingerprintSignal } from "./fingerprint.js";
import { normalizeErrorMessage } from "./normalize.js";

const PART_KEYS = ["agency_id", "signal_type", "job_name", "stage", "error_class"] as const;

describe("fingerprintSignal", () => {
  // Expected hashes computed independently, e.g. printf '%s' 'a|b|c|d|e|f' | sha256sum
  it("is the sha256 of the pipe-joined parts and the normalised message", () => {
    expect(
      fingerprintSignal({
        agency_id: "a",
        signal_type: "b",
        job_name: "c",
        stage: "d",
        error_class: "e",
        error_message: "f",
      }),
    ).toEqual({
      normalized: "f",
      fingerprint: "0232358a261ca00b3efe9a48cd72b135f7a407fc755ec104554abe1eb3e591c7",
    });
  });

  it("hashes an all-empty signal as '|||||'", () => {
    expect(computeFingerprint({})).toBe("1867f76f89b18a0f04c72020a91ed03b5557354322022ed5b08d045d20b8689c");
  });

  it("pins a realistic signal", () => {
    const parts: FingerprintParts = {
      agency_id: "acme",
      signal_type: "airflow_task_failed",
      job_name: "orders_daily.load_orders",
      stage: "load",
      error_class: "UniqueViolation",
      error_message:
        'duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(12345) already exists.',
    };
    // printf '%s' 'acme|airflow_task_failed|orders_daily.load_orders|load|UniqueViolation|duplicate key value
    //   violates unique constraint "orders_pkey" detail: key (id)=(<value>) already exists.' | sha256sum
    expect(fingerprintSignal(parts)).toEqual({
      normalized:
        'duplicate key value violates unique constraint "orders_pkey" detail: key (id)=(<value>) already exists.',
      fingerprint: "a929f2e807ff8052c702f79f7f0fdb6ff225534cf65a416bb9050d163087fd51",
    });
    // Only the message is normalised: the other parts are used as given (case included).
    expect(computeFingerprint({ ...parts, error_class: "uniqueviolation" })).not.toBe(
      computeFingerprint(parts),
    );
  });

  it("groups messages that differ only in volatile parts", () => {
    const base = { signal_type: "dq_check_failed", job_name: "orders_dbt", stage: "test" };
    const a = fingerprintSignal({ ...base, error_message: "Got 88 failing rows" });
    const b = fingerprintSignal({
      ...base,
      agency_id: null,
      error_class: undefined,
      error_message: "Got 1,523 failing rows",
    });
    // printf '%s' '|dq_check_failed|orders_dbt|test||got <num> failing rows' | sha256sum
    expect(a).toEqual({
      normalized: "got <num> failing rows",
      fingerprint: "6083e3258cf88b92b792eaee3b7fdc4c6361e3ebfbb8de9a4390b5badb3dba46",
    });
    expect(b).toEqual(a);
  });

  it("computeFingerprint is fingerprintSignal(...).fingerprint", () => {
    const parts = { job_name: "x", error_message: "HTTP 503 at 2024-01-02T03:04:05Z" };
    expect(computeFingerprint(parts)).toBe(fingerprintSignal(parts).fingerprint);
    expect(fingerprintSignal(parts).normalized).toBe(normalizeErrorMessage(parts.error_message));
  });
});

const optionalText = fc.option(fc.string({ maxLength: 30 }), { nil: undefined });
const partsArb: fc.Arbitrary<FingerprintParts> = fc.record(
  {
    agency_id: fc.option(fc.string({ maxLength: 30 })),
    signal_type: optionalText,
    job_name: optionalText,
    stage: fc.option(fc.string({ maxLength: 30 })),
    error_class: optionalText,
    error_message: fc.option(fc.string({ maxLength: 200 })),
  },
  { requiredKeys: [] },
);

describe("fingerprint properties", () => {
  it("is 64 lowercase hex characters and deterministic", () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const fingerprint = computeFingerprint(parts);
        expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(computeFingerprint({ ...parts })).toBe(fingerprint);
        expect(fingerprintSignal(parts).normalized).toBe(normalizeErrorMessage(parts.error_message));
      }),
      { numRuns: 500 },
    );
  });

  it("differs when any non-message part differs", () => {
    fc.assert(
      fc.property(
        partsArb,
        fc.constantFrom(...PART_KEYS),
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 30 }),
        (parts, key, v1, v2) => {
          fc.pre(v1 !== v2);
          expect(computeFingerprint({ ...parts, [key]: v1 })).not.toBe(
            computeFingerprint({ ...parts, [key]: v2 }),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("treats null, undefined, '' and a missing part alike", () => {
    const blank = fc.constantFrom<null | undefined | "" | "missing">(null, undefined, "", "missing");
    fc.assert(
      fc.property(
        partsArb,
        fc.constantFrom(...PART_KEYS, "error_message" as const),
        blank,
        blank,
        (parts, key, x, y) => {
          const withBlank = (b: null | undefined | "" | "missing"): FingerprintParts => {
            const copy: FingerprintParts = { ...parts };
            if (b === "missing") delete copy[key];
            else copy[key] = b;
            return copy;
          };
          expect(computeFingerprint(withBlank(x))).toBe(computeFingerprint(withBlank(y)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("depends on the message only through its normalised form", () => {
    fc.assert(
      fc.property(partsArb, fc.string({ maxLength: 200 }), (parts, message) => {
        const normalized = normalizeErrorMessage(message);
        expect(computeFingerprint({ ...parts, error_message: message })).toBe(
          computeFingerprint({ ...parts, error_message: normalized }),
        );
      }),
      { numRuns: 500 },
    );
  });
});
