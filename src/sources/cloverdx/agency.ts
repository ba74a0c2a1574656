/**
 * CLOVERDX_AGENCY_RULES: which agency a sandbox belongs to. `sandboxCode=agencySlug` entries, comma
 * separated; sandbox codes compare case-insensitively, slugs are lower-cased. A sandbox without a rule has
 * no agency (its signals are kept, with agency null).
 */
import { configError } from "../../errors.js";

export type SandboxAgencyRules = ReadonlyMap<string, string>;

const SANDBOX_CODE = /^[A-Za-z0-9_.-]+$/;

export function parseSandboxAgencyRules(text: string | undefined): SandboxAgencyRules {
  const rules = new Map<string, string>();
  if (text === undefined || text.trim() === "") return rules;
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    const bad = (why: string) =>
      configError(
        `CLOVERDX_AGENCY_RULES: bad entry ${JSON.stringify(entry)}: ${why} (expected sandboxCode=agencySlug)`,
      );
    if (entry === "") throw bad("empty entry (a stray comma?)");
    const eq = entry.indexOf("=");
    if (eq === -1) throw bad("no '='");
    const code = entry.slice(0, eq).trim();
    const slug = entry
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (!SANDBOX_CODE.test(code)) throw bad("a sandbox code may only contain letters, digits, _ . -");
    if (slug === "" || /[\s=]/.test(slug)) throw bad("the slug is empty or contains spaces or '='");
    rules.set(code.toLowerCase(), slug);
  }
  return rules;
}

export function resolveSandboxAgency(sandbox: string | null, rules: SandboxAgencyRules): string | null {
  return sandbox === null ? null : (rules.get(sandbox.toLowerCase()) ?? null);
}
