import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatCodeBlock,
  formatCount,
  formatInlineCode,
  formatLink,
  formatPlainText,
  formatPlainValue,
  formatSlackDate,
  formatUser,
  joinLinesWithin,
  parseZonedTime,
  validUrl,
} from "./mrkdwn.js";

describe("formatSlackDate", () => {
  it("renders Slack's date token with a UTC fallback to the minute", () => {
    expect(formatSlackDate("2024-05-01T12:34:56.789Z")).toBe(
      "<!date^1714566896^{date_short_pretty} {time}|2024-05-01 12:34 UTC>",
    );
  });

  it("reads PostgreSQL's text form and offsets", () => {
    expect(formatSlackDate("2024-05-01 14:34:56+02")).toBe(formatSlackDate("2024-05-01T12:34:56Z"));
    expect(formatSlackDate("2024-05-01T14:34:56+02:00")).toBe(formatSlackDate("2024-05-01T12:34:56Z"));
  });

  it("shows text without a zone escaped rather than guess the machine's zone", () => {
    expect(parseZonedTime("2024-05-01T12:34:56")).toBeUndefined();
    expect(formatSlackDate("2024-05-01T12:34:56")).toBe("2024-05-01T12:34:56");
    expect(formatSlackDate("<!here> soon")).toBe("&lt;!here&gt; soon");
  });

  it("takes a bare date as UTC midnight", () => {
    expect(parseZonedTime("2024-05-01")).toBe(Date.UTC(2024, 4, 1));
  });
});

describe("formatUser", () => {
  it("mentions a valid Slack id, else shows the internal id escaped, else null", () => {
    expect(formatUser("U0ALICE", "alice")).toBe("<@U0ALICE>");
    expect(formatUser("W123", null)).toBe("<@W123>");
    expect(formatUser("U1> <!channel", "a<b")).toBe("a&lt;b");
    expect(formatUser("u0alice", " ")).toBeNull();
    expect(formatUser(null, null)).toBeNull();
  });
});

describe("links", () => {
  it("accepts only http(s) URLs Slack can link, within its limit", () => {
    expect(validUrl("https://x.example/a?b=1&c=2")).toBe("https://x.example/a?b=1&c=2");
    expect(validUrl(`https://x/${"a".repeat(2990)}`)).not.toBeNull();
    for (const bad of ["javascript:alert(1)", "https://x/a b", "https://x/a|b", "https://x/<a>", null]) {
      expect(validUrl(bad)).toBeNull();
    }
    expect(validUrl(`https://x/${"a".repeat(2991)}`)).toBeNull();
  });

  it("escapes & in the URL and the label", () => {
    expect(formatLink("https://x.example/?a=1&b=2", "A & B")).toBe(
      "<https://x.example/?a=1&amp;b=2|A &amp; B>",
    );
    expect(formatLink("ftp://x", "A")).toBeNull();
  });
});

describe("value formats", () => {
  it("puts identifiers in inline code that cannot be closed early", () => {
    expect(formatInlineCode("a`b<c>", 100)).toBe("`aˋb&lt;c&gt;`");
    expect(formatInlineCode(" \n", 100)).toBe("—");
    expect(formatInlineCode("x".repeat(500), 10)).toBe("`xxxxxxx…`");
  });

  it("shows a missing plain value as a dash", () => {
    expect(formatPlainValue(null, 10)).toBe("—");
    expect(formatPlainValue("a\nb", 10)).toBe("a b");
  });

  it("keeps a code block within max, fences included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.integer({ min: 10, max: 200 }), (text, max) => {
        const block = formatCodeBlock(text, max);
        if (block === null) return;
        expect(block.length).toBeLessThanOrEqual(max);
        expect(block.startsWith("```\n")).toBe(true);
        expect(block.endsWith("\n```")).toBe(true);
        expect(block.slice(4, -4)).not.toContain("``");
      }),
    );
    expect(formatCodeBlock("  \n ", 100)).toBeNull();
  });

  it("defuses markup in plain_text", () => {
    expect(formatPlainText("<!channel>", 100)).toBe("<\u200B!channel>");
  });

  it("groups thousands independently of the locale", () => {
    expect([0, 999, 1000, 1234567, -1234].map(formatCount)).toEqual([
      "0",
      "999",
      "1,000",
      "1,234,567",
      "-1,234",
    ]);
  });
});

describe("joinLinesWithin", () => {
  it("keeps whole lines and says how many were dropped", () => {
    expect(joinLinesWithin(["aaaa", "bbbb", "cccc"], 100)).toBe("aaaa\nbbbb\ncccc");
    expect(joinLinesWithin(["aaaaaaaa", "bbbbbbbb", "cccccccc"], 20)).toBe("aaaaaaaa\n…and 2 more");
    expect(joinLinesWithin([], 20)).toBe("");
  });

  it("never exceeds max when the limit leaves room for the tail", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 })), fc.integer({ min: 20, max: 300 }), (lines, max) => {
        const joined = joinLinesWithin(lines, max);
        expect(joined.length).toBeLessThanOrEqual(max);
        if (lines.join("\n").length <= max) expect(joined).toBe(lines.join("\n"));
      }),
    );
  });
});
