/**
 * Finding result artifacts on disk (a mounted volume or a synced bucket): dbt invocation directories and
 * GX / Soda result files. Reading is bounded (file count and size) so a wrong directory cannot exhaust a run.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";

export const MAX_FILES = 10_000;
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

export interface Artifact {
  /** Stable key for the ledger: tool and path relative to the configured directory. */
  key: string;
  path: string;
}

export function contentHash(...parts: readonly (string | null)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p ?? "\u0000null").update("\u0000");
  return h.digest("hex");
}

/** dbt invocations: the directory itself if it holds run_results.json, and every subdirectory that does. */
export async function listDbtInvocations(root: string): Promise<Artifact[]> {
  const out: Artifact[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (out.length >= MAX_FILES) return;
    const entries = await readdir(dir, { withFileTypes: true });
    // Symbolic links count too: mounted volumes (ConfigMaps, synced buckets) are often made of them.
    if (entries.some((e) => (e.isFile() || e.isSymbolicLink()) && e.name === "run_results.json")) {
      out.push({ key: `dbt:${relative(root, dir) || "."}`, path: dir });
    }
    if (depth >= 3) return;
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      await visit(join(dir, e.name), depth + 1);
    }
  };
  await visit(root, 0);
  return out;
}

/** JSON files under a directory (recursively, bounded), in path order. */
export async function listJsonFiles(root: string, tool: string): Promise<Artifact[]> {
  const out: Artifact[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (out.length >= MAX_FILES || depth > 8) return;
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await visit(path, depth + 1);
      else if (e.isFile() && e.name.endsWith(".json"))
        out.push({ key: `${tool}:${relative(root, path)}`, path });
      if (out.length >= MAX_FILES) return;
    }
  };
  await visit(root, 0);
  return out;
}

/** A file's text, or null when it does not exist; too large a file is an error naming it. */
export async function readTextFile(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    if (info.size > MAX_FILE_BYTES)
      throw new Error(`${path} is ${info.size} bytes, more than the ${MAX_FILE_BYTES} read`);
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
