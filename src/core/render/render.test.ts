import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GROUP_STATUSES, type GroupRow, type GroupStatus, SEVERITIES } from "../types.js";
import {
  ACTION_IDS,
  messageHash,
  type RenderContext,
  renderGroupMessage,
  renderMinimalText,
  renderOwnerDm,
  renderThreadReply,
  renderUndeliveredDmNote,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
} from "./index.js";
import { collectMrkdwn, collectStrings, type TextObject } from "./inspect.test-support.js";

// ---------------------------------------------------------------------------------------------------------
// Fixtures

const GROUP_ID = "7b1c3f5e-2d4a-4b6c-8e9f-0a1b2c3d4e5f";

function makeGroup(overrides: Partial<GroupRow> = {}): GroupRow {
  return {
    id: GROUP_ID,
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

function makeContext(overrides: Partial<RenderContext> = {}): RenderContext {
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
    ...overrides,
  };
}

/** A group and context in the given status, with the fields that status carries. */
function makeGroupInStatus(status: GroupStatus): { group: GroupRow; ctx: RenderContext } {
  switch (status) {
    case "open":
      return { group: makeGroup(), ctx: makeContext() };
    case "acknowledged":
      return {
        group: makeGroup({
          status,
          acknowledged_at: "2024-05-01T13:00:00.000Z",
          acknowledged_by_user_id: "bob",
        }),
        ctx: makeContext({ acknowledgedBySlackUserId: "U0BOB" }),
      };
    case "snoozed":
      return { group: makeGroup({ status, snoozed_until: "2024-05-01T16:00:00.000Z" }), ctx: makeContext() };
    case "closed":
      return {
        group: makeGroup({ status, closed_at: "2024-05-01T14:00:00.000Z" }),
        ctx: makeContext({ closedReason: "recovered: dag run succeeded" }),
      };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Inspection helpers

/** The markup the renderer itself emits: date tokens, mentions of validated ids, validated links. */
const OWN_MARKUP = [
  /<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[0-9+-]+-\d{2}-\d{2} \d{2}:\d{2} UTC>/g,
  /<@[UW][A-Z0-9]{1,30}>/g,
  /<https?:\/\/[^\s<>|]+\|[^<>]*>/g,
];

function stripOwnMarkup(text: string): string {
  return OWN_MARKUP.reduce((rest, pattern) => rest.replace(pattern, ""), text);
}

function blocksOfType(message: SlackMessage, type: string): SlackBlock[] {
  return message.blocks.filter((block) => block.type === type);
}

function buttonsOf(message: SlackMessage): SlackBlock[] {
  return blocksOfType(message, "actions").flatMap((block) => block.elements as SlackBlock[]);
}

/** Slack's limits, escaping and well-formedness, checked on every part of a message. */
function expectSafeMessage(message: SlackMessage, options: { mentions: boolean } = { mentions: true }): void {
  expect(message.text.length).toBeLessThanOrEqual(3000);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of message.blocks) expectBlockWithinLimits(block);
  for (const text of collectMrkdwn(message)) {
    // Any < or > left after our own markup came from input that escaped escaping.
    expect(stripOwnMarkup(text)).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    if (!options.mentions) expect(text).not.toContain("<@");
  }
  for (const text of collectStrings(message)) {
    expect(text.isWellFormed()).toBe(true);
    expect(text).not.toMatch(/<!(channel|here|everyone|subteam)/);
  }
}

function expectBlockWithinLimits(block: SlackBlock): void {
  switch (block.type) {
    case "header":
      expect((block.text as TextObject).text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      expect((block.text as TextObject).text.length).toBeGreaterThan(0);
      break;
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
    case "actions":
      for (const button of block.elements as SlackBlock[]) {
        expect((button.text as TextObject).text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
        if (button.value !== undefined)
          expect((button.value as string).length).toBeLessThanOrEqual(SLACK_LIMITS.buttonValue);
        if (button.url !== undefined) {
          expect((button.url as string).length).toBeLessThanOrEqual(SLACK_LIMITS.url);
          expect(button.url).toMatch(/^https?:\/\/[^\s<>|]+$/i);
        }
      }
      break;
    default:
      throw new Error(`unexpected block type ${block.type}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Root message

describe("renderGroupMessage", () => {
  describe.each(GROUP_STATUSES)("status %s", (status) => {
    it.each([true, false])("matches the snapshot (interactive: %s)", (interactive) => {
      const { group, ctx } = makeGroupInStatus(status);
      const message = renderGroupMessage(group, { ...ctx, interactive });
      expectSafeMessage(message);
      expect(message).toMatchSnapshot();
    });
  });

  it("shows every displayed value", () => {
    const { group, ctx } = makeGroupInStatus("acknowledged");
    const all = collectMrkdwn(renderGroupMessage(group, ctx)).join("\n");
    const header = renderGroupMessage(group, ctx).blocks[0]?.text as TextObject;
    expect(header.text).toBe("🔴 ERROR · orders_daily.load_orders · UniqueViolation");
    expect(all).toContain(
      "Acknowledged by <@U0BOB> at <!date^1714568400^{date_short_pretty} {time}|2024-05-01 13:00 UTC>",
    );
    expect(all).toContain("*Agency*\nacme");
    expect(all).toContain("*Job*\n`orders_daily.load_orders`");
    expect(all).toContain("*Stage*\n`load`");
    expect(all).toContain("*Error class*\n`UniqueViolation`");
    expect(all).toContain("1,234 total · 17 in 24h");
    expect(all).toContain("*First seen*\n<!date^1714557600^");
    expect(all).toContain("*Last seen*\n<!date^1714566896^");
    expect(all).toContain("*Owner*\n<@U0ALICE> (team data-platform)");
    expect(all).toContain('```\nduplicate key value violates unique constraint "orders_pkey"\nDETAIL:');
  });

  it("falls back to internal ids, the agency id and 'unowned'", () => {
    const ack = renderGroupMessage(
      makeGroup({ status: "acknowledged", acknowledged_at: null, acknowledged_by_user_id: "bob<x>" }),
      makeContext({ ownerSlackUserId: null, ownerTeamId: null, ownerUserId: "alice" }),
    );
    const ackText = collectMrkdwn(ack).join("\n");
    expect(collectMrkdwn(ack)).toContain("*Status:* Acknowledged by bob&lt;x&gt;");
    expect(ackText).toContain("*Owner*\nalice (team data-platform)");

    const bare = renderGroupMessage(
      makeGroup({ agency_slug: null, assigned_to_user_id: null, assigned_team_id: null }),
      makeContext({ ownerSlackUserId: null, ownerUserId: null, ownerTeamId: null }),
    );
    const bareText = collectMrkdwn(bare).join("\n");
    expect(bareText).toContain("*Agency*\n3f0c9a52-agency");
    expect(bareText).toContain("*Owner*\nunowned");

    const noAgency = renderGroupMessage(makeGroup({ agency_slug: " ", agency_id: null }), makeContext());
    expect(collectMrkdwn(noAgency).join("\n")).toContain("*Agency*\nno agency");
  });

  it("shows a team alone when only the team owns the group", () => {
    const message = renderGroupMessage(
      makeGroup({ assigned_to_user_id: null }),
      makeContext({ ownerSlackUserId: null, ownerUserId: null }),
    );
    expect(collectMrkdwn(message).join("\n")).toContain("*Owner*\nteam data-platform");
  });

  it("does not mention a Slack id that is not a valid user id", () => {
    const message = renderGroupMessage(makeGroup(), makeContext({ ownerSlackUserId: "U1>|<!channel" }));
    expect(collectMrkdwn(message).join("\n")).toContain("*Owner*\nalice (team data-platform)");
  });

  it("offers ack, snooze and close with the group id for an open or snoozed group", () => {
    for (const status of ["open", "snoozed"] as const) {
      const { group, ctx } = makeGroupInStatus(status);
      const buttons = buttonsOf(renderGroupMessage(group, ctx));
      expect(buttons.map((b) => b.action_id)).toEqual([
        ACTION_IDS.acknowledge,
        ACTION_IDS.snooze1h,
        ACTION_IDS.snooze4h,
        ACTION_IDS.snooze24h,
        ACTION_IDS.close,
        ACTION_IDS.open,
      ]);
      for (const button of buttons.slice(0, 5)) expect(button.value).toBe(GROUP_ID);
      expect(buttons.find((b) => b.action_id === ACTION_IDS.close)?.confirm).toBeDefined();
      expect(buttons.at(-1)?.url).toBe(group.ui_url);
    }
  });

  it("does not offer ack again for an acknowledged group", () => {
    const { group, ctx } = makeGroupInStatus("acknowledged");
    const ids = buttonsOf(renderGroupMessage(group, ctx)).map((b) => b.action_id);
    expect(ids).toEqual([
      ACTION_IDS.snooze1h,
      ACTION_IDS.snooze4h,
      ACTION_IDS.snooze24h,
      ACTION_IDS.close,
      ACTION_IDS.open,
    ]);
  });

  it("offers only the UI link for a closed group or when not interactive", () => {
    const closed = makeGroupInStatus("closed");
    expect(buttonsOf(renderGroupMessage(closed.group, closed.ctx)).map((b) => b.action_id)).toEqual([
      ACTION_IDS.open,
    ]);
    for (const status of GROUP_STATUSES) {
      const { group, ctx } = makeGroupInStatus(status);
      const buttons = buttonsOf(renderGroupMessage(group, { ...ctx, interactive: false }));
      expect(buttons).toEqual([
        {
          type: "button",
          action_id: ACTION_IDS.open,
          text: { type: "plain_text", text: "Open in UI", emoji: true },
          url: group.ui_url,
        },
      ]);
    }
  });

  it("omits the link button without a usable ui_url", () => {
    for (const ui_url of [
      null,
      "javascript:alert(1)",
      "https://x.example/a|<!channel>",
      `https://x.example/${"a".repeat(3000)}`,
    ]) {
      const plain = renderGroupMessage(makeGroup({ ui_url }), makeContext({ interactive: false }));
      expect(blocksOfType(plain, "actions")).toEqual([]);
      const interactive = renderGroupMessage(makeGroup({ ui_url }), makeContext());
      expect(buttonsOf(interactive).map((b) => b.action_id)).not.toContain(ACTION_IDS.open);
    }
  });

  it("omits the error section when there is no error message", () => {
    for (const errorMessage of [null, "", " \n "]) {
      const message = renderGroupMessage(makeGroup(), makeContext({ errorMessage }));
      expect(collectMrkdwn(message).join("\n")).not.toContain("```");
    }
  });

  it("never reads the clock: no relative time in the output", () => {
    const text = JSON.stringify(renderGroupMessage(makeGroup(), makeContext()));
    expect(text).not.toMatch(/\bago\b|minutes|hours/);
  });

  it("keeps a text fallback that names severity, job, status and counts but mentions nobody", () => {
    const { group, ctx } = makeGroupInStatus("acknowledged");
    expect(renderGroupMessage(group, ctx).text).toBe(
      "🔴 ERROR · orders_daily.load_orders · UniqueViolation — acknowledged · 1,234 total · 17 in 24h",
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hostile input

const HOSTILE =
  "<!channel> @here <!here> <!everyone> <@U123> <https://evil.example|click> <script>alert(1)</script> " +
  "```\nbreak out``` ```` & &amp; &lt; \u202eevil\u202c שלום עולם e\u0301 👩‍👩‍👧 \ud83d lone";

function makeHostileCase(errorMessage: string): { group: GroupRow; ctx: RenderContext } {
  return {
    group: makeGroup({
      status: "closed",
      closed_at: "2024-05-01T14:00:00.000Z",
      job_name: HOSTILE,
      agency_slug: HOSTILE,
      agency_id: HOSTILE,
      signal_type: HOSTILE,
      assigned_to_user_id: HOSTILE,
      assigned_team_id: HOSTILE,
      acknowledged_by_user_id: HOSTILE,
    }),
    ctx: makeContext({
      ownerSlackUserId: null,
      ownerUserId: HOSTILE,
      ownerTeamId: HOSTILE,
      closedReason: HOSTILE.repeat(50),
      errorMessage,
      stage: HOSTILE,
      errorClass: HOSTILE.repeat(10),
    }),
  };
}

describe("hostile input", () => {
  const huge = `${HOSTILE}\n${"😀a\u0301".repeat(3000)}`;

  it("escapes everything, keeps limits and stays well-formed", () => {
    for (const status of GROUP_STATUSES) {
      const { group, ctx } = makeHostileCase(huge);
      const hostileGroup = {
        ...group,
        status,
        acknowledged_at: "2024-05-01T13:00:00.000Z",
        snoozed_until: "2024-05-01T16:00:00.000Z",
      };
      for (const interactive of [true, false]) {
        const message = renderGroupMessage(hostileGroup, { ...ctx, interactive });
        expectSafeMessage(message);
        expect(JSON.stringify(message)).toContain("&lt;!channel&gt;");
        expectSafeMessage(renderMinimalText(hostileGroup, ctx));
      }
    }
  });

  it("cannot break out of the error code block", () => {
    const { group, ctx } = makeHostileCase("a ``` b `````` c\n```\n<!here>");
    const message = renderGroupMessage(group, ctx);
    const error = collectMrkdwn(message).find((text) => text.startsWith("*Error*"));
    expect(error).toBeDefined();
    const body = error?.slice("*Error*\n```\n".length, -"\n```".length) ?? "";
    expect(body).not.toContain("``");
    expect(error?.match(/```/g)).toHaveLength(2);
  });

  it("cuts a 10,000-character message to fit, at every alignment of surrogate pairs and entities", () => {
    for (const prefix of ["", "a", "&", "a&", "<", "😀", "&<"]) {
      for (const body of ["😀".repeat(5000), "&".repeat(10_000), "<>".repeat(5000), "e\u0301".repeat(5000)]) {
        const { group, ctx } = makeHostileCase(prefix + body);
        const message = renderGroupMessage(group, ctx);
        expectSafeMessage(message);
        const error = collectMrkdwn(message).find((text) => text.startsWith("*Error*"));
        expect(error?.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect(error).toMatch(/…\n```$/);
      }
    }
  });

  it("uses the whole section budget for a long error message", () => {
    const message = renderGroupMessage(makeGroup(), makeContext({ errorMessage: "x".repeat(10_000) }));
    const error = collectMrkdwn(message).find((text) => text.startsWith("*Error*"));
    expect(error?.length).toBe(SLACK_LIMITS.sectionText);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

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
      "\ude00",
      "\u202e",
      "\n",
      " ",
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

const anyGroup = fc
  .record({
    status: fc.constantFrom(...GROUP_STATUSES),
    current_severity: fc.constantFrom(...SEVERITIES),
    agency_id: anyNullableText,
    agency_slug: anyNullableText,
    job_name: anyNullableText,
    signal_type: anyNullableText,
    first_seen_at: anyTime,
    last_seen_at: anyTime,
    count_total: fc.nat(),
    count_24h: fc.nat(),
    assigned_to_user_id: anyNullableText,
    assigned_team_id: anyNullableText,
    acknowledged_at: fc.option(anyTime, { nil: null }),
    acknowledged_by_user_id: anyNullableText,
    snoozed_until: fc.option(anyTime, { nil: null }),
    closed_at: fc.option(anyTime, { nil: null }),
    ui_url: fc.option(fc.oneof(fc.webUrl(), anyText), { nil: null }),
  })
  .map((fields) => makeGroup(fields));

const anyContext = fc.record({
  ownerSlackUserId: fc.option(fc.oneof(fc.constantFrom("U0ALICE", "W123"), anyText), { nil: null }),
  ownerUserId: anyNullableText,
  ownerTeamId: anyNullableText,
  acknowledgedBySlackUserId: fc.option(fc.oneof(fc.constant("U0BOB"), anyText), { nil: null }),
  closedReason: anyNullableText,
  errorMessage: anyNullableText,
  stage: anyNullableText,
  errorClass: anyNullableText,
  interactive: fc.boolean(),
});

describe("properties", () => {
  it("keeps every limit and escapes every untrusted field, in every message", () => {
    fc.assert(
      fc.property(anyGroup, anyContext, fc.array(anyText, { maxLength: 30 }), (group, ctx, problems) => {
        expectSafeMessage(renderGroupMessage(group, ctx));
        expectSafeMessage(renderMinimalText(group, ctx));
        expectSafeMessage(
          renderOwnerDm(group, { ...ctx, permalink: null, reason: "opened", role: "primary" }),
        );
        expectSafeMessage(renderUndeliveredDmNote(group, ctx, problems), { mentions: false });
      }),
      { numRuns: 200 },
    );
  });

  it("renders the same input to the same message and hash", () => {
    fc.assert(
      fc.property(anyGroup, anyContext, (group, ctx) => {
        const first = renderGroupMessage(group, ctx);
        const second = renderGroupMessage(structuredClone(group), structuredClone(ctx));
        expect(second).toEqual(first);
        expect(first.hash).toBe(messageHash(first));
      }),
      { numRuns: 100 },
    );
  });

  it("changes the hash when count_total changes", () => {
    fc.assert(
      fc.property(anyGroup, anyContext, fc.nat(), (group, ctx, other) => {
        fc.pre(other !== group.count_total);
        const changed = renderGroupMessage({ ...group, count_total: other }, ctx);
        expect(changed.hash).not.toBe(renderGroupMessage(group, ctx).hash);
      }),
      { numRuns: 100 },
    );
  });

  it("changes the hash when the status changes", () => {
    fc.assert(
      fc.property(anyGroup, anyContext, fc.constantFrom(...GROUP_STATUSES), (group, ctx, other) => {
        fc.pre(other !== group.status);
        const changed = renderGroupMessage({ ...group, status: other }, ctx);
        expect(changed.hash).not.toBe(renderGroupMessage(group, ctx).hash);
      }),
      { numRuns: 100 },
    );
  });

  it("changes the hash when severity, count_24h, owner, acknowledger or last seen change", () => {
    const { group, ctx } = makeGroupInStatus("acknowledged");
    const base = renderGroupMessage(group, ctx).hash;
    const variants = [
      renderGroupMessage({ ...group, current_severity: "critical" }, ctx),
      renderGroupMessage({ ...group, count_24h: 18 }, ctx),
      renderGroupMessage(group, { ...ctx, ownerSlackUserId: "U0CAROL" }),
      renderGroupMessage(group, { ...ctx, ownerTeamId: "finance" }),
      renderGroupMessage(group, { ...ctx, acknowledgedBySlackUserId: "U0CAROL" }),
      renderGroupMessage({ ...group, last_seen_at: "2024-05-01T12:35:56.000Z" }, ctx),
      renderGroupMessage(group, { ...ctx, errorMessage: "other" }),
      renderGroupMessage(group, { ...ctx, interactive: false }),
    ].map((message) => message.hash);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it("keeps the hash for fields that are not displayed", () => {
    const { group, ctx } = makeGroupInStatus("open");
    const base = renderGroupMessage(group, ctx).hash;
    const same = renderGroupMessage(
      {
        ...group,
        slack_message_hash: "x",
        last_slack_updated_at: "2024-05-02T00:00:00Z",
        last_reminded_at: "2024-05-02T00:00:00Z",
      },
      ctx,
    );
    expect(same.hash).toBe(base);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Thread replies, DMs, notes, minimal text

describe("renderThreadReply", () => {
  it("combines several events into one reply with the current state", () => {
    const { group } = makeGroupInStatus("acknowledged");
    const reply = renderThreadReply(group, [
      { kind: "reopened" },
      { kind: "escalated", from: "warning", to: "error" },
      { kind: "acknowledged", bySlackUserId: "U0BOB", byUserId: "bob" },
      { kind: "snoozed", until: "2024-05-01T16:00:00.000Z" },
      { kind: "closed", reason: "manual <!channel>" },
    ]);
    expectSafeMessage(reply);
    expect(reply.blocks.map((b) => b.type)).toEqual(["section", "context"]);
    expect(reply.text).toBe(
      [
        "🔁 *Reopened*: it failed again after being closed.",
        "⬆️ *Escalated* from WARNING to ERROR",
        "👀 *Acknowledged* by <@U0BOB>",
        "😴 *Snoozed* until <!date^1714579200^{date_short_pretty} {time}|2024-05-01 16:00 UTC>",
        "✅ *Closed*: manual &lt;!channel&gt;",
      ].join("\n"),
    );
    expect(collectMrkdwn(reply).at(-1)).toBe("Now acknowledged · 🔴 ERROR · 1,234 total · 17 in 24h");
  });

  it("mentions nobody but the acting user", () => {
    const { group } = makeGroupInStatus("closed");
    const reply = renderThreadReply(group, [
      { kind: "closed", reason: null },
      { kind: "acknowledged", bySlackUserId: null, byUserId: "bob" },
      { kind: "escalated", from: "<@U999>", to: "<!here>" },
    ]);
    expectSafeMessage(reply, { mentions: false });
    expect(reply.text).toContain("✅ *Closed*\n");
    expect(reply.text).toContain("by bob");
  });

  it("drops whole events rather than cutting through a mention when there are too many", () => {
    const { group } = makeGroupInStatus("open");
    const events = Array.from({ length: 500 }, () => ({
      kind: "acknowledged" as const,
      bySlackUserId: "U0BOB",
      byUserId: null,
    }));
    const reply = renderThreadReply(group, events);
    expectSafeMessage(reply);
    expect(reply.text).toMatch(/\n…and [\d,]+ more$/);
    expect(
      reply.text
        .split("\n")
        .slice(0, -1)
        .every((line) => line === "👀 *Acknowledged* by <@U0BOB>"),
    ).toBe(true);
  });

  it("still says something for no events", () => {
    const reply = renderThreadReply(makeGroup(), []);
    expect(reply.text).toBe("Now open · 🔴 ERROR · 1,234 total · 17 in 24h");
    expect(reply.blocks.map((b) => b.type)).toEqual(["context"]);
  });
});

describe("renderOwnerDm", () => {
  const permalink = "https://acme.slack.com/archives/C0123ALERTS/p1714557605000100";

  it("tells a primary owner about a new alert, with links to the channel and the UI", () => {
    const dm = renderOwnerDm(makeGroup(), { ...makeContext(), permalink, reason: "opened", role: "primary" });
    expectSafeMessage(dm);
    expect(dm.text).toBe(
      "A new alert, and you own it: *🔴 ERROR · orders_daily.load_orders · UniqueViolation*",
    );
    expect(dm).toMatchSnapshot();
    expect(collectMrkdwn(dm)).toContain(
      `<${permalink}|View the alert in the channel> · <https://observability.example.com/groups/7b1c3f5e|Open in UI>`,
    );
  });

  it("tells a secondary owner why they got it, on reopen", () => {
    const dm = renderOwnerDm(makeGroup(), {
      ...makeContext(),
      permalink: null,
      reason: "reopened",
      role: "secondary",
    });
    expectSafeMessage(dm);
    expect(dm.text).toContain("An alert that was closed has reopened");
    expect(dm.text).toContain("secondary owner, because the primary owner could not be reached");
    expect(collectMrkdwn(dm).join("\n")).not.toContain("View the alert in the channel");
  });

  it("leaves out links it cannot make", () => {
    const dm = renderOwnerDm(makeGroup({ ui_url: null }), {
      ...makeContext({ errorMessage: null }),
      permalink: "not a url",
      reason: "opened",
      role: "primary",
    });
    expect(dm.blocks.map((b) => b.type)).toEqual(["section", "section"]);
  });
});

describe("renderUndeliveredDmNote", () => {
  it("names the owner by internal id and lists the problems, mentioning nobody", () => {
    const note = renderUndeliveredDmNote(makeGroup(), makeContext(), [
      "alice: no Slack user mapping",
      "bob: user_not_found <@U0BOB> <!channel>",
    ]);
    expectSafeMessage(note, { mentions: false });
    expect(note.text).toBe(
      [
        "⚠️ Nobody was notified by DM about this alert. Owner: alice (team data-platform).",
        "• alice: no Slack user mapping",
        "• bob: user_not_found &lt;@U0BOB&gt; &lt;!channel&gt;",
      ].join("\n"),
    );
    expect(note.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text: note.text } }]);
  });

  it("says so when the group has no owner", () => {
    const note = renderUndeliveredDmNote(
      makeGroup({ assigned_to_user_id: null, assigned_team_id: null }),
      makeContext({ ownerSlackUserId: null, ownerUserId: null, ownerTeamId: null }),
      [],
    );
    expect(note.text).toBe("⚠️ This alert has no owner, so nobody was notified by DM.");
  });

  it("stays within limits for very many problems", () => {
    const note = renderUndeliveredDmNote(makeGroup(), makeContext(), Array(1000).fill("x: user_not_found"));
    expectSafeMessage(note, { mentions: false });
    expect(note.text).toMatch(/…and [\d,]+ more$/);
  });
});

describe("renderMinimalText", () => {
  it("is short text with no blocks", () => {
    const { group, ctx } = makeGroupInStatus("closed");
    const message = renderMinimalText(group, ctx);
    expect(message.blocks).toEqual([]);
    expect(message.text).toMatchInlineSnapshot(`
      "*🔴 ERROR · orders_daily.load_orders · UniqueViolation*
      Status: Closed <!date^1714572000^{date_short_pretty} {time}|2024-05-01 14:00 UTC> — recovered: dag run succeeded
      Agency: acme · Stage: \`load\` · Owner: <@U0ALICE> (team data-platform)
      Occurrences: 1,234 total · 17 in 24h · last seen <!date^1714566896^{date_short_pretty} {time}|2024-05-01 12:34 UTC>
      \`\`\`
      duplicate key value violates unique constraint "orders_pkey"
      DETAIL:  Key (id)=(12345) already exists.
      \`\`\`
      <https://observability.example.com/groups/7b1c3f5e|Open in UI>"
    `);
  });

  it("stays within 3000 characters for the longest inputs", () => {
    const { group, ctx } = makeHostileCase("x".repeat(100_000));
    const message = renderMinimalText(group, ctx);
    expectSafeMessage(message);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });
});
