import { describe, expect, it } from "vitest";
import { parseDuration, parseIsoTime } from "./time.js";

describe("parseIsoTime", () => {
  it.each([
    ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"],
    ["2024-05-01T12:00:00.123+02:00", "2024-05-01T10:00:00.123Z"],
    ["2024-05-01 12:00Z", "2024-05-01T12:00:00.000Z"],
    ["2024-05-01", "2024-05-01T00:00:00.000Z"],
  ])("accepts %s", (text, expected) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(expected);
  });
  it.each([
    "2024-05-01T12:00:00",
    "yesterday",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2023-02-29",
    "2024-05-01T24:00Z",
    "",
    "1714557600",
  ])("rejects %j", (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});

describe("parseDuration", () => {
  it.each([
    ["4h", 4 * 3_600_000],
    ["30m", 30 * 60_000],
    ["1h30m", 90 * 60_000],
    ["2d", 2 * 86_400_000],
    ["90s", 90_000],
    ["1w", 604_800_000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(["", "4", "h", "4 hours", "-1h", "0h"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
