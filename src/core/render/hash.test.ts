import { describe, expect, it } from "vitest";
import { canonicalJson, messageHash } from "./hash.js";

describe("canonicalJson", () => {
  it("sorts keys at every level and drops undefined properties like JSON does", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"f":2}]},"b":1}',
    );
  });

  it("writes undefined array items as null", () => {
    expect(canonicalJson([undefined, "x"])).toBe('[null,"x"]');
  });
});

describe("messageHash", () => {
  it("is the sha256 hex of the canonical JSON of {text, blocks}", () => {
    // printf '%s' '{"blocks":[],"text":"a"}' | sha256sum
    expect(messageHash({ text: "a", blocks: [] })).toBe(
      "32fce4c980be67f645746880a29598d5cde7a4d42e870b7954dfe22c8762434a",
    );
  });

  it("does not depend on key order", () => {
    const a = messageHash({ text: "t", blocks: [{ type: "section", text: { type: "mrkdwn", text: "x" } }] });
    const b = messageHash({ blocks: [{ text: { text: "x", type: "mrkdwn" }, type: "section" }], text: "t" });
    expect(a).toBe(b);
  });

  it("ignores properties other than text and blocks", () => {
    const message = { text: "t", blocks: [] };
    expect(messageHash({ ...message, hash: "old" } as typeof message)).toBe(messageHash(message));
  });

  it("changes when any content changes", () => {
    const base = messageHash({ text: "t", blocks: [{ type: "divider" }] });
    expect(messageHash({ text: "u", blocks: [{ type: "divider" }] })).not.toBe(base);
    expect(messageHash({ text: "t", blocks: [{ type: "header" }] })).not.toBe(base);
    expect(messageHash({ text: "t", blocks: [] })).not.toBe(base);
  });
});
