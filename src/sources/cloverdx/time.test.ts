import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatLocalMinute,
  localToUtc,
  localToUtcCandidates,
  lowerBoundLocalMinute,
  parseServerTime,
  upperBoundLocalMinute,
  utcToLocal,
} from "./time.js";

const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => ({
  year: y,
  month: mo,
  day: d,
  hour: h,
  minute: mi,
  second: s,
  millisecond: 0,
});
const iso = (ms: number) => new Date(ms).toISOString();

describe("server wall-clock times", () => {
  it("converts plain times with the zone's offset of that date", () => {
    expect(iso(localToUtc(local(2024, 1, 15, 10, 0), "Europe/Prague"))).toBe("2024-01-15T09:00:00.000Z");
    expect(iso(localToUtc(local(2024, 7, 15, 10, 0), "Europe/Prague"))).toBe("2024-07-15T08:00:00.000Z");
    expect(iso(localToUtc(local(2024, 7, 15, 10, 0), "UTC"))).toBe("2024-07-15T10:00:00.000Z");
  });

  it("spring forward (Prague 2024-03-31 02:00 -> 03:00): the skipped hour moves forward by the gap", () => {
    expect(localToUtcCandidates(local(2024, 3, 31, 2, 30), "Europe/Prague")).toEqual([]);
    expect(iso(localToUtc(local(2024, 3, 31, 2, 30), "Europe/Prague"))).toBe("2024-03-31T01:30:00.000Z");
    expect(iso(localToUtc(local(2024, 3, 31, 1, 59), "Europe/Prague"))).toBe("2024-03-31T00:59:00.000Z");
    expect(iso(localToUtc(local(2024, 3, 31, 3, 0), "Europe/Prague"))).toBe("2024-03-31T01:00:00.000Z");
  });

  it("fall back (Chicago 2024-11-03 02:00 CDT -> 01:00 CST): the repeated hour has two instants, the earlier is chosen", () => {
    const both = localToUtcCandidates(local(2024, 11, 3, 1, 30), "America/Chicago").map(iso);
    expect(both).toEqual(["2024-11-03T06:30:00.000Z", "2024-11-03T07:30:00.000Z"]);
    expect(iso(localToUtc(local(2024, 11, 3, 1, 30), "America/Chicago"))).toBe("2024-11-03T06:30:00.000Z");
  });

  it("parses what the APIs print", () => {
    const tz = "America/Chicago";
    expect(parseServerTime("2024-03-10 01:50:00", tz)).toBe("2024-03-10T07:50:00.000Z");
    expect(parseServerTime("2024-03-10T03:30:00", tz)).toBe("2024-03-10T08:30:00.000Z");
    expect(parseServerTime("2024-03-10T03:30:00.250-05:00", tz)).toBe("2024-03-10T08:30:00.250Z");
    expect(parseServerTime("2024-03-10T08:30:00Z", tz)).toBe("2024-03-10T08:30:00.000Z");
    expect(parseServerTime("2024-03-10T09:30:00+0100", tz)).toBe("2024-03-10T08:30:00.000Z");
    expect(parseServerTime(1710059400000, tz)).toBe("2024-03-10T08:30:00.000Z");
    for (const bad of ["", "yesterday", "2024-02-31 10:00:00", "2024-13-01 10:00", "10:00", null, {}]) {
      expect(parseServerTime(bad, tz)).toBeNull();
    }
  });

  it("filter bounds in local minutes never narrow the window, even in a repeated hour", () => {
    const tz = "America/Chicago";
    // 07:10Z is 01:10 CST, the second 01:10 of the night: "01:10" read as the first (06:10Z) is earlier, fine.
    expect(lowerBoundLocalMinute(Date.parse("2024-11-03T07:10:30Z"), tz)).toBe("2024-11-03 01:10");
    // 06:10Z is the first 01:10 (CDT); a server reading "01:10" as the later instant would skip an hour, so
    // the bound steps back by the difference, to 00:11 (05:11Z).
    expect(lowerBoundLocalMinute(Date.parse("2024-11-03T06:10:30Z"), tz)).toBe("2024-11-03 00:11");
    expect(upperBoundLocalMinute(Date.parse("2024-05-01T10:05:30Z"), "Europe/Prague")).toBe(
      "2024-05-01 12:06",
    );
  });

  it("round-trips every instant outside repeated hours (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("2000-01-01T00:00:00Z"), max: Date.parse("2040-01-01T00:00:00Z") }),
        fc.constantFrom("Europe/Prague", "America/Chicago", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"),
        (ms, tz) => {
          const at = Math.floor(ms / 1000) * 1000;
          const l = utcToLocal(at, tz);
          const candidates = localToUtcCandidates(l, tz);
          expect(candidates).toContain(at);
          expect(formatLocalMinute(at, tz)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
          const lower = lowerBoundLocalMinute(at, tz);
          const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(lower);
          const latest = localToUtcCandidates(
            local(Number(m?.[1]), Number(m?.[2]), Number(m?.[3]), Number(m?.[4]), Number(m?.[5])),
            tz,
          ).at(-1);
          if (latest !== undefined) expect(latest).toBeLessThanOrEqual(at);
        },
      ),
      { numRuns: 300 },
    );
  });
});
