/**
 * The demo's HTML page: what the fake Slack holds, drawn roughly as Slack would draw it (the shared channel
 * with each root message in its current state and its thread, and the direct messages per person). Pure: it
 * takes the outbox and returns one self-contained document. Every text from a message is HTML-escaped; Slack
 * mrkdwn becomes a small set of tags.
 */

export interface DemoMessage {
  ts: string;
  /** ISO UTC, from the ts. */
  time: string;
  text: string;
  blocks: unknown[] | null;
  edited: boolean;
}

export interface DemoOutbox {
  workspace: string;
  timeZone: string;
  channel: { id: string; name: string };
  users: { user_id: string; slack_user_id: string; name: string }[];
  timeline: { at: string; step: string; outcome: string; summary?: unknown }[];
  /** Root messages, oldest first; `digest` marks the daily digest. */
  channelMessages: (DemoMessage & { digest: boolean; replies: DemoMessage[] })[];
  dms: { user_id: string; slack_user_id: string; name: string; messages: DemoMessage[] }[];
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Slack's own escaping of message text (&amp; &lt; &gt;) undone, so it can be escaped once for HTML. */
function unescapeSlack(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

function safeHref(url: string): string | undefined {
  return /^(https?:|mailto:)/i.test(url) ? url : undefined;
}

/** Marks a placeholder (a Unicode private-use character, removed from the input first). */
const MARK = "\uE000";
const HELD = new RegExp(`${MARK}(\\d+)${MARK}`, "g");

/**
 * Slack mrkdwn to HTML: ``` blocks, `code`, <url|text> links, <@U…> mentions (to names), <#C…|name>,
 * <!date^…|fallback> (the fallback), <!here>, *bold*, _italic_, ~strike~. Everything else is escaped.
 */
export function mrkdwnToHtml(text: string, names: ReadonlyMap<string, string> = new Map()): string {
  // Pieces already turned into HTML wait behind placeholders while the rest is escaped and formatted.
  const pieces: string[] = [];
  const hold = (html: string) => `${MARK}${pieces.push(html) - 1}${MARK}`;
  let out = text.replaceAll(MARK, "");
  out = out.replace(/```([\s\S]*?)```/g, (_m, code: string) =>
    hold(`<pre>${escapeHtml(unescapeSlack(code.replace(/^\n/, "")))}</pre>`),
  );
  out = out.replace(/`([^`\n]+)`/g, (_m, code: string) =>
    hold(`<code>${escapeHtml(unescapeSlack(code))}</code>`),
  );
  out = out.replace(/<([^<>\n]+)>/g, (_m, inner: string) => {
    const bar = inner.indexOf("|");
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? undefined : inner.slice(bar + 1);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return hold(`<span class="mention">@${escapeHtml(names.get(id) ?? label ?? id)}</span>`);
    }
    if (target.startsWith("#")) {
      return hold(`<span class="mention">#${escapeHtml(unescapeSlack(label ?? target.slice(1)))}</span>`);
    }
    if (target.startsWith("!")) {
      const special = target.slice(1);
      if (special.startsWith("date^")) return hold(escapeHtml(unescapeSlack(label ?? "")));
      return hold(`<span class="mention">@${escapeHtml(unescapeSlack(label ?? special))}</span>`);
    }
    const url = unescapeSlack(target);
    const href = safeHref(url);
    const shown = escapeHtml(unescapeSlack(label ?? url));
    return hold(href === undefined ? shown : `<a href="${escapeHtml(href)}">${shown}</a>`);
  });
  out = escapeHtml(unescapeSlack(out));
  out = out
    .replace(/(^|[^\w*])\*([^*\n]+)\*(?![\w*])/g, "$1<b>$2</b>")
    .replace(/(^|[^\w])_([^_\n]+)_(?!\w)/g, "$1<i>$2</i>")
    .replace(/(^|[^\w~])~([^~\n]+)~(?![\w~])/g, "$1<s>$2</s>")
    .replaceAll("\n", "<br>");
  return out.replace(HELD, (_m, i: string) => pieces[Number(i)] ?? "");
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function textObject(value: unknown, names: ReadonlyMap<string, string>): string {
  if (!isObject(value) || typeof value.text !== "string") return "";
  return value.type === "mrkdwn" ? mrkdwnToHtml(value.text, names) : escapeHtml(value.text);
}

function renderBlock(block: unknown, names: ReadonlyMap<string, string>): string {
  if (!isObject(block)) return "";
  switch (block.type) {
    case "header":
      return `<div class="b-header">${textObject(block.text, names)}</div>`;
    case "section": {
      const text = block.text === undefined ? "" : `<div>${textObject(block.text, names)}</div>`;
      const fields = Array.isArray(block.fields)
        ? `<div class="b-fields">${block.fields.map((f) => `<div>${textObject(f, names)}</div>`).join("")}</div>`
        : "";
      return `<div class="b-section">${text}${fields}</div>`;
    }
    case "context": {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return `<div class="b-context">${elements.map((e) => `<span>${textObject(e, names)}</span>`).join("")}</div>`;
    }
    case "actions": {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      const buttons = elements.map((e) => {
        const label = isObject(e) ? textObject(e.text, names) : "";
        const href = isObject(e) && typeof e.url === "string" ? safeHref(e.url) : undefined;
        const style = isObject(e) && e.style === "danger" ? " danger" : "";
        return href === undefined
          ? `<span class="btn${style}">${label}</span>`
          : `<a class="btn${style}" href="${escapeHtml(href)}">${label}</a>`;
      });
      return `<div class="b-actions">${buttons.join("")}</div>`;
    }
    case "divider":
      return "<hr>";
    default:
      return "";
  }
}

function formatTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

function renderMessage(m: DemoMessage, outbox: DemoOutbox, names: ReadonlyMap<string, string>): string {
  const body =
    m.blocks !== null && m.blocks.length > 0
      ? m.blocks.map((b) => renderBlock(b, names)).join("")
      : `<div class="b-section">${mrkdwnToHtml(m.text, names)}</div>`;
  return `<div class="msg">
  <div class="avatar">ob</div>
  <div class="msg-main">
    <div class="msg-meta"><span class="author">observability</span><span class="app">APP</span>
      <span class="time">${escapeHtml(formatTime(m.time, outbox.timeZone))}</span>${m.edited ? '<span class="edited">(edited)</span>' : ""}</div>
    ${body}
  </div>
</div>`;
}

const STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d1c1d; background: #fff; display: grid; grid-template-columns: 220px 1fr 400px; min-height: 100vh; }
nav { background: #3f0e40; color: #cfc3cf; padding: 14px 0; }
nav h1 { color: #fff; font-size: 16px; margin: 0 16px 14px; }
nav h2 { font-size: 13px; font-weight: 400; margin: 14px 16px 4px; color: #bcabbc; }
nav a { display: block; color: #cfc3cf; padding: 3px 16px 3px 26px; text-decoration: none; }
nav a.active { background: #1164a3; color: #fff; }
main, aside { overflow: hidden; }
main { border-right: 1px solid #ddd; }
header.chan { padding: 12px 20px; border-bottom: 1px solid #ddd; font-weight: 700; font-size: 17px; }
header.chan small { display: block; font-weight: 400; font-size: 12px; color: #616061; }
.msg { display: flex; gap: 10px; padding: 8px 20px; }
.msg:hover { background: #f8f8f8; }
.avatar { width: 36px; height: 36px; flex: none; border-radius: 6px; background: #2eb67d; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; font-size: 13px; }
.msg-main { min-width: 0; flex: 1; }
.msg-meta { margin-bottom: 2px; }
.author { font-weight: 700; margin-right: 4px; }
.app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 3px; border-radius: 2px; margin-right: 6px; }
.time, .edited { color: #616061; font-size: 12px; margin-right: 4px; }
.b-header { font-weight: 700; font-size: 16px; margin: 2px 0 4px; }
.b-section { margin: 3px 0; overflow-wrap: anywhere; }
.b-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; margin-top: 4px; }
.b-context { color: #616061; font-size: 12px; margin: 4px 0; }
.b-context span + span::before { content: " · "; }
.b-actions { margin: 6px 0; display: flex; gap: 8px; flex-wrap: wrap; }
.btn { border: 1px solid #bbb; border-radius: 4px; padding: 2px 10px; font-size: 13px; font-weight: 700;
  color: #1d1c1d; text-decoration: none; background: #fff; }
.btn.danger { color: #e01e5a; }
pre { background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; margin: 4px 0;
  white-space: pre-wrap; font-size: 12px; }
code { background: #f4ecec; color: #c01343; border-radius: 3px; padding: 0 3px; font-size: 12px; }
a { color: #1264a3; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
hr { border: 0; border-top: 1px solid #eee; }
.thread { margin: 0 20px 10px 66px; border-left: 3px solid #e0e0e0; }
.thread .msg { padding: 4px 12px; }
.thread .avatar { width: 24px; height: 24px; font-size: 10px; }
.replies { color: #1264a3; font-size: 12px; font-weight: 700; margin: 0 20px 2px 66px; }
aside h3 { margin: 0; padding: 12px 16px; border-bottom: 1px solid #ddd; border-top: 1px solid #ddd; font-size: 15px; background: #fafafa; }
aside h4 { margin: 12px 16px 0; font-size: 14px; }
aside .msg { padding: 6px 16px; }
.timeline { margin: 8px 16px 16px; font-size: 12px; color: #616061; border-collapse: collapse; }
.timeline td { padding: 1px 6px 1px 0; vertical-align: top; }
`;

/** The whole page, with no external resource. */
export function renderDemoPage(outbox: DemoOutbox): string {
  const names = new Map(outbox.users.map((u) => [u.slack_user_id, u.name]));
  const channel = outbox.channelMessages
    .map((root) => {
      const thread =
        root.replies.length === 0
          ? ""
          : `<div class="replies">${root.replies.length} ${root.replies.length === 1 ? "reply" : "replies"}</div>
<div class="thread">${root.replies.map((r) => renderMessage(r, outbox, names)).join("\n")}</div>`;
      return `<section class="root" id="m${escapeHtml(root.ts)}">${renderMessage(root, outbox, names)}${thread}</section>`;
    })
    .join("\n");
  const dms = outbox.dms
    .map(
      (u) => `<section class="dm" id="dm-${escapeHtml(u.user_id)}"><h4>${escapeHtml(u.name)}</h4>
${u.messages.map((m) => renderMessage(m, outbox, names)).join("\n")}</section>`,
    )
    .join("\n");
  const timeline = outbox.timeline
    .map(
      (t) =>
        `<tr><td>${escapeHtml(formatTime(t.at, outbox.timeZone))}</td><td>${escapeHtml(t.step)}</td><td>${escapeHtml(t.outcome)}</td></tr>`,
    )
    .join("");
  // Pinned, as a team would pin it: the latest digest (it is in the channel as well).
  const digest = outbox.channelMessages.filter((m) => m.digest).at(-1);
  const pinned =
    digest === undefined ? "" : `<h3>📌 Pinned: the daily digest</h3>${renderMessage(digest, outbox, names)}`;
  const dmLinks = outbox.dms
    .map((u) => `<a href="#dm-${escapeHtml(u.user_id)}">${escapeHtml(u.name)}</a>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>observability demo: #${escapeHtml(outbox.channel.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<nav>
  <h1>${escapeHtml(outbox.workspace)}</h1>
  <h2>Channels</h2>
  <a class="active" href="#channel"># ${escapeHtml(outbox.channel.name)}</a>
  <h2>Direct messages</h2>
  ${dmLinks}
</nav>
<main id="channel">
  <header class="chan"># ${escapeHtml(outbox.channel.name)}
    <small>${outbox.channelMessages.length} messages from the observability app · times in ${escapeHtml(outbox.timeZone)} · simulated by <code>observability demo</code></small></header>
  ${channel}
</main>
<aside>
  ${pinned}
  <h3>Direct messages</h3>
  ${dms}
  <h3>What happened (simulated)</h3>
  <table class="timeline">${timeline}</table>
</aside>
</body>
</html>
`;
}
