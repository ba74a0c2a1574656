import type { AgencyOwner, JobOwnerOverride, OwnershipTables } from "../core/routing.js";
import type { Queryable } from "./db.js";

/** The three ownership tables, whole: they hold one row per agency, override and person. */
export async function loadOwnershipTables(db: Queryable): Promise<OwnershipTables> {
  const agencyOwners = await db.query<AgencyOwner>(
    `SELECT agency_id, agency_slug, primary_owner_user_id, secondary_owner_user_id, owning_team_id
     FROM reporting.notification_agency_owner`,
  );
  const overrides = await db.query<JobOwnerOverride>(
    `SELECT id::text AS id, job_name, agency_id, owner_user_id, owner_team_id
     FROM reporting.notification_job_owner_override`,
  );
  const map = await db.query<{ user_id: string; slack_user_id: string }>(
    "SELECT user_id, slack_user_id FROM reporting.notification_user_slack_map",
  );
  return {
    agencyOwners,
    overrides,
    slackUserIds: new Map(map.map((r) => [r.user_id, r.slack_user_id])),
  };
}

/** The internal user id mapped to a Slack user id (interactions act as that person), or null. */
export async function findUserBySlackId(db: Queryable, slackUserId: string): Promise<string | null> {
  const rows = await db.query<{ user_id: string }>(
    `SELECT user_id FROM reporting.notification_user_slack_map WHERE slack_user_id = $1 ORDER BY user_id LIMIT 1`,
    [slackUserId],
  );
  return rows[0]?.user_id ?? null;
}

/** Agency ids of these slugs (case-insensitive), from notification_agency_owner; unknown slugs are absent. */
export async function findAgencyIdsBySlug(
  db: Queryable,
  slugs: readonly string[],
): Promise<Map<string, string>> {
  if (slugs.length === 0) return new Map();
  const rows = await db.query<{ slug: string; agency_id: string }>(
    `SELECT DISTINCT ON (lower(agency_slug)) lower(agency_slug) AS slug, agency_id
     FROM reporting.notification_agency_owner
     WHERE lower(agency_slug) = ANY($1::text[])
     ORDER BY lower(agency_slug), agency_id`,
    [slugs.map((s) => s.toLowerCase())],
  );
  return new Map(rows.map((r) => [r.slug, r.agency_id]));
}
