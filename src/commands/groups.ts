import type { UserAction } from "../core/lifecycle.js";
import { parseDuration, parseIsoTime } from "../core/time.js";
import { GROUP_STATUSES, type GroupRow, type GroupStatus } from "../core/types.js";
import { listActivity } from "../db/activity.js";
import { applyUserAction } from "../db/group-actions.js";
import { findGroup, listGroups } from "../db/groups.js";
import { ObservabilityError, usageError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { type CommandIo, formatTable, writeJsonLine } from "./io.js";

export interface GroupsListOptions {
  status?: string;
  limit?: string;
  json: boolean;
}

export function parseStatuses(text: string | undefined): GroupStatus[] | undefined {
  if (text === undefined) return undefined;
  const statuses = text.split(",").map((s) => s.trim());
  for (const s of statuses) {
    if (!(GROUP_STATUSES as readonly string[]).includes(s)) {
      throw usageError(
        `--status must be one or more of ${GROUP_STATUSES.join(", ")} (comma-separated), got ${JSON.stringify(s)}`,
      );
    }
  }
  return statuses as GroupStatus[];
}

export function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw usageError(`--limit must be a positive whole number, got ${JSON.stringify(text)}`);
  return n;
}

export async function groupsList(
  runtime: Runtime,
  io: CommandIo,
  options: GroupsListOptions,
): Promise<number> {
  const statuses = parseStatuses(options.status);
  const groups = await listGroups(runtime.db, {
    ...(statuses ? { statuses } : {}),
    limit: parseLimit(options.limit, 1000),
  });
  if (options.json) {
    writeJsonLine(io, groups);
    return 0;
  }
  if (groups.length === 0) {
    io.stdout.write("no signal groups\n");
    return 0;
  }
  io.stdout.write(
    formatTable(
      ["ID", "STATUS", "SEVERITY", "AGENCY", "JOB", "TYPE", "TOTAL", "24H", "LAST SEEN"],
      groups.map((g) => [
        g.id,
        g.status,
        g.current_severity,
        g.agency_slug ?? g.agency_id ?? "-",
        g.job_name ?? "-",
        g.signal_type ?? "-",
        String(g.count_total),
        String(g.count_24h),
        g.last_seen_at,
      ]),
    ),
  );
  return 0;
}

export async function groupsShow(
  runtime: Runtime,
  io: CommandIo,
  id: string,
  json: boolean,
): Promise<number> {
  const group = await findGroup(runtime.db, assertUuid(id));
  if (group === null) throw new ObservabilityError("not_found", `no signal group with id ${id}`);
  const activity = await listActivity(runtime.db, group.id);
  if (json) {
    writeJsonLine(io, { ...group, activity });
    return 0;
  }
  const lines = Object.entries(group).map(([k, v]) => `${k}: ${v === null ? "-" : String(v)}`);
  io.stdout.write(`${lines.join("\n")}\n\nactivity:\n`);
  io.stdout.write(
    activity.length === 0
      ? "  (none)\n"
      : formatTable(
          ["AT", "ACTOR", "ACTION", "DETAILS"],
          activity.map((a) => [
            a.created_at,
            a.actor_type === "user" ? `user:${a.actor_user_id ?? "?"}` : "system",
            a.action,
            a.metadata_json === null ? "" : JSON.stringify(a.metadata_json),
          ]),
        ),
  );
  return 0;
}

export type GroupActionVerb = "ack" | "snooze" | "close" | "reopen";

export interface GroupActionOptions {
  user?: string;
  until?: string;
  for?: string;
  reason?: string;
  json: boolean;
}

export function buildUserAction(verb: GroupActionVerb, options: GroupActionOptions, now: Date): UserAction {
  switch (verb) {
    case "ack":
      return { kind: "acknowledge" };
    case "close":
      return options.reason === undefined ? { kind: "close" } : { kind: "close", reason: options.reason };
    case "reopen":
      return { kind: "reopen" };
    case "snooze": {
      if ((options.until === undefined) === (options.for === undefined)) {
        throw usageError("snooze needs exactly one of --until <ISO time> or --for <duration such as 4h>");
      }
      if (options.until !== undefined) {
        const until = parseIsoTime(options.until);
        if (!until) {
          throw usageError(
            `--until must be an ISO 8601 time with a zone (2024-05-01T12:00:00Z), got ${JSON.stringify(options.until)}`,
          );
        }
        return { kind: "snooze", until };
      }
      const ms = parseDuration(options.for ?? "");
      if (ms === undefined)
        throw usageError(
          `--for must be a duration such as 30m, 4h or 1d, got ${JSON.stringify(options.for)}`,
        );
      return { kind: "snooze", until: new Date(now.getTime() + ms) };
    }
  }
}

export async function groupsAction(
  runtime: Runtime,
  io: CommandIo,
  verb: GroupActionVerb,
  id: string,
  options: GroupActionOptions,
): Promise<number> {
  const user = options.user?.trim();
  if (!user) throw usageError(`groups ${verb} needs --user <user_id> (who is acting)`);
  const action = buildUserAction(verb, options, runtime.now);
  const group = await applyUserAction(runtime.db, assertUuid(id), action, { now: runtime.now, userId: user });
  if (options.json) writeJsonLine(io, group);
  else io.stdout.write(`${describeGroup(group)}\n`);
  return 0;
}

function describeGroup(g: GroupRow): string {
  switch (g.status) {
    case "open":
      return `group ${g.id} is open`;
    case "acknowledged":
      return `group ${g.id} acknowledged by ${g.acknowledged_by_user_id ?? "?"} at ${g.acknowledged_at ?? "?"}`;
    case "snoozed":
      return `group ${g.id} snoozed until ${g.snoozed_until ?? "?"}`;
    case "closed":
      return `group ${g.id} closed at ${g.closed_at ?? "?"}`;
  }
}

function assertUuid(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw usageError(
      `${JSON.stringify(id)} is not a group id (a UUID such as those in \`observability groups list\`)`,
    );
  }
  return id.toLowerCase();
}
