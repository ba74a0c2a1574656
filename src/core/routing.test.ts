import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AgencyOwner,
  dmCandidates,
  type JobOwnerOverride,
  type OwnershipTables,
  ROUTE_RULES,
  routeGroup,
} from "./routing.js";

const agency = (over: Partial<AgencyOwner> = {}): AgencyOwner => ({
  agency_id: "a1",
  agency_slug: "acme",
  primary_owner_user_id: "alice",
  secondary_owner_user_id: "bob",
  owning_team_id: "team-data",
  ...over,
});
const override = (over: Partial<JobOwnerOverride> = {}): JobOwnerOverride => ({
  id: "o1",
  job_name: "load_orders",
  agency_id: null,
  owner_user_id: "carol",
  owner_team_id: null,
  ...over,
});
const tables = (t: Partial<OwnershipTables> = {}): OwnershipTables => ({
  agencyOwners: [agency()],
  overrides: [],
  slackUserIds: new Map([
    ["alice", "UALICE"],
    ["bob", "UBOB"],
    ["carol", "UCAROL"],
  ]),
  ...t,
});
const group = { agency_id: "a1", job_name: "load_orders" };

describe("routeGroup precedence", () => {
  const cases: {
    name: string;
    group: { agency_id: string | null; job_name: string | null };
    tables: OwnershipTables;
    expected: { rule: string; userId: string | null; teamId: string | null; secondaryUserId: string | null };
  }[] = [
    {
      name: "job override for job and agency beats everything",
      group,
      tables: tables({
        overrides: [
          override({ id: "o1", agency_id: null, owner_user_id: "carol" }),
          override({ id: "o2", agency_id: "a1", owner_user_id: "dave", owner_team_id: "team-x" }),
        ],
      }),
      expected: { rule: "job_override_agency", userId: "dave", teamId: "team-x", secondaryUserId: "bob" },
    },
    {
      name: "job override without agency beats the agency owner",
      group,
      tables: tables({ overrides: [override({ owner_user_id: "carol" })] }),
      expected: { rule: "job_override", userId: "carol", teamId: null, secondaryUserId: "bob" },
    },
    {
      name: "an override for another agency does not apply",
      group,
      tables: tables({ overrides: [override({ agency_id: "a2", owner_user_id: "carol" })] }),
      expected: { rule: "agency_owner", userId: "alice", teamId: "team-data", secondaryUserId: "bob" },
    },
    {
      name: "an override for another job does not apply",
      group,
      tables: tables({ overrides: [override({ job_name: "other_job" })] }),
      expected: { rule: "agency_owner", userId: "alice", teamId: "team-data", secondaryUserId: "bob" },
    },
    {
      name: "an override naming nobody is ignored",
      group,
      tables: tables({ overrides: [override({ owner_user_id: null, owner_team_id: null })] }),
      expected: { rule: "agency_owner", userId: "alice", teamId: "team-data", secondaryUserId: "bob" },
    },
    {
      name: "team-only override",
      group,
      tables: tables({ overrides: [override({ owner_user_id: null, owner_team_id: "team-ops" })] }),
      expected: { rule: "job_override", userId: null, teamId: "team-ops", secondaryUserId: "bob" },
    },
    {
      name: "agency without primary owner falls to its team",
      group,
      tables: tables({ agencyOwners: [agency({ primary_owner_user_id: null })] }),
      expected: { rule: "agency_team", userId: null, teamId: "team-data", secondaryUserId: "bob" },
    },
    {
      name: "agency row naming nobody is unowned",
      group,
      tables: tables({
        agencyOwners: [
          agency({ primary_owner_user_id: null, owning_team_id: null, secondary_owner_user_id: null }),
        ],
      }),
      expected: { rule: "unowned", userId: null, teamId: null, secondaryUserId: null },
    },
    {
      name: "unknown agency is unowned",
      group: { agency_id: "zz", job_name: "load_orders" },
      tables: tables(),
      expected: { rule: "unowned", userId: null, teamId: null, secondaryUserId: null },
    },
    {
      name: "no agency: only agency-less overrides apply",
      group: { agency_id: null, job_name: "load_orders" },
      tables: tables({
        overrides: [override({ id: "o1", agency_id: "a1", owner_user_id: "dave" }), override({ id: "o2" })],
      }),
      expected: { rule: "job_override", userId: "carol", teamId: null, secondaryUserId: null },
    },
    {
      name: "no agency and no override is unowned",
      group: { agency_id: null, job_name: "load_orders" },
      tables: tables(),
      expected: { rule: "unowned", userId: null, teamId: null, secondaryUserId: null },
    },
    {
      name: "no job name skips overrides",
      group: { agency_id: "a1", job_name: null },
      tables: tables({ overrides: [override()] }),
      expected: { rule: "agency_owner", userId: "alice", teamId: "team-data", secondaryUserId: "bob" },
    },
    {
      name: "the secondary is dropped when it is the assigned owner",
      group,
      tables: tables({ overrides: [override({ owner_user_id: "bob" })] }),
      expected: { rule: "job_override", userId: "bob", teamId: null, secondaryUserId: null },
    },
    {
      name: "two overrides for the same job and agency: lowest id wins",
      group,
      tables: tables({
        overrides: [
          override({ id: "o9", agency_id: "a1", owner_user_id: "zed" }),
          override({ id: "o3", agency_id: "a1", owner_user_id: "dave" }),
        ],
      }),
      expected: { rule: "job_override_agency", userId: "dave", teamId: null, secondaryUserId: "bob" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const route = routeGroup(c.group, c.tables);
      expect({
        rule: route.rule,
        userId: route.userId,
        teamId: route.teamId,
        secondaryUserId: route.secondaryUserId,
      }).toEqual(c.expected);
    });
  }

  it("an owner named by the source comes after job overrides and before the agency owner", () => {
    const hinted = { ...group, owner_hint: "dave" };
    expect(routeGroup(hinted, tables())).toMatchObject({
      rule: "source_owner",
      userId: "dave",
      secondaryUserId: "bob",
    });
    expect(routeGroup(hinted, tables({ overrides: [override()] }))).toMatchObject({
      rule: "job_override",
      userId: "carol",
    });
    expect(routeGroup({ ...group, owner_hint: null }, tables())).toMatchObject({ rule: "agency_owner" });
  });

  it("records the matching override", () => {
    const route = routeGroup(group, tables({ overrides: [override({ id: "o7" })] }));
    expect(route.overrideId).toBe("o7");
    expect(routeGroup(group, tables()).overrideId).toBeNull();
  });

  it("keeps the owning team for escalation whichever rule wins", () => {
    expect(routeGroup(group, tables({ overrides: [override()] })).owningTeamId).toBe("team-data");
  });

  it("is independent of table order (property)", () => {
    const arbOverride = fc.record({
      id: fc.constantFrom("o1", "o2", "o3", "o4"),
      job_name: fc.constantFrom("load_orders", "other"),
      agency_id: fc.constantFrom(null, "a1", "a2"),
      owner_user_id: fc.constantFrom(null, "carol", "dave"),
      owner_team_id: fc.constantFrom(null, "t1"),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbOverride, { selector: (o) => o.id }), (overrides) => {
        const a = routeGroup(group, tables({ overrides }));
        const b = routeGroup(group, tables({ overrides: [...overrides].reverse() }));
        expect(b).toEqual(a);
        expect(ROUTE_RULES).toContain(a.rule);
        expect(a.secondaryUserId === null || a.secondaryUserId !== a.userId).toBe(true);
      }),
    );
  });
});

describe("dmCandidates", () => {
  it("primary then secondary, with their Slack ids", () => {
    const route = routeGroup(group, tables());
    expect(dmCandidates(route, tables().slackUserIds)).toEqual([
      { role: "primary", userId: "alice", slackUserId: "UALICE" },
      { role: "secondary", userId: "bob", slackUserId: "UBOB" },
    ]);
  });

  it("an unmapped owner stays in the list without a Slack id (the caller records why it was skipped)", () => {
    const route = routeGroup(group, tables());
    expect(dmCandidates(route, new Map([["bob", "UBOB"]]))).toEqual([
      { role: "primary", userId: "alice", slackUserId: null },
      { role: "secondary", userId: "bob", slackUserId: "UBOB" },
    ]);
  });

  it("team-only route: only the secondary", () => {
    const route = routeGroup(group, tables({ agencyOwners: [agency({ primary_owner_user_id: null })] }));
    expect(dmCandidates(route, tables().slackUserIds)).toEqual([
      { role: "secondary", userId: "bob", slackUserId: "UBOB" },
    ]);
  });

  it("unowned: nobody", () => {
    expect(dmCandidates(routeGroup({ agency_id: null, job_name: null }, tables()), new Map())).toEqual([]);
  });
});
