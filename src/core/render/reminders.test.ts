import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REMINDER_TIERS } from "../reminders.js";
import { GROUP_STATUSES, type GroupRow, SEVERITIES } from "../types.js";
import {
  describeDuration,
  type ReminderDmContext,
  renderReminderDm,
  renderThreadReply,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
} from "./index.js";
import { collectMrkdwn, collectStrings, type TextObject } from "./inspect.test-support.js";

// ---------------------------------------------------------------------------------------------------------
// Fixtures (the same group as render.test.ts)

function makeGroup(overrides: Partial<GroupRow> = {}): GroupRow {
  return {
    id: "7b1c3f5e-2d4a-4b6c-8e9f-0a1b2c3d4e5f",
    fingerprint: "a929f2e807ff8052c702f79f7f0fdb6ff225534cf65a416bb9050d163087fd51",
    status: "open",
    current_severity: "error",
    agency_id: "3f0c9a52-agency",
    agency_slug: "acme",
    job_name: "orders_daily.load_orders",
    signal_type: "airflow_task_failed",
    first_seen_at: "2024-05-01T10:00:00.000Z",
    last_seen_at: "2024-05-01T12:34:56.000Z",
    count_total: 1234,
    count_24h: 17,
    count_24h_as_of: "2024-05-01T12:35:00.000Z",
    last_signal_id: "5a4e7a8e-signal",
    assigned_to_user_id: "alice",
    assigned_team_id: "data-platform",
    acknowledged_at: null,
    acknowledged_by_user_id: null,
    snoozed_until: null,
    opened_notified_at: "2024-05-01T10:00:05.000Z",
    last_reminded_at: null,
    last_daily_reminder_date: null,
    last_escalated_at: null,
    slack_channel_id: "C0123ALERTS",
    slack_root_ts: "1714557605.000100",
    ui_url: "https://observability.example.com/groups/7b1c3f5e",
    closed_at: null,
    last_slack_updated_at: null,
    slack_message_hash: null,
    open_since: "2024-05-01T10:00:00.000Z",
    ...overrides,
  };
}

const PERMALINK = "https://acme.slack.com/archives/C0123ALERTS/p1714557605000100";

function makeContext(overrides: Partial<ReminderDmContext> = {}): ReminderDmContext {
  return {
    ownerSlackUserId: "U0ALICE",
    ownerUserId: "alice",
    ownerTeamId: "data-platform",
    acknowledgedBySlackUserId: null,
    closedReason: null,
    errorMessage:
      'duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(12345) already exists.',
    stage: "load",
    errorClass: "UniqueViolation",
    interactive: true,
    tier: "t2",
    openSince: "2024-05-01T10:00:00.000Z",
    now: "2024-05-01T12:15:00.000Z",
    permalink: PERMALINK,
    role: "owner",
    ...overrides,
  };
}

const HOSTILE =
  "<!channel> @here <!here> <!everyone> <@U123> <https://evil.example|click> <script>alert(1)</script> " +
  "```\nbreak out``` ```` & &amp; &lt; \u202eevil\u202c שלום עולם e\u0301 👩‍👩‍👧 \ud83d lone";

// ---------------------------------------------------------------------------------------------------------
// Inspection helpers (as in render.test.ts)

/** The markup the renderer itself emits: date tokens and validated links (and no mentions here). */
const OWN_MARKUP = [
  /<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[0-9+-]+-\d{2}-\d{2} \d{2}:\d{2} UTC>/g,
  /<https?:\/\/[^\s<>|]+\|[^<>]*>/g,
];

function stripOwnMarkup(text: string): string {
  return OWN_MARKUP.reduce((rest, pattern) => rest.replace(pattern, ""), text);
}

/** Slack's limits, escaping and well-formedness; these messages mention nobody. */
function expectSafeMessage(message: SlackMessage): void {
  expect(message.text.length).toBeLessThanOrEqual(3000);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of message.blocks) expectBlockWithinLimits(block);
  for (const text of collectMrkdwn(message)) {
    expect(stripOwnMarkup(text)).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(text).not.toContain("<@");
  }
  for (const text of collectStrings(message)) {
    expect(text.isWellFormed()).toBe(true);
    expect(text).not.toMatch(/<!(channel|here|everyone|subteam)/);
  }
}

function expectBlockWithinLimits(block: SlackBlock): void {
  switch (block.type) {
    case "section": {
      const text = block.text as TextObject | undefined;
      if (text !== undefined) expect(text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      const fields = (block.fields ?? []) as TextObject[];
      expect(fields.length).toBeLessThanOrEqual(10);
      for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      break;
    }
    case "context": {
      const elements = block.elements as TextObject[];
      expect(elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
      for (const element of elements)
        expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      break;
    }
    default:
      throw new Error(`unexpected block type ${block.type}`);
  }
}

const allMrkdwn = (message: SlackMessage) => collectMrkdwn(message).join("\n");

// ---------------------------------------------------------------------------------------------------------
// renderReminderDm

describe("renderReminderDm", () => {
  it("first reminder: what is wrong, for how long, how often, links and what to do", () => {
    const dm = renderReminderDm(makeGroup(), makeContext({ now: "2024-05-01T12:15:00.000Z" }));
    expectSafeMessage(dm);
    expect(dm.text).toBe(
      "⏰ *Reminder*: an alert you own has been open for 2 h 15 min without acknowledgement: *🔴 ERROR · orders_daily.load_orders · UniqueViolation*",
    );
    expect(dm.blocks.map((b) => b.type)).toEqual(["section", "section", "section", "section", "context"]);
    const text = allMrkdwn(dm);
    for (const part of [
      "*Agency*\nacme",
      "*Job*\n`orders_daily.load_orders`",
      "*Stage*\n`load`",
      "*Error class*\n`UniqueViolation`",
      "*Occurrences*\n1,234 total · 17 in 24h",
      "*Open since*\n<!date^1714557600^{date_short_pretty} {time}|2024-05-01 10:00 UTC>",
      "*Owner*\nalice (team data-platform)",
      "```\nduplicate key value violates unique constraint",
      `<${PERMALINK}|View the alert in the channel> · <https://observability.example.com/groups/7b1c3f5e|Open in UI>`,
      "Acknowledge it (or snooze it)",
      "escalated to the secondary owner later",
    ]) {
      expect(text).toContain(part);
    }
  });

  it("says which reminder it is, for the owner and for the secondary owner", () => {
    const cases = [
      {
        tier: "t8",
        role: "owner",
        says: "⏫ *Second reminder*: an alert you own has been open for 8 h 15 min",
      },
      {
        tier: "t8",
        role: "secondary",
        says: "⏫ *Escalated to you as secondary owner*: an alert has been open for 8 h 15 min without acknowledgement by its owner",
      },
      {
        tier: "daily",
        role: "owner",
        says: "📅 *Daily reminder*: an alert you own has been open for 8 h 15 min",
      },
      {
        tier: "daily",
        role: "secondary",
        says: "📅 *Daily reminder*: an alert escalated to you as secondary owner has been open for 8 h 15 min",
      },
      { tier: "t2", role: "secondary", says: "an alert for which you are the secondary owner has been open" },
    ] as const;
    for (const { tier, role, says } of cases) {
      const dm = renderReminderDm(makeGroup(), makeContext({ tier, role, now: "2024-05-01T18:15:59.000Z" }));
      expectSafeMessage(dm);
      expect(dm.text).toContain(says);
      if (tier !== "t2") expect(allMrkdwn(dm)).toContain("a reminder follows once a day");
    }
  });

  it("measures the open time from openSince to now, in days once it is long", () => {
    const dm = renderReminderDm(
      makeGroup(),
      makeContext({ tier: "daily", openSince: "2024-05-01T10:00:00Z", now: "2024-05-03T13:59:00Z" }),
    );
    expect(dm.text).toContain("has been open for 2 d 3 h without acknowledgement");
  });

  it("still renders when the times cannot be read or run backwards", () => {
    for (const [openSince, now] of [
      ["yesterday", "2024-05-01T12:00:00Z"],
      ["2024-05-01T12:00:00Z", "2024-05-01 12:00"], // no zone: ambiguous, so not used
      ["2024-05-01T13:00:00Z", "2024-05-01T12:00:00Z"],
    ] as const) {
      const dm = renderReminderDm(makeGroup(), makeContext({ openSince, now }));
      expectSafeMessage(dm);
      expect(dm.text).toContain("has been open without acknowledgement");
    }
  });

  it("mentions nobody, even when the owner's Slack id is known", () => {
    const dm = renderReminderDm(makeGroup(), makeContext({ ownerSlackUserId: "U0ALICE" }));
    expect(allMrkdwn(dm)).not.toContain("<@");
  });

  it("leaves out links it cannot make", () => {
    const dm = renderReminderDm(
      makeGroup({ ui_url: "javascript:alert(1)" }),
      makeContext({ permalink: null, errorMessage: null }),
    );
    expectSafeMessage(dm);
    expect(dm.blocks.map((b) => b.type)).toEqual(["section", "section", "context"]);
    expect(allMrkdwn(dm)).not.toContain("Open in UI");
  });

  it("escapes hostile input and keeps every limit", () => {
    const group = makeGroup({
      job_name: HOSTILE,
      agency_slug: HOSTILE,
      signal_type: HOSTILE,
      assigned_to_user_id: HOSTILE,
      assigned_team_id: HOSTILE,
    });
    for (const tier of REMINDER_TIERS) {
      const dm = renderReminderDm(
        group,
        makeContext({
          tier,
          ownerUserId: HOSTILE,
          ownerTeamId: HOSTILE,
          errorMessage: `${HOSTILE}\n${"😀&<".repeat(5000)}`,
          stage: HOSTILE,
          errorClass: HOSTILE.repeat(10),
          permalink: HOSTILE,
          openSince: HOSTILE,
        }),
      );
      expectSafeMessage(dm);
      expect(JSON.stringify(dm)).toContain("&lt;!channel&gt;");
    }
  });
});

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 100 }),
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
    ),
    maxLength: 60,
  }),
  fc.string({ unit: fc.constantFrom("&", "<", "😀", "a"), minLength: 2990, maxLength: 3010 }),
);
const anyNullableText = fc.option(anyText, { nil: null });
const anyTime = fc.oneof(
  fc
    .date({
      min: new Date("1970-01-01T00:00:00Z"),
      max: new Date("2100-01-01T00:00:00Z"),
      noInvalidDate: true,
    })
    .map((date) => date.toISOString()),
  anyText,
);

describe("renderReminderDm properties", () => {
  it("keeps every limit, escapes every untrusted field and mentions nobody", () => {
    fc.assert(
      fc.property(
        fc.record({
          status: fc.constantFrom(...GROUP_STATUSES),
          current_severity: fc.constantFrom(...SEVERITIES),
          agency_id: anyNullableText,
          agency_slug: anyNullableText,
          job_name: anyNullableText,
          signal_type: anyNullableText,
          last_seen_at: anyTime,
          count_total: fc.nat(),
          count_24h: fc.nat(),
          assigned_to_user_id: anyNullableText,
          assigned_team_id: anyNullableText,
          ui_url: fc.option(fc.oneof(fc.webUrl(), anyText), { nil: null }),
        }),
        fc.record({
          ownerSlackUserId: fc.option(fc.oneof(fc.constant("U0ALICE"), anyText), { nil: null }),
          ownerUserId: anyNullableText,
          ownerTeamId: anyNullableText,
          errorMessage: anyNullableText,
          stage: anyNullableText,
          errorClass: anyNullableText,
          tier: fc.constantFrom(...REMINDER_TIERS),
          role: fc.constantFrom("owner" as const, "secondary" as const),
          openSince: anyTime,
          now: anyTime,
          permalink: fc.option(fc.oneof(fc.webUrl(), anyText), { nil: null }),
        }),
        (fields, ctx) => {
          expectSafeMessage(renderReminderDm(makeGroup(fields), makeContext(ctx)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("describeDuration", () => {
  it("reads like a person would say it, rounded down", () => {
    const MIN = 60_000;
    const cases: [number, string | null][] = [
      [0, "less than a minute"],
      [59_999, "less than a minute"],
      [MIN, "1 min"],
      [45 * MIN, "45 min"],
      [60 * MIN, "1 h"],
      [(8 * 60 + 15) * MIN + 59_999, "8 h 15 min"],
      [(23 * 60 + 59) * MIN, "23 h 59 min"],
      [24 * 60 * MIN, "1 d"],
      [(51 * 60 + 30) * MIN, "2 d 3 h"],
      [-1, null],
      [Number.NaN, null],
      [Number.POSITIVE_INFINITY, null],
    ];
    for (const [ms, expected] of cases) expect(describeDuration(ms)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Thread events of the dispatcher

describe("renderThreadReply: reminder events", () => {
  it("says who was notified on escalation, and that a snooze ended", () => {
    const reply = renderThreadReply(makeGroup(), [
      { kind: "snooze_expired" },
      { kind: "reminder_escalated", hours: 8, notified: ["bob (secondary owner)", "alice (owner)"] },
    ]);
    expectSafeMessage(reply);
    expect(reply.text).toBe(
      [
        "⏰ *Snooze ended*: back to open",
        "⏫ *Escalated*: open for 8 h without acknowledgement; notified: bob (secondary owner), alice (owner)",
      ].join("\n"),
    );
    expect(collectMrkdwn(reply).at(-1)).toBe("Now open · 🔴 ERROR · 1,234 total · 17 in 24h");
  });

  it("shows fractional hours, nobody, and cuts a long list", () => {
    const half = renderThreadReply(makeGroup(), [{ kind: "reminder_escalated", hours: 2.5, notified: [] }]);
    expect(half.text).toBe("⏫ *Escalated*: open for 2 h 30 min without acknowledgement; notified: nobody");
    const many = renderThreadReply(makeGroup(), [
      { kind: "reminder_escalated", hours: 8, notified: Array.from({ length: 1500 }, (_, i) => `user-${i}`) },
    ]);
    expectSafeMessage(many);
    expect(many.text).toMatch(/notified: user-0, user-1, .*user-9 and 1,490 more$/);
  });

  it("never mentions the notified, whatever their ids look like", () => {
    const reply = renderThreadReply(makeGroup(), [
      { kind: "reminder_escalated", hours: 8, notified: ["<@U0BOB>", "U0BOB", HOSTILE, "x".repeat(500)] },
    ]);
    expectSafeMessage(reply);
    expect(reply.text).toContain("&lt;@U0BOB&gt;, U0BOB, &lt;!channel&gt;");
  });
});
