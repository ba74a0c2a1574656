import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ObservabilityError } from "../../errors.js";
import { type AgencyRules, DEFAULT_AGENCY_RULES, parseAgencyRules, resolveAgencySlug } from "./agency.js";

function dag(dagId: string, tags: string[] = []) {
  return { dag_id: dagId, tags };
}

describe("parseAgencyRules", () => {
  it("gives the defaults for undefined or blank text", () => {
    for (const text of [undefined, "", "   "]) {
      expect(parseAgencyRules(text)).toEqual({ tagPrefix: "agency:", prefixRules: [] });
    }
    expect(DEFAULT_AGENCY_RULES).toEqual({ tagPrefix: "agency:", prefixRules: [] });
  });

  it("parses prefix rules and regexes in order, with spaces around entries", () => {
    const rules = parseAgencyRules(" acme_=acme , globex_ = Globex ,/^([a-z]+)__/");
    expect(rules.tagPrefix).toBe("agency:");
    expect(rules.prefixRules).toEqual([
      { prefix: "acme_", slug: "acme" },
      { prefix: "globex_", slug: "globex" },
      { pattern: /^([a-z]+)__/ },
    ]);
  });

  it("keeps commas and slashes inside a regex literal, and its flags", () => {
    const rules = parseAgencyRules("/^([a-z]{2,5})[_,]/i,/^x\\/(?<slug>[a-z]+)/,/^[/,]([a-z]+)/");
    expect(rules.prefixRules).toEqual([
      { pattern: /^([a-z]{2,5})[_,]/i },
      { pattern: /^x\/(?<slug>[a-z]+)/ },
      { pattern: /^[/,]([a-z]+)/ },
    ]);
  });

  it("takes the tag prefix as a second argument (AIRFLOW_AGENCY_TAG_PREFIX)", () => {
    expect(parseAgencyRules("acme_=acme", "team:").tagPrefix).toBe("team:");
  });

  it.each([
    ["acme_", "acme_", "expected <dag_id prefix>=<slug>"],
    ["acme_=", "acme_=", "the slug is empty"],
    ["=acme", "=acme", "the dag_id prefix is empty"],
    ["acme_=acme,,globex_=globex", "", "empty entry"],
    ["acme_=acme,", "", "empty entry"],
    ["acme corp=acme", "acme corp=acme", "letters, digits"],
    ["acme_=ac me", "acme_=ac me", "spaces"],
    ["/^[a-z]+__/", "/^[a-z]+__/", "needs a group"],
    ["/^(?:[a-z]+)__/", "/^(?:[a-z]+)__/", "needs a group"],
    ["/^([a-z]+__", "/^([a-z]+__", "no closing"],
    ["/^([a-z]+__/", "/^([a-z]+__/", "invalid regex"],
    ["/^([a-z]+)__/g", "/^([a-z]+)__/g", "flags"],
    ["//", "//", "the regex is empty"],
    ["/^(a)/=acme", "/^(a)/=acme", "flags"],
  ])("rejects %j naming the entry", (text, entry, reason) => {
    let thrown: unknown;
    try {
      parseAgencyRules(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ObservabilityError);
    const message = (thrown as Error).message;
    expect(message).toContain("AIRFLOW_AGENCY_RULES");
    expect(message).toContain(`bad entry ${JSON.stringify(entry)}`);
    expect(message).toContain(reason);
    expect(message).not.toContain("\n");
  });
});

describe("resolveAgencySlug", () => {
  const rules = parseAgencyRules("acme_=acme,globex_=globex,/^([a-z]+)__/");

  it("prefers an agency tag over every dag_id rule", () => {
    expect(resolveAgencySlug(dag("acme_orders", ["agency:initech"]), rules)).toEqual({
      slug: "initech",
      rule: "tag",
    });
  });

  it("uses the prefix rules in order when no tag names an agency", () => {
    expect(resolveAgencySlug(dag("acme_orders", ["finance"]), rules)).toEqual({
      slug: "acme",
      rule: "prefix",
    });
    expect(resolveAgencySlug(dag("globex_billing"), rules)).toEqual({ slug: "globex", rule: "prefix" });
    expect(resolveAgencySlug(dag("umbrella__inventory"), rules)).toEqual({
      slug: "umbrella",
      rule: "prefix",
    });
  });

  it("lets an earlier rule win over a later one that also matches", () => {
    const ordered = parseAgencyRules("/^([a-z]+)_/,acme_=acme-corp");
    expect(resolveAgencySlug(dag("acme_orders"), ordered)).toEqual({ slug: "acme", rule: "prefix" });
    const reversed = parseAgencyRules("acme_=acme-corp,/^([a-z]+)_/");
    expect(resolveAgencySlug(dag("acme_orders"), reversed)).toEqual({ slug: "acme-corp", rule: "prefix" });
  });

  it("returns null when nothing matches", () => {
    expect(resolveAgencySlug(dag("orders_daily", ["finance", "agency"]), rules)).toBeNull();
    expect(
      resolveAgencySlug(dag("acme_orders", ["agency:acme"]), { tagPrefix: "", prefixRules: [] }),
    ).toBeNull();
  });

  it("with several agency tags, takes the smallest slug whatever the tag order", () => {
    const tags = ["agency:globex", "nightly", "agency:Acme", "agency:initech"];
    expect(resolveAgencySlug(dag("x", tags), rules)).toEqual({ slug: "acme", rule: "tag" });
    expect(resolveAgencySlug(dag("x", [...tags].reverse()), rules)).toEqual({ slug: "acme", rule: "tag" });
  });

  it("normalises slugs (trimmed, lower-case) and matches prefixes case-insensitively", () => {
    expect(resolveAgencySlug(dag("x", ["  Agency: ACME "]), rules)).toEqual({ slug: "acme", rule: "tag" });
    expect(resolveAgencySlug(dag("ACME_Orders"), rules)).toEqual({ slug: "acme", rule: "prefix" });
    expect(resolveAgencySlug(dag("Umbrella__x"), parseAgencyRules("/^([a-z]+)__/i"))).toEqual({
      slug: "umbrella",
      rule: "prefix",
    });
  });

  it("ignores an agency tag with an empty slug", () => {
    expect(resolveAgencySlug(dag("acme_orders", ["agency:", "agency:   "]), rules)).toEqual({
      slug: "acme",
      rule: "prefix",
    });
  });

  it("uses a custom tag prefix", () => {
    const team = parseAgencyRules(undefined, "team:");
    expect(resolveAgencySlug(dag("x", ["agency:acme", "team:globex"]), team)).toEqual({
      slug: "globex",
      rule: "tag",
    });
  });

  it("prefers the group named slug, else the first group; an unmatched optional group falls through", () => {
    const named = parseAgencyRules("/^(?<env>dev|prod)_(?<slug>[a-z]+)_/");
    expect(resolveAgencySlug(dag("prod_acme_orders"), named)).toEqual({ slug: "acme", rule: "prefix" });
    const optional = parseAgencyRules("/^x(?:_([a-z]+))?$/,x=fallback");
    expect(resolveAgencySlug(dag("x"), optional)).toEqual({ slug: "fallback", rule: "prefix" });
    expect(resolveAgencySlug(dag("x_acme"), optional)).toEqual({ slug: "acme", rule: "prefix" });
  });

  it("is not affected by a global or sticky regex passed in directly", () => {
    const sticky: AgencyRules = { tagPrefix: "agency:", prefixRules: [{ pattern: /([a-z]+)__/gy }] };
    for (let i = 0; i < 3; i++) {
      expect(resolveAgencySlug(dag("acme__orders"), sticky)).toEqual({ slug: "acme", rule: "prefix" });
    }
  });
});

describe("properties", () => {
  const rules = parseAgencyRules("acme_=acme,globex_=globex,/^([a-z]+)__/,/(?<slug>[A-Z]+)$/i");
  const tag = fc.oneof(
    fc.string(),
    fc.string().map((s) => `agency:${s}`),
    fc.constantFrom("agency:acme", "Agency:Globex", "agency:", "agency: x "),
  );
  const dagId = fc.oneof(fc.string(), fc.constantFrom("acme_orders", "globex_x", "umbrella__y", "", "__"));

  it("never throws and always returns a normalised slug or null", () => {
    fc.assert(
      fc.property(dagId, fc.array(tag, { maxLength: 8 }), (id, tags) => {
        const result = resolveAgencySlug(dag(id, tags), rules);
        if (result !== null) {
          expect(result.slug).toBe(result.slug.trim().toLowerCase());
          expect(result.slug).not.toBe("");
          expect(["tag", "prefix"]).toContain(result.rule);
        }
      }),
    );
  });

  it("is deterministic and independent of the tag order", () => {
    fc.assert(
      fc.property(dagId, fc.array(tag, { maxLength: 8 }), fc.integer(), (id, tags, seed) => {
        const shuffled = [...tags].sort(
          (a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7),
        );
        const first = resolveAgencySlug(dag(id, tags), rules);
        expect(resolveAgencySlug(dag(id, tags), rules)).toEqual(first);
        expect(resolveAgencySlug(dag(id, shuffled), rules)).toEqual(first);
      }),
    );
  });

  it("parseAgencyRules either parses or throws a one-line config error, never anything else", () => {
    const text = fc.oneof(
      fc.string(),
      fc
        .array(fc.constantFrom("acme_=acme", "/^(a)/", "/", ",", "=", "x", "/[", "\\", "(", "]"), {
          maxLength: 8,
        })
        .map((p) => p.join("")),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          const parsed = parseAgencyRules(t);
          expect(Array.isArray(parsed.prefixRules)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ObservabilityError);
          expect((error as Error).message).not.toContain("\n");
        }
      }),
    );
  });
});
