/**
 * `observability demo` end to end, in-process: the fakes, the real jobs on a fresh embedded database, and the
 * page and outbox it writes. The demo always uses embedded PGlite, so the postgres project skips it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DemoOutbox } from "../src/commands/demo-page.js";
import { runCli } from "./support/cli.js";
import { testBackend } from "./support/db.js";

const dir = mkdtempSync(join(tmpdir(), "observability-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(testBackend() === "postgres")("observability demo", () => {
  it("runs the simulated day and writes the channel, threads, DMs and digest as a page and an outbox", async () => {
    // A DATABASE_URL in the environment must not matter: the demo builds its own configuration.
    const result = await runCli(["demo", "--out", dir], {
      env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", LOG_LEVEL: "warn" },
    });
    expect(result.stderr).not.toContain("observability:");
    expect(result.code).toBe(0);
    const page = join(dir, "index.html");
    expect(result.stdout).toBe(`${page}\n`);
    expect(existsSync(page)).toBe(true);

    const outbox = JSON.parse(readFileSync(join(dir, "slack-outbox.json"), "utf8")) as DemoOutbox;
    expect(outbox.channelMessages.length).toBeGreaterThan(5);
    expect(outbox.dms.length).toBeGreaterThan(0);

    const html = readFileSync(page, "utf8");
    // Root messages from all three sources, in their current state.
    for (const job of ["orders_daily", "invoice_export", "jobflow/nightly_dwh.jbf", "payments_daily"]) {
      expect(html).toContain(job);
    }
    expect(html).toContain("<b>Status:</b> Acknowledged by");
    // Thread replies: the acknowledgement (mention turned into a name), an escalation, a recovery.
    expect(html).toContain('<span class="mention">@Alice Novak</span>');
    expect(html).toContain("<b>Escalated</b>");
    expect(html).toContain("<b>Closed</b>: recovered");
    // DMs per person, and the digest.
    expect(html).toContain('id="dm-alice"');
    expect(html).toContain("<b>Second reminder</b>");
    expect(html).toContain("Daily digest · 2024-05-02");
    // Message text is escaped: no markup from the data, no script.
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain("<module>");
    expect(html).not.toContain("<@U");
  });
});
