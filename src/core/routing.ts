/**
 * Owner routing: who owns a group, and whom to DM when it opens. Pure: the ownership tables come in as
 * data (they are small and loaded once per run).
 *
 * Precedence, first match wins:
 *  1. a per-job override for the group's job and agency          (rule `job_override_agency`)
 *  2. a per-job override for the job with no agency              (rule `job_override`)
 *  3. the owner the source named (dbt `meta.owner`, ...)          (rule `source_owner`)
 *  4. the agency's primary owner                                 (rule `agency_owner`)
 *  5. the agency's owning team, when it has no primary owner     (rule `agency_team`)
 *  6. nobody                                                     (rule `unowned`)
 * The agency's secondary owner and owning team are kept for escalation and DM fallback whichever rule won.
 */

export interface AgencyOwner {
  agency_id: string;
  agency_slug: string | null;
  primary_owner_user_id: string | null;
  secondary_owner_user_id: string | null;
  owning_team_id: string | null;
}

export interface JobOwnerOverride {
  id: string;
  job_name: string;
  agency_id: string | null;
  owner_user_id: string | null;
  owner_team_id: string | null;
}

export interface OwnershipTables {
  agencyOwners: readonly AgencyOwner[];
  overrides: readonly JobOwnerOverride[];
  /** user_id -> slack_user_id */
  slackUserIds: ReadonlyMap<string, string>;
}

export const ROUTE_RULES = [
  "job_override_agency",
  "job_override",
  "source_owner",
  "agency_owner",
  "agency_team",
  "unowned",
] as const;
export type RouteRule = (typeof ROUTE_RULES)[number];

export interface Route {
  rule: RouteRule;
  /** The assigned owner (assigned_to_user_id), or null for a team-only or unowned route. */
  userId: string | null;
  /** The assigned team (assigned_team_id). */
  teamId: string | null;
  /** The agency's secondary owner, for escalation and DM fallback (never the same person as userId). */
  secondaryUserId: string | null;
  /** The agency's owning team, for escalation. */
  owningTeamId: string | null;
  /** The override row that matched, for the record. */
  overrideId: string | null;
}

export interface RoutableGroup {
  agency_id: string | null;
  job_name: string | null;
  /** An owner the source itself named for this problem (e.g. dbt `meta.owner`), as an internal user id. */
  owner_hint?: string | null;
}

/** An override is usable only if it names someone: a row with neither user nor team is ignored. */
function names(o: JobOwnerOverride): boolean {
  return o.owner_user_id !== null || o.owner_team_id !== null;
}

/** Several overrides for the same job and agency: the lowest id wins, so the choice is stable. */
function firstById(rows: readonly JobOwnerOverride[]): JobOwnerOverride | undefined {
  let best: JobOwnerOverride | undefined;
  for (const r of rows) if (best === undefined || r.id < best.id) best = r;
  return best;
}

export function routeGroup(group: RoutableGroup, tables: OwnershipTables): Route {
  const agency =
    group.agency_id === null ? undefined : tables.agencyOwners.find((a) => a.agency_id === group.agency_id);
  const escalation = {
    secondaryUserId: agency?.secondary_owner_user_id ?? null,
    owningTeamId: agency?.owning_team_id ?? null,
  };
  const build = (
    rule: RouteRule,
    userId: string | null,
    teamId: string | null,
    overrideId: string | null,
  ): Route => ({
    rule,
    userId,
    teamId,
    ...escalation,
    secondaryUserId: escalation.secondaryUserId === userId ? null : escalation.secondaryUserId,
    overrideId,
  });

  if (group.job_name !== null) {
    const forJob = tables.overrides.filter((o) => o.job_name === group.job_name && names(o));
    const withAgency =
      group.agency_id === null ? undefined : firstById(forJob.filter((o) => o.agency_id === group.agency_id));
    if (withAgency)
      return build("job_override_agency", withAgency.owner_user_id, withAgency.owner_team_id, withAgency.id);
    const anyAgency = firstById(forJob.filter((o) => o.agency_id === null));
    if (anyAgency)
      return build("job_override", anyAgency.owner_user_id, anyAgency.owner_team_id, anyAgency.id);
  }
  if (group.owner_hint) return build("source_owner", group.owner_hint, agency?.owning_team_id ?? null, null);
  if (agency?.primary_owner_user_id) {
    return build("agency_owner", agency.primary_owner_user_id, agency.owning_team_id, null);
  }
  if (agency?.owning_team_id) return build("agency_team", null, agency.owning_team_id, null);
  return build("unowned", null, null, null);
}

export type DmRole = "primary" | "secondary";

/** One person to try, in order; `slackUserId` null means the user map has no entry for them. */
export interface DmCandidate {
  role: DmRole;
  userId: string;
  slackUserId: string | null;
}

/**
 * Whom to DM when a group opens, in order: the assigned owner, then the secondary owner. The caller tries
 * each until one DM is delivered, and when none is, leaves a mention-free note in the root's thread.
 * An unowned or team-only route has no DM candidates.
 */
export function dmCandidates(route: Route, slackUserIds: ReadonlyMap<string, string>): DmCandidate[] {
  const out: DmCandidate[] = [];
  const add = (role: DmRole, userId: string | null) => {
    if (userId === null || out.some((c) => c.userId === userId)) return;
    out.push({ role, userId, slackUserId: slackUserIds.get(userId) ?? null });
  };
  add("primary", route.userId);
  add("secondary", route.secondaryUserId);
  return out;
}
