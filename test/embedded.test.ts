import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "../src/db/pglite.js";
import { testBackend } from "./support/db.js";

// About the embedded database itself: run once, in the pglite project.
const suite = testBackend() === "pglite" ? describe : describe.skip;
const dir = mkdtempSync(join(tmpdir(), "observability-embedded-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

suite("embedded PGlite data directory", () => {
  it("refuses a second open while the first holds the directory, and allows it after close", async () => {
    const first = await openPglite(join(dir, "a"));
    expect(first.created).toBe(true);
    await expect(openPglite(join(dir, "a"))).rejects.toMatchObject({
      code: "embedded_db_busy",
      message: expect.stringContaining(`in use by another process (pid ${process.pid})`),
    });
    await first.db.query("CREATE TABLE kept (x int)");
    await first.db.close();
    expect(existsSync(join(dir, "a", "embedded.lock"))).toBe(false);
    const second = await openPglite(join(dir, "a"));
    expect(second.created).toBe(false);
    expect(await second.db.query("SELECT count(*)::int AS n FROM kept")).toEqual([{ n: 0 }]);
    await second.db.close();
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    const path = join(dir, "b");
    const seeded = await openPglite(path);
    await seeded.db.close();
    writeFileSync(join(path, "embedded.lock"), "2147483646");
    const reopened = await openPglite(path);
    expect(reopened.created).toBe(false);
    await reopened.db.close();
  });
});
