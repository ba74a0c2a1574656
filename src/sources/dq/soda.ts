/**
 * Soda scan results (`soda scan … -srf results.json`, the scan-results dictionary of Soda Core / Soda
 * Library v3) → DqResults. Pure; never throws.
 *
 * Fields read: `definitionName, defaultDataSource, dataTimestamp, scanStartTimestamp, scanEndTimestamp,
 * hasErrors, checks[{identity, identities{v1..}, name, type, definition, resourceAttributes[{name, value}],
 * location, dataSource, table, filter, column, outcome, outcomeReasons[{code, message, severity}],
 * diagnostics{value, fail{greaterThan, …}, warn{…}, blocks[]}}], logs[{level, message}]`.
 *
 * Decisions:
 * - One result per check; `testId` = the check's `identity` (else its newest `identities` entry, else a
 *   digest of data source, table, column and definition). Outcome `pass`/`warn`/`fail` as given; a check
 *   sent with a null outcome (Soda does that only with outcome reasons) is an `error`.
 * - Plus one scan-level result, testId `soda-scan:{definitionName or data source}`, testType `scan`:
 *   `error` with the ERROR log lines when the scan had errors (a check whose query failed is not in
 *   `checks` at all), `pass` otherwise so that the next clean scan closes it.
 * - `testType`: the check's `type` when it is not "generic", else the metric the check line starts with
 *   (`missing_count(email) = 0` → missing_count, `failed rows` → failed_rows).
 * - `failures`: a failed-rows block's `totalFailingRows`, else the diagnostic value when the metric counts
 *   bad rows (missing_count, invalid_count, duplicate_count, failed_rows).
 * - `meta`: the check's attributes (`resourceAttributes`) as an object.
 * - `invocationId` = `{definitionName}@{scanEndTimestamp UTC}`, else `sha256:` + a digest of the file;
 *   `occurredAt` = scanEndTimestamp (else scanStartTimestamp, dataTimestamp) in UTC.
 */
import type { JsonObject } from "../../core/types.js";
import {
  count,
  digest,
  isObj,
  type Obj,
  obj,
  parseJsonObject,
  parseOrProblem,
  problem,
  show,
  stableJson,
  str,
  toJson,
  toUtcIso,
} from "./json.js";
import type { DqOutcome, DqParseResult, DqResult } from "./types.js";

export function parseSodaScan(input: { text: string; path: string }): DqParseResult {
  return parseOrProblem(input.path, () => parseFile(input.text, input.path));
}

function parseFile(text: string, path: string): DqParseResult {
  const scan = parseJsonObject(text);
  if (typeof scan === "string") return problem(path, scan);
  if (!Array.isArray(scan.checks)) {
    return problem(
      path,
      "not a Soda scan results file: no checks array (write it with soda scan -srf <file>)",
    );
  }
  const occurredAt =
    toUtcIso(scan.scanEndTimestamp) ?? toUtcIso(scan.scanStartTimestamp) ?? toUtcIso(scan.dataTimestamp);
  if (!occurredAt) {
    return problem(path, `the scan has no valid scanEndTimestamp (found ${describe(scan.scanEndTimestamp)})`);
  }
  const definitionName = str(scan.definitionName);
  const defaultDataSource = str(scan.defaultDataSource);
  const invocationId = definitionName ? `${definitionName}@${occurredAt}` : `sha256:${digest(text)}`;
  const common: JsonObject = {
    scan_definition: definitionName,
    data_timestamp: toUtcIso(scan.dataTimestamp),
    scan_started_at: toUtcIso(scan.scanStartTimestamp),
  };

  const results: DqResult[] = [];
  for (const raw of scan.checks) {
    if (!isObj(raw)) continue;
    results.push(checkResult(raw, { occurredAt, invocationId, defaultDataSource, common }));
  }
  results.push(scanResult(scan, { occurredAt, invocationId, definitionName, defaultDataSource, common }));
  return { ok: true, invocationId, results };
}

interface Context {
  occurredAt: string;
  invocationId: string;
  defaultDataSource: string | null;
  common: JsonObject;
}

function checkResult(check: Obj, ctx: Context): DqResult {
  const definition = str(check.definition);
  const line = definition ? checkLine(definition) : null;
  const dataSource = str(check.dataSource) ?? ctx.defaultDataSource;
  const table = str(check.table);
  const column = str(check.column);
  const identities = obj(check.identities);
  const newestIdentity = Object.keys(identities)
    .sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))
    .map((key) => str(identities[key]))
    .find((v) => v !== null);
  const testId =
    str(check.identity) ??
    newestIdentity ??
    `soda:${digest(stableJson({ dataSource, table, column, definition }))}`;
  const name = str(check.name) ?? line ?? testId;
  const type = str(check.type);
  const testType = type && type !== "generic" ? type : metricOf(line ?? str(check.name) ?? "");
  const diagnostics = obj(check.diagnostics);
  const reasons = Array.isArray(check.outcomeReasons) ? check.outcomeReasons.map(obj) : [];
  const outcome = outcomeOf(check.outcome);

  return {
    tool: "soda",
    testId,
    testName: name,
    kind: "test",
    outcome,
    testType,
    model: table,
    column,
    message: outcome === "pass" ? null : messageOf(outcome, diagnostics, reasons, line ?? name),
    failures: failuresOf(testType, diagnostics),
    occurredAt: ctx.occurredAt,
    invocationId: ctx.invocationId,
    meta: attributes(check.resourceAttributes),
    tags: [],
    details: {
      ...ctx.common,
      soda_outcome: str(check.outcome),
      check_type: type,
      definition,
      data_source: dataSource,
      filter: str(check.filter),
      location: toJson(check.location ?? null),
      value: toJson(diagnostics.value ?? null),
      fail_when: toJson(diagnostics.fail ?? null),
      warn_when: toJson(diagnostics.warn ?? null),
      outcome_reasons: toJson(reasons),
    },
  };
}

function scanResult(scan: Obj, ctx: Context & { definitionName: string | null }): DqResult {
  const logs = Array.isArray(scan.logs) ? scan.logs.map(obj) : [];
  const errors = logs
    .filter((log) => str(log.level)?.toLowerCase() === "error")
    .map((log) => str(log.message))
    .filter((m): m is string => m !== null);
  const failed = errors.length > 0 || scan.hasErrors === true;
  const name = ctx.definitionName ?? ctx.defaultDataSource ?? "scan";
  return {
    tool: "soda",
    testId: `soda-scan:${name}`,
    testName: `Soda scan ${name}`,
    kind: "test",
    outcome: failed ? "error" : "pass",
    testType: "scan",
    model: null,
    column: null,
    message: failed
      ? errors.length > 0
        ? [...new Set(errors)].join("\n")
        : "the scan reported errors"
      : null,
    failures: null,
    occurredAt: ctx.occurredAt,
    invocationId: ctx.invocationId,
    meta: {},
    tags: [],
    details: {
      ...ctx.common,
      data_source: ctx.defaultDataSource,
      has_errors: typeof scan.hasErrors === "boolean" ? scan.hasErrors : null,
      has_warnings: typeof scan.hasWarnings === "boolean" ? scan.hasWarnings : null,
      has_failures: typeof scan.hasFailures === "boolean" ? scan.hasFailures : null,
      error_logs: errors.length,
    },
  };
}

function outcomeOf(value: unknown): DqOutcome {
  switch (typeof value === "string" ? value.toLowerCase() : null) {
    case "pass":
      return "pass";
    case "warn":
      return "warn";
    case "fail":
      return "fail";
    default:
      return "error";
  }
}

const BOUND: Record<string, string> = {
  greaterThan: ">",
  greaterThanOrEqual: ">=",
  lessThan: "<",
  lessThanOrEqual: "<=",
};

/** `{greaterThan: 0}` → "> 0"; several bounds are listed ("< 10, > 100"). */
function condition(value: unknown): string | null {
  const parts = Object.entries(obj(value))
    .filter(([key, bound]) => BOUND[key] !== undefined && typeof bound === "number")
    .map(([key, bound]) => `${BOUND[key]} ${String(bound)}`);
  return parts.length > 0 ? parts.join(", ") : null;
}

function messageOf(outcome: DqOutcome, diagnostics: Obj, reasons: Obj[], line: string): string {
  if (outcome === "error") {
    const texts = reasons.map((r) => str(r.message)).filter((m): m is string => m !== null);
    return texts.length > 0 ? texts.join("; ") : `${line}: the check was not evaluated`;
  }
  const value = diagnostics.value;
  const failWhen = condition(diagnostics.fail);
  const warnWhen = condition(diagnostics.warn);
  const when = [failWhen && `fails when ${failWhen}`, warnWhen && `warns when ${warnWhen}`].filter(Boolean);
  if (value !== undefined && value !== null) {
    return `value ${show(value)}${when.length > 0 ? ` (${when.join("; ")})` : ""}`;
  }
  return `${line}: ${outcome === "warn" ? "warned" : "failed"}`;
}

/** Soda metrics whose value is a number of bad rows. */
const BAD_ROW_METRICS = new Set(["missing_count", "invalid_count", "duplicate_count", "failed_rows"]);

function failuresOf(testType: string | null, diagnostics: Obj): number | null {
  const blocks = Array.isArray(diagnostics.blocks) ? diagnostics.blocks.map(obj) : [];
  for (const block of blocks) {
    const total = count(block.totalFailingRows);
    if (total !== null) return total;
  }
  return testType !== null && BAD_ROW_METRICS.has(testType) ? count(diagnostics.value) : null;
}

/** The check line of a definition: "checks for orders:\n  - missing_count(email) = 0" → its second line. */
function checkLine(definition: string): string | null {
  const lines = definition.split("\n").map((l) => l.trim());
  const line = lines.slice(1).find((l) => l !== "") ?? lines[0] ?? "";
  const cleaned = line.replace(/^-\s*/, "").replace(/:$/, "").trim();
  return cleaned === "" ? null : cleaned;
}

/** "missing_count(email) = 0" → missing_count; "failed rows" → failed_rows; "schema" → schema. */
function metricOf(line: string): string | null {
  const match = /^([A-Za-z_]+(?: [A-Za-z_]+)*?)\s*(?:\(|[<>=!]|\bbetween\b|\bnot\b|:|$)/.exec(line.trim());
  return match?.[1] ? match[1].toLowerCase().replaceAll(" ", "_") : null;
}

function attributes(value: unknown): Record<string, unknown> {
  if (!Array.isArray(value)) return {};
  return Object.fromEntries(
    value
      .map(obj)
      .filter((a) => str(a.name) !== null)
      .map((a) => [a.name as string, a.value ?? null]),
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  return show(value);
}
