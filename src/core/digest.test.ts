import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DIGEST_CAPS,
  type DigestGroup,
  type DigestInput,
  formatDuration,
  type RenderedDigest,
  renderDigest,
} from "./digest.js";
import { SLACK_LIMITS, type SlackBlock, type SlackMessage } from "./render/index.js";
import { collectMrkdwn, collectStrings, type TextObject } from "./render/inspect.test-support.js";
import { GROUP_STATUSES, SEVERITIES } from "./types.js";

// ---------------------------------------------------------------------------------------------------------
// Fixtures

const NOW = "2024-05-02T07:00:00.000Z";
const NOW_MS = Date.parse(NOW);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = "https://ops.example.com";

function ago(ms: number): string {
  return new Date(NOW_MS - ms).toISOString();
}

function makeGroup(id: string, overrides: Partial<DigestGroup> = {}): DigestGroup {
  return {
    id,
    status: "open",
    current_severity: "error",
    agency_id: "agency-1",
    agency_slug: "acme",
    job_name: `job_${id}`,
    signal_type: "airflow_task_failed",
    error_class: "UniqueViolation",
    first_seen_at: ago(3 * DAY),
    last_seen_at: ago(HOUR),
    count_total: 10,
    count_24h: 0,
    assigned_to_user_id: "alice",
    assigned_team_id: null,
    acknowledged_at: null,
    acknowledged_by_user_id: null,
    snoozed_until: null,
    closed_at: null,
    open_since: ago(3 * DAY),
    ui_url: `${BASE}/signal-groups/${id}`,
    opened_24h: false,
    reopened_24h: false,
    closed_24h: false,
    auto_closed_24h: false,
    last_user_activity_at: null,
    ...overrides,
  };
}

function makeInput(groups: readonly DigestGroup[], overrides: Partial<DigestInput> = {}): DigestInput {
  return {
    localDate: "2024-05-02",
    timeZone: "Europe/Berlin",
    now: NOW,
    groups,
    slackUserIds: new Map([
      ["alice", "U0ALICE"],
      ["bob", "U0BOB"],
    ]),
    appBaseUrl: BASE,
    ...overrides,
  };
}

/** A dozen groups, at least one in every section. */
function makeTypicalGroups(): DigestGroup[] {
  return [
    makeGroup("g01", {
      current_severity: "critical",
      job_name: "orders_daily.load_orders",
      first_seen_at: ago(5 * HOUR),
      open_since: ago(5 * HOUR),
      opened_24h: true,
      count_24h: 120,
      count_total: 120,
    }),
    makeGroup("g02", {
      job_name: "billing.export",
      error_class: "TimeoutError",
      opened_24h: true,
      first_seen_at: ago(2 * HOUR),
      open_since: ago(2 * HOUR),
      assigned_to_user_id: null,
      assigned_team_id: null,
      agency_id: "agency-2",
      agency_slug: "globex",
      count_24h: 3,
    }),
    makeGroup("g03", {
      current_severity: "warning",
      job_name: "crm.sync",
      reopened_24h: true,
      first_seen_at: ago(10 * DAY),
      open_since: ago(45 * 60_000),
      assigned_to_user_id: "carol",
      assigned_team_id: "data-platform",
      count_24h: 7,
    }),
    makeGroup("g04", {
      job_name: "warehouse.vacuum",
      first_seen_at: ago(3 * DAY + 4 * HOUR),
      assigned_to_user_id: null,
      assigned_team_id: "dba",
      count_24h: 48,
    }),
    makeGroup("g05", {
      status: "acknowledged",
      job_name: "reports.weekly",
      acknowledged_at: ago(3 * DAY),
      acknowledged_by_user_id: "bob",
      last_user_activity_at: ago(2 * DAY),
      count_24h: 2,
    }),
    makeGroup("g06", {
      status: "acknowledged",
      job_name: "reports.monthly",
      acknowledged_at: ago(2 * HOUR),
      acknowledged_by_user_id: "bob",
      last_user_activity_at: ago(2 * HOUR),
    }),
    makeGroup("g07", {
      status: "snoozed",
      current_severity: "info",
      job_name: "dq.row_count",
      signal_type: "dq_check_failed",
      snoozed_until: ago(-6 * HOUR),
      agency_id: null,
      agency_slug: null,
      assigned_to_user_id: null,
    }),
    makeGroup("g08", {
      status: "closed",
      job_name: "orders_daily.transform",
      closed_at: ago(3 * HOUR),
      closed_24h: true,
      auto_closed_24h: true,
      count_24h: 5,
    }),
    makeGroup("g09", {
      status: "closed",
      job_name: null,
      signal_type: "import_error",
      error_class: null,
      closed_at: ago(20 * HOUR),
      closed_24h: true,
      ui_url: null,
    }),
    makeGroup("g10", {
      job_name: "legacy.ftp_pull",
      first_seen_at: ago(30 * DAY),
      count_24h: 0,
      assigned_to_user_id: "dave",
    }),
    makeGroup("g11", {
      status: "closed",
      job_name: "ancient.closed",
      closed_at: ago(5 * DAY),
    }),
    makeGroup("g12", {
      job_name: "finance.ledger",
      current_severity: "critical",
      first_seen_at: ago(DAY + 30 * 60_000),
      count_24h: 900,
      agency_id: "agency-2",
      agency_slug: "globex",
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Inspection helpers

/** The markup the digest itself emits: the footer's date token, mentions of valid ids, validated links. */
const OWN_MARKUP = [
  /<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[0-9+-]+-\d{2}-\d{2} \d{2}:\d{2} UTC>/g,
  /<@[UW][A-Z0-9]{1,30}>/g,
  /<https?:\/\/[^\s<>|]+\|[^<>]*>/g,
];

function stripOwnMarkup(text: string): string {
  return OWN_MARKUP.reduce((rest, pattern) => rest.replace(pattern, ""), text);
}

function expectSafeMessage(message: SlackMessage): void {
  expect(message.text.length).toBeLessThanOrEqual(3000);
  expect(message.text).not.toContain("\n");
  expect(message.text).not.toMatch(/[<>]/);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of message.blocks) expectBlockWithinLimits(block);
  for (const text of collectMrkdwn(message)) {
    // Any < or > left after our own markup came from input that escaped escaping.
    expect(stripOwnMarkup(text)).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
  }
  for (const text of collectStrings(message)) {
    expect(text.isWellFormed()).toBe(true);
    expect(text).not.toMatch(/<!(channel|here|everyone|subteam)/);
  }
}

function expectBlockWithinLimits(block: SlackBlock): void {
  switch (block.type) {
    case "header": {
      const text = (block.text as TextObject).text;
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      expect(text.length).toBeGreaterThan(0);
      break;
    }
    case "section":
      expect((block.text as TextObject).text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      break;
    case "context":
      for (const element of block.elements as TextObject[])
        expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      break;
    default:
      throw new Error(`unexpected block type ${block.type}`);
  }
}

function sectionTexts(digest: RenderedDigest): string[] {
  return digest.message.blocks
    .filter((block) => block.type === "section")
    .map((block) => (block.text as TextObject).text);
}

/** The section whose title contains `title`, or undefined when the digest has none. */
function findSection(digest: RenderedDigest, title: string): string | undefined {
  return sectionTexts(digest).find((text) => text.split("\n")[0]?.includes(title));
}

/** Lines of a section after its title. */
function sectionLines(digest: RenderedDigest, title: string): string[] {
  return findSection(digest, title)?.split("\n").slice(1) ?? [];
}

/** Group ids linked in a list of lines, in order (fixtures link to `${BASE}/signal-groups/<id>`). */
function linkedIds(lines: readonly string[]): string[] {
  return lines.flatMap((line) =>
    [...line.matchAll(/<https:\/\/ops\.example\.com\/signal-groups\/([^|?]+)\|/g)].map((m) => m[1] ?? ""),
  );
}

const TITLES = {
  new: "New in the last 24 h",
  reopened: "Reopened in the last 24 h",
  stillOpen: "Still open",
  ackUntouched: "Acknowledged, untouched",
  unowned: "Unowned",
  noisiest: "Noisiest",
  closed: "Closed in the last 24 h",
  agencies: "By agency",
  stale: "Stale sources",
} as const;

// ---------------------------------------------------------------------------------------------------------
// Whole digests

describe("renderDigest: snapshots", () => {
  it("renders a typical day", () => {
    const digest = renderDigest(makeInput(makeTypicalGroups()));
    expectSafeMessage(digest.message);
    expect(digest.allClear).toBe(false);
    expect(digest).toMatchSnapshot();
  });

  it("renders an all-clear day, still with the date", () => {
    const digest = renderDigest(makeInput([]));
    expectSafeMessage(digest.message);
    expect(digest.allClear).toBe(true);
    expect(digest.listedGroupIds).toEqual([]);
    expect(digest.message.text).toBe("Daily digest 2024-05-02: all clear");
    expect(digest).toMatchSnapshot();
  });

  it("is all clear when the only groups were closed more than 24 h ago", () => {
    const closed = makeGroup("old", { status: "closed", closed_at: ago(2 * DAY), count_24h: 9 });
    const digest = renderDigest(makeInput([closed]));
    expect(digest.allClear).toBe(true);
    expect(digest.counts.byStatus).toEqual({ open: 0, acknowledged: 0, snoozed: 0, closed: 0 });
    expect(digest.message).toEqual(renderDigest(makeInput([])).message);
  });

  it("is not all clear when something closed in the last 24 h", () => {
    const closed = makeGroup("c", { status: "closed", closed_at: ago(HOUR), closed_24h: true });
    const digest = renderDigest(makeInput([closed]));
    expect(digest.allClear).toBe(false);
    expect(linkedIds(sectionLines(digest, TITLES.closed))).toEqual(["c"]);
  });

  it("puts the local date in the header and a one-line, mention-free fallback", () => {
    const digest = renderDigest(makeInput(makeTypicalGroups()));
    const header = digest.message.blocks[0];
    expect(header?.type).toBe("header");
    expect((header?.text as TextObject | undefined)?.text).toBe("📋 Daily digest · 2024-05-02");
    expect(digest.message.text).toBe(
      "Daily digest 2024-05-02: 9 active (6 open, 2 acknowledged, 1 snoozed) · 2 new · 1 reopened · 2 closed in 24 h",
    );
  });

  it("counts by status (active and closed in 24 h) and by severity (active only)", () => {
    const { counts } = renderDigest(makeInput(makeTypicalGroups()));
    expect(counts).toEqual({
      byStatus: { open: 6, acknowledged: 2, snoozed: 1, closed: 2 },
      bySeverity: { info: 1, warning: 1, error: 5, critical: 2 },
      new24h: 2,
      reopened24h: 1,
      closed24h: 2,
      autoClosed24h: 1,
      stillOpen: 6,
      ackUntouched: 1,
      unowned: 2,
    });
  });

  it("throws on a `now` without a zone rather than guessing the machine's", () => {
    expect(() => renderDigest(makeInput([], { now: "2024-05-02T07:00:00" }))).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Sections

describe("renderDigest: sections", () => {
  it("lists new groups whatever their status now, most severe first", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("a", { opened_24h: true, current_severity: "warning" }),
        makeGroup("b", { opened_24h: true, current_severity: "critical" }),
        makeGroup("c", { opened_24h: true, status: "closed", closed_24h: true, closed_at: ago(HOUR) }),
        makeGroup("d"),
      ]),
    );
    expect(linkedIds(sectionLines(digest, TITLES.new))).toEqual(["b", "c", "a"]);
    expect(findSection(digest, TITLES.new)?.split("\n")[0]).toBe("*🆕 New in the last 24 h* (3)");
  });

  it("lists reopened groups with the time since they reopened", () => {
    const digest = renderDigest(
      makeInput([makeGroup("r", { reopened_24h: true, open_since: ago(45 * 60_000) }), makeGroup("x")]),
    );
    const lines = sectionLines(digest, TITLES.reopened);
    expect(linkedIds(lines)).toEqual(["r"]);
    expect(lines[0]).toContain("reopened 45 min ago");
  });

  it("lists only open groups as still open, oldest first by first_seen_at, ties by id", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("young", { first_seen_at: ago(HOUR) }),
        makeGroup("old-b", { first_seen_at: ago(5 * DAY) }),
        makeGroup("old-a", { first_seen_at: ago(5 * DAY) }),
        makeGroup("ack", { status: "acknowledged", acknowledged_at: ago(HOUR) }),
        makeGroup("snz", { status: "snoozed" }),
      ]),
    );
    const lines = sectionLines(digest, TITLES.stillOpen);
    expect(linkedIds(lines)).toEqual(["old-a", "old-b", "young"]);
    expect(lines[0]).toContain("first seen 5 d ago");
    expect(lines[2]).toContain("first seen 1 h ago");
  });

  it("sorts unparsable first_seen_at last and shows no age for it", () => {
    const digest = renderDigest(
      makeInput([makeGroup("bad", { first_seen_at: "yesterday" }), makeGroup("good")]),
    );
    const lines = sectionLines(digest, TITLES.stillOpen);
    expect(linkedIds(lines)).toEqual(["good", "bad"]);
    expect(lines[1]).not.toContain("first seen");
  });

  describe("acknowledged but untouched for more than a day", () => {
    const acked = (id: string, overrides: Partial<DigestGroup>): DigestGroup =>
      makeGroup(id, { status: "acknowledged", acknowledged_by_user_id: "bob", ...overrides });

    it("is exclusive at exactly 24 h and inclusive just past it", () => {
      const digest = renderDigest(
        makeInput([
          acked("exactly", { acknowledged_at: ago(DAY) }),
          acked("past", { acknowledged_at: ago(DAY + 1) }),
          acked("activity-exactly", { acknowledged_at: ago(3 * DAY), last_user_activity_at: ago(DAY) }),
          acked("activity-past", { acknowledged_at: ago(3 * DAY), last_user_activity_at: ago(DAY + 1) }),
        ]),
      );
      expect(linkedIds(sectionLines(digest, TITLES.ackUntouched))).toEqual(["activity-past", "past"]);
      expect(digest.counts.ackUntouched).toBe(2);
    });

    it("measures from the later of the last user activity and the acknowledgement", () => {
      const digest = renderDigest(
        makeInput([
          // Stale activity stamp but a fresh acknowledgement: the acknowledgement is activity.
          acked("fresh-ack", { acknowledged_at: ago(HOUR), last_user_activity_at: ago(5 * DAY) }),
          acked("stale", { acknowledged_at: ago(4 * DAY), last_user_activity_at: ago(2 * DAY + 3 * HOUR) }),
        ]),
      );
      const lines = sectionLines(digest, TITLES.ackUntouched);
      expect(linkedIds(lines)).toEqual(["stale"]);
      expect(lines[0]).toContain("untouched for 2 d 3 h · acknowledged by <@U0BOB>");
    });

    it("lists an acknowledged group with no usable timestamp (nobody can show it was touched)", () => {
      const digest = renderDigest(
        makeInput([acked("none", { acknowledged_at: null, acknowledged_by_user_id: null })]),
      );
      const lines = sectionLines(digest, TITLES.ackUntouched);
      expect(linkedIds(lines)).toEqual(["none"]);
      expect(lines[0]).toMatch(/· untouched · acknowledged$/);
    });

    it("ignores open, snoozed and closed groups with old acknowledgements", () => {
      const old = { acknowledged_at: ago(5 * DAY) };
      const digest = renderDigest(
        makeInput([
          makeGroup("o", old),
          makeGroup("s", { ...old, status: "snoozed" }),
          makeGroup("c", { ...old, status: "closed", closed_24h: true }),
        ]),
      );
      expect(findSection(digest, TITLES.ackUntouched)).toBeUndefined();
    });
  });

  it("lists active groups with neither assignee nor team as unowned, with their agency", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("none", { assigned_to_user_id: null, agency_slug: "acme" }),
        makeGroup("blank", { assigned_to_user_id: "  \n ", assigned_team_id: "" }),
        makeGroup("team", { assigned_to_user_id: null, assigned_team_id: "dba" }),
        makeGroup("user", { assigned_to_user_id: "alice" }),
        makeGroup("closed", {
          assigned_to_user_id: null,
          status: "closed",
          closed_24h: true,
          closed_at: ago(HOUR),
        }),
        makeGroup("snoozed", { assigned_to_user_id: null, status: "snoozed" }),
      ]),
    );
    const lines = sectionLines(digest, TITLES.unowned);
    expect(linkedIds(lines)).toEqual(["blank", "none", "snoozed"]);
    expect(lines[1]).toContain("· acme");
    expect(digest.counts.unowned).toBe(3);
  });

  it("lists the five noisiest groups by count_24h, ties by id, none with a zero count", () => {
    const counts = [3, 50, 0, 7, 50, 1, 9, 2];
    const groups = counts.map((count_24h, index) => makeGroup(`n${index}`, { count_24h }));
    const digest = renderDigest(makeInput(groups));
    const lines = sectionLines(digest, TITLES.noisiest);
    expect(linkedIds(lines)).toEqual(["n1", "n4", "n6", "n3", "n0"]);
    expect(lines.some((line) => line.includes("…and"))).toBe(false);
    expect(lines[0]).toContain("· 50 in 24 h ·");
  });

  it("omits the noisiest list when nothing arrived in 24 h", () => {
    const digest = renderDigest(makeInput([makeGroup("quiet", { count_24h: 0 })]));
    expect(findSection(digest, TITLES.noisiest)).toBeUndefined();
  });

  it("lists closed groups most recent first and counts the auto-closed ones", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("manual", { status: "closed", closed_24h: true, closed_at: ago(10 * HOUR) }),
        makeGroup("auto", {
          status: "closed",
          closed_24h: true,
          auto_closed_24h: true,
          closed_at: ago(2 * HOUR),
        }),
        makeGroup("again", { status: "open", closed_24h: true, reopened_24h: true, closed_at: null }),
        makeGroup("long-ago", { status: "closed", closed_at: ago(3 * DAY) }),
      ]),
    );
    const section = findSection(digest, TITLES.closed) ?? "";
    const lines = section.split("\n");
    expect(lines[0]).toBe("*✅ Closed in the last 24 h* (3, 1 auto-closed on recovery)");
    expect(linkedIds(lines)).toEqual(["auto", "manual", "again"]);
    expect(lines[1]).toContain("closed 2 h ago, auto-closed on recovery");
    expect(lines[2]).toMatch(/closed 10 h ago$/);
    expect(lines[3]).toMatch(/closed, now open$/);
    expect(digest.counts).toMatchObject({ closed24h: 3, autoClosed24h: 1 });
  });

  it("shows the counts summary", () => {
    const summary = sectionTexts(renderDigest(makeInput(makeTypicalGroups())))[0];
    expect(summary).toBe(
      [
        "*By status:* 6 open · 2 acknowledged · 1 snoozed · 2 closed",
        "*Active by severity:* 🚨 2 critical · 🔴 5 error · 🟡 1 warning · 🔵 1 info",
        "*Last 24 h:* 2 new · 1 reopened · 2 closed (1 auto-closed on recovery)",
      ].join("\n"),
    );
  });

  it("warns about stale sources, sorted by name, on an all-clear day too", () => {
    const staleSources = [
      { source: "cloverdx", lastSuccessAt: null },
      { source: "airflow", lastSuccessAt: ago(DAY + 2 * HOUR) },
    ];
    for (const groups of [[], makeTypicalGroups()]) {
      const digest = renderDigest(makeInput(groups, { staleSources }));
      expect(sectionLines(digest, TITLES.stale)).toEqual([
        "• `airflow`: last success 1 d 2 h ago",
        "• `cloverdx`: no successful ingest on record",
      ]);
      expect(digest.message.text).toContain("· 2 stale sources");
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Lines

describe("renderDigest: group lines", () => {
  const lineOf = (group: DigestGroup, input: Partial<DigestInput> = {}): string =>
    sectionLines(renderDigest(makeInput([group], input)), TITLES.stillOpen)[0] ?? "";

  it("links job and error class to ui_url, with severity emoji, count, age and owner", () => {
    const line = lineOf(makeGroup("g", { count_24h: 1234, first_seen_at: ago(3 * DAY + 4 * HOUR) }));
    expect(line).toBe(
      `🔴 <${BASE}/signal-groups/g|job_g · UniqueViolation> · 1,234 in 24 h · first seen 3 d 4 h ago · <@U0ALICE>`,
    );
  });

  it("shows plain text without a usable ui_url", () => {
    for (const ui_url of [
      null,
      "javascript:alert(1)",
      "https://x.test/a b",
      `https://x.test/${"a".repeat(600)}`,
    ]) {
      const line = lineOf(makeGroup("g", { ui_url }));
      expect(line.startsWith("🔴 job_g · UniqueViolation · 0 in 24 h")).toBe(true);
    }
  });

  it("escapes & in a link target", () => {
    const line = lineOf(makeGroup("g", { ui_url: "https://x.test/g?a=1&b=2" }));
    expect(line).toContain("<https://x.test/g?a=1&amp;b=2|job_g");
  });

  it("falls back to signal_type, then 'unknown job', and omits a missing error class", () => {
    expect(lineOf(makeGroup("g", { job_name: "  ", ui_url: null, error_class: null }))).toMatch(
      /^🔴 airflow_task_failed · 0 in 24 h/,
    );
    expect(lineOf(makeGroup("g", { job_name: null, signal_type: null, ui_url: null }))).toMatch(
      /^🔴 unknown job · UniqueViolation · /,
    );
  });

  it("escapes and caps hostile job names and error classes", () => {
    const line = lineOf(
      makeGroup("g", {
        job_name: `<!channel> ${"x".repeat(10_000)}`,
        error_class: "<@U0EVIL|boss> & co",
      }),
    );
    expect(line).toContain("&lt;!channel&gt; xxx");
    expect(line).toContain("&lt;@U0EVIL|boss&gt; &amp; co");
    expect(line.length).toBeLessThan(400);
  });

  describe("owner", () => {
    const ownerOf = (overrides: Partial<DigestGroup>, slackUserIds?: Map<string, string>): string =>
      lineOf(makeGroup("g", overrides), slackUserIds === undefined ? {} : { slackUserIds })
        .split(" · ")
        .at(-1) ?? "";

    it("mentions a mapped user", () => {
      expect(ownerOf({ assigned_to_user_id: "alice" })).toBe("<@U0ALICE>");
    });

    it("shows an unmapped user's id, escaped", () => {
      expect(ownerOf({ assigned_to_user_id: "erin<!here>" })).toBe("erin&lt;!here&gt;");
    });

    it("never mentions an invalid Slack id from the map", () => {
      const map = new Map([["mallory", "<!channel>"]]);
      expect(ownerOf({ assigned_to_user_id: "mallory" }, map)).toBe("mallory");
    });

    it("shows the team, alone or after the user", () => {
      expect(ownerOf({ assigned_to_user_id: null, assigned_team_id: "dba" })).toBe("team dba");
      expect(ownerOf({ assigned_to_user_id: "alice", assigned_team_id: "d&b" })).toBe(
        "<@U0ALICE> (team d&amp;b)",
      );
    });

    it("says unowned with neither", () => {
      expect(ownerOf({ assigned_to_user_id: null, assigned_team_id: null })).toBe("unowned");
    });
  });
});

describe("formatDuration", () => {
  it.each([
    [-5 * HOUR, "0 min"],
    [59_999, "0 min"],
    [45 * 60_000, "45 min"],
    [HOUR, "1 h"],
    [5 * HOUR + 12 * 60_000, "5 h 12 min"],
    [DAY - 1, "23 h 59 min"],
    [DAY, "1 d"],
    [3 * DAY + 4 * HOUR + 59 * 60_000, "3 d 4 h"],
    [1500 * DAY, "1,500 d"],
    [Number.NaN, "0 min"],
  ])("%d ms -> %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Agencies

describe("renderDigest: per-agency lines", () => {
  it("counts open / acknowledged / snoozed and closed in 24 h per agency, busiest first", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("a1", { agency_id: "id-a", agency_slug: "acme" }),
        makeGroup("a2", { agency_id: "id-a", agency_slug: "acme", status: "acknowledged" }),
        makeGroup("a3", { agency_id: "id-a", agency_slug: "acme", status: "closed", closed_24h: true }),
        makeGroup("b1", { agency_id: "id-b", agency_slug: null, status: "snoozed" }),
        makeGroup("c1", { agency_id: null, agency_slug: "slug-only" }),
        makeGroup("n1", { agency_id: null, agency_slug: null }),
        makeGroup("n2", { agency_id: " ", agency_slug: "" }),
        makeGroup("z1", { agency_id: "id-z", agency_slug: "<!here>", status: "closed", closed_24h: true }),
      ]),
    );
    expect(sectionLines(digest, TITLES.agencies)).toEqual([
      "• acme: 1 open · 1 acknowledged · 0 snoozed · 1 closed in 24 h",
      "• no agency: 2 open · 0 acknowledged · 0 snoozed · 0 closed in 24 h",
      "• id-b: 0 open · 0 acknowledged · 1 snoozed · 0 closed in 24 h",
      "• slug-only: 1 open · 0 acknowledged · 0 snoozed · 0 closed in 24 h",
      "• &lt;!here&gt;: 0 open · 0 acknowledged · 0 snoozed · 1 closed in 24 h",
    ]);
  });

  it("keeps agencies that share a slug apart by id, and names each after its first group's slug", () => {
    const digest = renderDigest(
      makeInput([
        makeGroup("x2", { agency_id: "one", agency_slug: "later" }),
        makeGroup("x1", { agency_id: "one", agency_slug: "first" }),
        makeGroup("y1", { agency_id: "two", agency_slug: "first" }),
      ]),
    );
    expect(sectionLines(digest, TITLES.agencies)).toEqual([
      "• first: 2 open · 0 acknowledged · 0 snoozed · 0 closed in 24 h",
      "• first: 1 open · 0 acknowledged · 0 snoozed · 0 closed in 24 h",
    ]);
  });

  it("caps the agency list with a link to the UI", () => {
    const groups = Array.from({ length: 30 }, (_, i) =>
      makeGroup(`g${i}`, { agency_id: `a${String(i).padStart(2, "0")}`, agency_slug: null }),
    );
    const lines = sectionLines(renderDigest(makeInput(groups)), TITLES.agencies);
    expect(lines).toHaveLength(DIGEST_CAPS.agencies + 1);
    expect(lines.at(-1)).toBe(`<${BASE}/signal-groups?status=open|…and 10 more>`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Cut-offs and listedGroupIds

describe("renderDigest: 'and N more' and listedGroupIds", () => {
  const manyOpen = (count: number): DigestGroup[] =>
    Array.from({ length: count }, (_, i) =>
      makeGroup(`o${String(i).padStart(3, "0")}`, { first_seen_at: ago((count - i) * HOUR) }),
    );

  it("cuts a list at its cap and links the rest to the UI list", () => {
    const digest = renderDigest(makeInput(manyOpen(20)));
    const lines = sectionLines(digest, TITLES.stillOpen);
    expect(lines).toHaveLength(DIGEST_CAPS.stillOpen + 1);
    expect(lines.at(-1)).toBe(`<${BASE}/signal-groups?status=open|…and 5 more>`);
    expect(linkedIds(lines)).toEqual(
      manyOpen(20)
        .slice(0, 15)
        .map((g) => g.id),
    );
  });

  it("says how many more without a link when there is no appBaseUrl", () => {
    const digest = renderDigest(makeInput(manyOpen(20), { appBaseUrl: undefined }));
    expect(sectionLines(digest, TITLES.stillOpen).at(-1)).toBe("…and 5 more");
  });

  it("tolerates a trailing slash on appBaseUrl", () => {
    const digest = renderDigest(makeInput(manyOpen(20), { appBaseUrl: `${BASE}/` }));
    expect(sectionLines(digest, TITLES.stillOpen).at(-1)).toBe(
      `<${BASE}/signal-groups?status=open|…and 5 more>`,
    );
  });

  it("shows no 'and N more' at exactly the cap", () => {
    const lines = sectionLines(renderDigest(makeInput(manyOpen(DIGEST_CAPS.stillOpen))), TITLES.stillOpen);
    expect(lines).toHaveLength(DIGEST_CAPS.stillOpen);
    expect(lines.join("\n")).not.toContain("…and");
  });

  it.each([
    ["new", { opened_24h: true }, "opened_within=24h"],
    ["reopened", { reopened_24h: true }, "reopened_within=24h"],
    ["unowned", { assigned_to_user_id: null }, "status=open&amp;owner=none"],
    [
      "ackUntouched",
      { status: "acknowledged", acknowledged_at: ago(2 * DAY) } satisfies Partial<DigestGroup>,
      "status=acknowledged",
    ],
    [
      "closed",
      { status: "closed", closed_24h: true, closed_at: ago(HOUR) } satisfies Partial<DigestGroup>,
      "status=closed",
    ],
  ] as const)("links the rest of %s to its UI list", (key, overrides, query) => {
    const groups = Array.from({ length: 25 }, (_, i) =>
      makeGroup(`g${String(i).padStart(2, "0")}`, overrides),
    );
    const lines = sectionLines(renderDigest(makeInput(groups)), TITLES[key]);
    expect(lines).toHaveLength(DIGEST_CAPS[key] + 1);
    expect(lines.at(-1)).toBe(`<${BASE}/signal-groups?${query}|…and ${25 - DIGEST_CAPS[key]} more>`);
  });

  it("cuts on the 3000-character limit before the cap when lines are long", () => {
    const longUrl = (id: string) => `${BASE}/signal-groups/${id}?pad=${"p".repeat(400)}`;
    const groups = manyOpen(15).map((g) => ({
      ...g,
      job_name: "j".repeat(200),
      error_class: "e".repeat(200),
      ui_url: longUrl(g.id),
      assigned_to_user_id: "u".repeat(200),
      assigned_team_id: "t".repeat(200),
    }));
    const digest = renderDigest(makeInput(groups));
    const section = findSection(digest, TITLES.stillOpen) ?? "";
    const lines = section.split("\n").slice(1);
    expect(section.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(lines.length).toBeLessThan(DIGEST_CAPS.stillOpen);
    const shown = lines.length - 1;
    expect(lines.at(-1)).toBe(`<${BASE}/signal-groups?status=open|…and ${15 - shown} more>`);
    expect(digest.listedGroupIds).toEqual(groups.slice(0, shown).map((g) => g.id));
  });

  it("lists exactly the groups shown by name, each once, in order of appearance", () => {
    const typical = makeTypicalGroups().map((g) => ({ ...g, ui_url: `${BASE}/signal-groups/${g.id}` }));
    const digest = renderDigest(makeInput([...typical, ...manyOpen(30)]));
    const shown = linkedIds(sectionTexts(digest).flatMap((text) => text.split("\n")));
    expect(digest.listedGroupIds).toEqual([...new Set(shown)]);
  });

  it("lists the typical day's groups, linked or not", () => {
    const digest = renderDigest(makeInput(makeTypicalGroups()));
    // g06 (acknowledged recently, quiet, owned) has nothing to show; g11 closed days ago.
    expect([...digest.listedGroupIds].sort()).toEqual([
      "g01",
      "g02",
      "g03",
      "g04",
      "g05",
      "g07",
      "g08",
      "g09",
      "g10",
      "g12",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Scale and hostile input

describe("renderDigest: scale", () => {
  it("keeps every limit with 500 open groups with hostile names", () => {
    const hostile = [
      "<!channel>",
      "<!here|x>",
      "<@U0BOSS>",
      "&lt;",
      "😀".repeat(3000),
      "`<b>`",
      "\u202e\ud800",
    ];
    const groups = Array.from({ length: 500 }, (_, i) =>
      makeGroup(`h${String(i).padStart(3, "0")}`, {
        job_name: `${hostile[i % hostile.length]}${"x".repeat(10_000)}`,
        error_class: `${hostile[(i + 1) % hostile.length]}`,
        agency_slug: `${hostile[(i + 2) % hostile.length]}${i % 40}`,
        agency_id: `agency-${i % 40}`,
        assigned_to_user_id: i % 3 === 0 ? null : `<!everyone>${i}`,
        assigned_team_id: i % 3 === 1 ? `<!subteam^S1>${"t".repeat(500)}` : null,
        opened_24h: i % 5 === 0,
        reopened_24h: i % 7 === 0,
        status: i % 4 === 0 ? "acknowledged" : "open",
        acknowledged_at: ago(3 * DAY),
        count_24h: i,
        ui_url: i % 2 === 0 ? `${BASE}/signal-groups/h${i}?q=${"&".repeat(100)}` : null,
      }),
    );
    const digest = renderDigest(makeInput(groups, { localDate: `<!channel>${"d".repeat(500)}` }));
    expectSafeMessage(digest.message);
    for (const text of sectionTexts(digest)) expect(text.length).toBeLessThanOrEqual(3000);
    const moreLines = sectionTexts(digest).filter((text) => text.includes("more>"));
    expect(moreLines.length).toBeGreaterThanOrEqual(5);
    expect(sectionLines(digest, TITLES.stillOpen).at(-1)).toMatch(
      /^<https:\/\/ops\.example\.com\/signal-groups\?status=open\|…and \d+ more>$/,
    );
    expect(new Set(digest.listedGroupIds).size).toBe(digest.listedGroupIds.length);
  });

  it("renders 100,000 open groups within the limits", () => {
    const groups = Array.from({ length: 100_000 }, (_, i) =>
      makeGroup(`g${i}`, {
        first_seen_at: new Date(NOW_MS - (i % 9973) * 60_000).toISOString(),
        count_24h: i % 1000,
        agency_id: `agency-${i % 500}`,
        opened_24h: i % 10 === 0,
        assigned_to_user_id: i % 2 === 0 ? null : "alice",
      }),
    );
    const digest = renderDigest(makeInput(groups));
    expectSafeMessage(digest.message);
    expect(digest.counts.stillOpen).toBe(100_000);
    expect(digest.listedGroupIds.length).toBeLessThan(100);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(
      "<",
      ">",
      "&",
      "`",
      "!",
      "@",
      "|",
      "channel",
      "here",
      "😀",
      "\ud83d",
      "\u202e",
      "\n",
      " ",
    ),
    maxLength: 40,
  }),
  fc.string({ unit: fc.constantFrom("&", "<", "😀", "a"), minLength: 2990, maxLength: 3010 }),
);
const anyNullableText = fc.option(anyText, { nil: null });
const anyTime = fc.oneof(
  fc.integer({ min: -40 * DAY, max: 2 * DAY }).map((offset) => new Date(NOW_MS + offset).toISOString()),
  anyText,
);
const anyNullableTime = fc.option(anyTime, { nil: null });

const anyGroupFields = fc.record({
  id: fc.oneof(fc.uuid(), anyText),
  status: fc.constantFrom(...GROUP_STATUSES),
  current_severity: fc.constantFrom(...SEVERITIES),
  agency_id: anyNullableText,
  agency_slug: anyNullableText,
  job_name: anyNullableText,
  signal_type: anyNullableText,
  error_class: anyNullableText,
  first_seen_at: anyTime,
  last_seen_at: anyTime,
  count_total: fc.nat(),
  count_24h: fc.nat(),
  assigned_to_user_id: fc.option(fc.oneof(fc.constantFrom("alice", "bob", "mallory"), anyText), {
    nil: null,
  }),
  assigned_team_id: anyNullableText,
  acknowledged_at: anyNullableTime,
  acknowledged_by_user_id: anyNullableText,
  snoozed_until: anyNullableTime,
  closed_at: anyNullableTime,
  open_since: anyNullableTime,
  ui_url: fc.option(fc.oneof(fc.webUrl(), anyText), { nil: null }),
  opened_24h: fc.boolean(),
  reopened_24h: fc.boolean(),
  closed_24h: fc.boolean(),
  auto_closed_24h: fc.boolean(),
  last_user_activity_at: anyNullableTime,
});

const anyGroups = fc.array(anyGroupFields, { maxLength: 300 });

const anyInput = fc
  .record({
    groups: anyGroups,
    localDate: fc.oneof(fc.constant("2024-05-02"), anyText),
    timeZone: fc.oneof(fc.constant("America/New_York"), anyText),
    appBaseUrl: fc.option(fc.oneof(fc.constant(BASE), fc.webUrl(), anyText), { nil: undefined }),
    staleSources: fc.array(fc.record({ source: anyText, lastSuccessAt: anyNullableTime }), { maxLength: 15 }),
  })
  .map(
    (fields): DigestInput => ({
      ...fields,
      now: NOW,
      slackUserIds: new Map([
        ["alice", "U0ALICE"],
        ["mallory", "<!channel>"],
      ]),
    }),
  );

describe("renderDigest: properties", () => {
  it("keeps every Slack limit and escapes everything, for any group set", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const digest = renderDigest(input);
        expectSafeMessage(digest.message);
        expect(new Set(digest.listedGroupIds).size).toBe(digest.listedGroupIds.length);
        expect(digest.allClear).toBe(sumStatuses(digest) === 0);
      }),
      { numRuns: 60 },
    );
  });

  it("renders the same input to the same digest, whatever the order of the groups", () => {
    fc.assert(
      fc.property(anyInput, fc.integer(), (input, seed) => {
        const unique = [...new Map(input.groups.map((g) => [g.id, g])).values()];
        const first = renderDigest({ ...input, groups: unique });
        expect(renderDigest(structuredClone({ ...input, groups: unique }))).toEqual(first);
        expect(renderDigest({ ...input, groups: shuffle(unique, seed) })).toEqual(first);
      }),
      { numRuns: 40 },
    );
  });

  it("lists exactly the groups whose lines are rendered", () => {
    fc.assert(
      fc.property(anyGroups, (fields) => {
        // Links by position make every rendered line traceable to its group whatever its id.
        const groups = fields.map((g, i) => ({ ...g, id: `${i}`, ui_url: `${BASE}/signal-groups/${i}` }));
        const digest = renderDigest(makeInput(groups));
        const shown = linkedIds(sectionTexts(digest).flatMap((text) => text.split("\n")));
        expect(digest.listedGroupIds).toEqual([...new Set(shown)]);
      }),
      { numRuns: 60 },
    );
  });
});

function sumStatuses(digest: RenderedDigest): number {
  return Object.values(digest.counts.byStatus).reduce((sum, n) => sum + n, 0);
}

/** A deterministic Fisher-Yates shuffle (mulberry32), so a failure replays. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
