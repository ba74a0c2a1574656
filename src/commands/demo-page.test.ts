import { describe, expect, it } from "vitest";
import { mrkdwnToHtml } from "./demo-page.js";

describe("mrkdwnToHtml", () => {
  const names = new Map([["U01ALICE", "Alice <Admin>"]]);

  it("formats bold, code, blocks, links, mentions and dates", () => {
    expect(mrkdwnToHtml("*Status:* by <@U01ALICE> at <!date^1714558800^{time}|10:20 UTC>", names)).toBe(
      '<b>Status:</b> by <span class="mention">@Alice &lt;Admin&gt;</span> at 10:20 UTC',
    );
    expect(mrkdwnToHtml("see <https://x.test/a?b=1&amp;c=2|the *run*>")).toBe(
      'see <a href="https://x.test/a?b=1&amp;c=2">the *run*</a>',
    );
    expect(mrkdwnToHtml("`a_b` and ```\nx < y &amp; *z*\n```")).toBe(
      "<code>a_b</code> and <pre>x &lt; y &amp; *z*\n</pre>",
    );
    expect(mrkdwnToHtml("orders_daily _done_ ~old~")).toBe("orders_daily <i>done</i> <s>old</s>");
  });

  it("escapes everything else and refuses script links", () => {
    expect(mrkdwnToHtml("&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|x>")).toBe(
      "&lt;script&gt;alert(1)&lt;/script&gt; x",
    );
    expect(mrkdwnToHtml('a "quote"\nline')).toBe("a &quot;quote&quot;<br>line");
  });
});
