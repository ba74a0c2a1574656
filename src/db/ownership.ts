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

/**
 * Adds agency owners and Slack user ids (the demo seeds a fresh database with them); an existing row with
 * the same key is replaced. Each table gets one statement with the rows as one JSON parameter.
 */
export async function upsertOwnership(
  db: Queryable,
  rows: {
    agencyOwners: readonly AgencyOwner[];
    slackUsers: readonly { user_id: string; slack_user_id: string }[];
  },
): Promise<void> {
  await db.query(
    `INSERT INTO reporting.notification_agency_owner
       (agency_id, agency_slug, primary_owner_user_id, secondary_owner_user_id, owning_team_id)
     SELECT agency_id, agency_slug, primary_owner_user_id, secondary_owner_user_id, owning_team_id
     FROM jsonb_to_recordset($1::jsonb) AS r(agency_id text, agency_slug text, primary_owner_user_id text,
                                             secondary_owner_user_id text, owning_team_id text)
     ON CONFLICT (agency_id) DO UPDATE SET agency_slug = EXCLUDED.agency_slug,
       primary_owner_user_id = EXCLUDED.primary_owner_user_id,
       secondary_owner_user_id = EXCLUDED.secondary_owner_user_id, owning_team_id = EXCLUDED.owning_team_id`,
    [JSON.stringify(rows.agencyOwners)],
  );
  await db.query(
    `INSERT INTO reporting.notification_user_slack_map (user_id, slack_user_id)
     SELECT user_id, slack_user_id FROM jsonb_to_recordset($1::jsonb) AS r(user_id text, slack_user_id text)
     ON CONFLICT (user_id) DO UPDATE SET slack_user_id = EXCLUDED.slack_user_id`,
    [JSON.stringify(rows.slackUsers)],
  );
}
