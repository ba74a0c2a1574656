import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cleanSingleLine,
  cleanUntrustedText,
  escapeAndTruncate,
  escapeSlackText,
  neutralizeCodeFences,
  neutralizeInlineCode,
  truncateEscapedText,
  truncateText,
} from "./escape.js";

/** Text that is likely to hit the interesting cases: entities, surrogate pairs, lone surrogates, fences. */
const trickyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({
    unit: fc.constantFrom(
      "<",
      ">",
      "&",
      "`",
      "a",
      "😀",
      "\ud83d",
      "\ude00",
      "\u202e",
      "\u0301",
      "\n",
      "\u0000",
    ),
    maxLength: 200,
  }),
);

function unescapeSlackText(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

function hasOnlyWholeEntities(text: string): boolean {
  return !/&(?!amp;|lt;|gt;)/.test(text);
}

describe("escapeSlackText", () => {
  it("escapes Slack's three control characters and nothing else", () => {
    expect(escapeSlackText("<!channel> & <@U123> <https://x|y> `*_~ \"'")).toBe(
      "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://x|y&gt; `*_~ \"'",
    );
  });

  it("escapes an existing entity again, so it reads literally", () => {
    expect(escapeSlackText("&lt;")).toBe("&amp;lt;");
  });

  it("round-trips and leaves no raw < or >", () => {
    fc.assert(
      fc.property(trickyText, (text) => {
        const escaped = escapeSlackText(text);
        expect(escaped).not.toMatch(/[<>]/);
        expect(hasOnlyWholeEntities(escaped)).toBe(true);
        expect(unescapeSlackText(escaped)).toBe(text);
      }),
    );
  });
});

describe("truncateText", () => {
  it("keeps text that fits", () => {
    expect(truncateText("abc", 3)).toBe("abc");
  });

  it("cuts to max units ending in an ellipsis", () => {
    expect(truncateText("abcdef", 4)).toBe("abc…");
  });

  it("never splits a surrogate pair", () => {
    expect(truncateText("ab😀cd", 4)).toBe("ab…");
    expect(truncateText("ab😀cd", 5)).toBe("ab😀…");
  });

  it("handles limits of 0 and 1 and nonsense limits", () => {
    expect(truncateText("abc", 0)).toBe("");
    expect(truncateText("abc", 1)).toBe("…");
    expect(truncateText("abc", -5)).toBe("");
    expect(truncateText("abc", Number.NaN)).toBe("");
  });

  it("stays within max, keeps a prefix, and keeps well-formed text well-formed", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), fc.nat(120), (text, max) => {
        const cut = truncateText(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut.isWellFormed()).toBe(true);
        if (text.length <= max) expect(cut).toBe(text);
        else expect(text.startsWith(cut.replace(/…$/, ""))).toBe(true);
      }),
    );
  });
});

describe("truncateEscapedText / escapeAndTruncate", () => {
  it("cuts before a half entity", () => {
    // "ab&amp;cd" cut to 5 would keep "ab&a" + "…": the "&a" must go.
    expect(truncateEscapedText("ab&amp;cd", 5)).toBe("ab…");
    expect(escapeAndTruncate("ab&cd", 5)).toBe("ab…");
    expect(escapeAndTruncate("ab&cd", 8)).toBe("ab&amp;…");
  });

  it("measures the escaped length, not the raw one", () => {
    expect(escapeAndTruncate("<<<<", 10)).toBe("&lt;&lt;…");
    expect(escapeAndTruncate("<<<<", 16)).toBe("&lt;&lt;&lt;&lt;");
  });

  it("stays within max, with whole entities only, and unescapes to a prefix of the input", () => {
    fc.assert(
      fc.property(trickyText, fc.nat(250), (raw, max) => {
        const text = raw.toWellFormed();
        const cut = escapeAndTruncate(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut).not.toMatch(/[<>]/);
        expect(hasOnlyWholeEntities(cut)).toBe(true);
        expect(cut.isWellFormed()).toBe(true);
        expect(text.startsWith(unescapeSlackText(cut.replace(/…$/, "")))).toBe(true);
      }),
    );
  });
});

describe("cleanUntrustedText", () => {
  it("replaces lone surrogates, drops controls and bidi overrides, normalises line breaks", () => {
    expect(cleanUntrustedText("a\ud83db\u0000c\u202ed\r\ne\rf\u2028g\th")).toBe("a\ufffdbcd\ne\nf\ng\th");
  });

  it("keeps RTL letters, combining marks and emoji", () => {
    expect(cleanUntrustedText("שלום e\u0301 😀")).toBe("שלום e\u0301 😀");
  });

  it("puts a value on one line", () => {
    expect(cleanSingleLine("  a\n\tb  c ")).toBe("a b c");
  });
});

describe("code neutralisation", () => {
  it("leaves no two adjacent backticks, so no ``` fence can form", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("`", "a", "\u200b"), maxLength: 50 }), (text) => {
        const neutral = neutralizeCodeFences(text);
        expect(neutral).not.toContain("``");
        expect(neutral.replaceAll("\u200b", "")).toBe(text.replaceAll("\u200b", ""));
      }),
    );
  });

  it("replaces backticks for inline code", () => {
    expect(neutralizeInlineCode("a`b")).toBe("aˋb");
  });
});
