/**
 * Which agency a DAG belongs to. Pure. Precedence, first match wins:
 *  1. a DAG tag `<tagPrefix><slug>` (rule `tag`); with several, the smallest slug in code-unit order, so the
 *     answer never depends on the order Airflow lists the tags in;
 *  2. the dag_id prefix rules, in the order configured (rule `prefix`);
 *  3. none (null).
 * Slugs are trimmed and lower-cased; a rule that would yield an empty slug does not match.
 */
import { configError } from "../../errors.js";

export interface AgencyRules {
  /** Tag prefix, default "agency:"; a DAG tag `agency:<slug>` names the agency slug. Empty: tags are not used. */
  tagPrefix: string;
  /**
   * dag_id prefix rules, in order: `{ prefix: "acme_", slug: "acme" }`, or a regex whose group named `slug`
   * (else its first group) captures the slug: `{ pattern: /^([a-z]+)__/ }`.
   */
  prefixRules: ({ prefix: string; slug: string } | { pattern: RegExp })[];
}

export type AgencyRule = "tag" | "prefix";

export const DEFAULT_TAG_PREFIX = "agency:";

export const DEFAULT_AGENCY_RULES: AgencyRules = Object.freeze({
  tagPrefix: DEFAULT_TAG_PREFIX,
  prefixRules: [],
});

const ENV_NAME = "AIRFLOW_AGENCY_RULES";
/** Characters Airflow allows in a dag_id; a prefix with anything else could never match. */
const DAG_ID_PREFIX = /^[A-Za-z0-9_.-]+$/;
/** `g` and `y` make RegExp#exec stateful (lastIndex), which would make resolution depend on call history. */
const ALLOWED_FLAGS = /^[imsu]*$/;

/**
 * Parses AIRFLOW_AGENCY_RULES: comma-separated entries, each `<dag_id prefix>=<slug>` or a regex literal
 * `/<pattern>/<flags>` (commas inside the regex are fine). Example: `acme_=acme,globex_=globex,/^([a-z]+)__/`.
 * Blank or undefined text means no prefix rules. `tagPrefix` comes from its own setting
 * (AIRFLOW_AGENCY_TAG_PREFIX). Throws a config error naming the first bad entry.
 */
export function parseAgencyRules(
  text: string | undefined,
  tagPrefix: string = DEFAULT_TAG_PREFIX,
): AgencyRules {
  const prefixRules: AgencyRules["prefixRules"] = [];
  for (const entry of splitEntries(text ?? "")) prefixRules.push(parseEntry(entry));
  return { tagPrefix, prefixRules };
}

export function resolveAgencySlug(
  dag: { dag_id: string; tags: readonly string[] },
  rules: AgencyRules,
): { slug: string; rule: AgencyRule } | null {
  const fromTag = slugFromTags(dag.tags, rules.tagPrefix);
  if (fromTag !== null) return { slug: fromTag, rule: "tag" };
  for (const rule of rules.prefixRules) {
    const slug =
      "pattern" in rule ? slugFromPattern(dag.dag_id, rule.pattern) : slugFromPrefix(dag.dag_id, rule);
    if (slug !== null) return { slug, rule: "prefix" };
  }
  return null;
}

/** Trimmed and lower-cased; null when nothing is left. */
export function normalizeSlug(raw: string): string | null {
  const slug = raw.trim().toLowerCase();
  return slug === "" ? null : slug;
}

// ---- resolution ----

/** Tag prefixes compare case-insensitively: `Agency:ACME` is as clear as `agency:acme`. */
function slugFromTags(tags: readonly string[], tagPrefix: string): string | null {
  const prefix = tagPrefix.trim().toLowerCase();
  if (prefix === "") return null;
  let best: string | null = null;
  for (const tag of tags) {
    if (typeof tag !== "string") continue;
    const trimmed = tag.trim();
    if (!trimmed.toLowerCase().startsWith(prefix)) continue;
    const slug = normalizeSlug(trimmed.slice(prefix.length));
    if (slug !== null && (best === null || slug < best)) best = slug;
  }
  return best;
}

function slugFromPrefix(dagId: string, rule: { prefix: string; slug: string }): string | null {
  if (rule.prefix === "" || !dagId.toLowerCase().startsWith(rule.prefix.toLowerCase())) return null;
  return normalizeSlug(rule.slug);
}

function slugFromPattern(dagId: string, pattern: RegExp): string | null {
  const match = statelessCopy(pattern).exec(dagId);
  if (match === null) return null;
  const captured = match.groups?.slug ?? match[1];
  return captured === undefined ? null : normalizeSlug(captured);
}

function statelessCopy(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky
    ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
    : pattern;
}

// ---- parsing ----

/** Splits on commas outside regex literals. A regex literal runs to its closing unescaped `/` outside `[...]`. */
function splitEntries(text: string): string[] {
  if (text.trim() === "") return [];
  const entries: string[] = [];
  let current = "";
  let inRegex = false;
  let inClass = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (inRegex) {
      current += ch;
      if (ch === "\\") {
        current += text[i + 1] ?? "";
        i++;
      } else if (ch === "[") inClass = true;
      else if (ch === "]") inClass = false;
      else if (ch === "/" && !inClass) inRegex = false;
    } else if (ch === ",") {
      entries.push(current);
      current = "";
    } else {
      if (ch === "/" && current.trim() === "") inRegex = true;
      current += ch;
    }
  }
  entries.push(current);
  return entries.map((entry) => entry.trim());
}

function parseEntry(entry: string): AgencyRules["prefixRules"][number] {
  if (entry === "") throw badEntry(entry, "empty entry (a stray comma?)");
  return entry.startsWith("/") ? parseRegexEntry(entry) : parsePrefixEntry(entry);
}

function parsePrefixEntry(entry: string): { prefix: string; slug: string } {
  const eq = entry.indexOf("=");
  if (eq === -1) throw badEntry(entry, "expected <dag_id prefix>=<slug> or /regex/");
  const prefix = entry.slice(0, eq).trim();
  const slug = normalizeSlug(entry.slice(eq + 1));
  if (prefix === "") throw badEntry(entry, "the dag_id prefix is empty");
  if (!DAG_ID_PREFIX.test(prefix))
    throw badEntry(entry, "a dag_id prefix may only contain letters, digits, _ . -");
  if (slug === null) throw badEntry(entry, "the slug is empty");
  if (/[\s=]/.test(slug)) throw badEntry(entry, "the slug may not contain spaces or '='");
  return { prefix, slug };
}

function parseRegexEntry(entry: string): { pattern: RegExp } {
  const close = entry.lastIndexOf("/");
  if (close === 0) throw badEntry(entry, "the regex has no closing '/'");
  const source = entry.slice(1, close);
  const flags = entry.slice(close + 1).trim();
  if (source === "") throw badEntry(entry, "the regex is empty");
  if (!ALLOWED_FLAGS.test(flags)) throw badEntry(entry, "only the regex flags i, m, s, u are allowed");
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, flags);
  } catch (error) {
    throw badEntry(entry, `invalid regex (${error instanceof Error ? error.message : String(error)})`);
  }
  if (countGroups(pattern) === 0) throw badEntry(entry, "the regex needs a group capturing the slug");
  return { pattern };
}

/** An always-matching alternative makes exec report every group of the pattern (all undefined). */
function countGroups(pattern: RegExp): number {
  const match = new RegExp(`${pattern.source}|`, pattern.flags).exec("");
  return match === null ? 0 : match.length - 1;
}

function badEntry(entry: string, reason: string) {
  return configError(`${ENV_NAME}: bad entry ${JSON.stringify(entry)}: ${reason}`);
}
