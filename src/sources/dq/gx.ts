/**
 * Great Expectations validation results → DqResults. Pure; never throws.
 *
 * Shapes accepted (one JSON file each):
 * - a suite validation result, 0.x (`expectation_config.expectation_type`, suite name in
 *   `meta.expectation_suite_name`) or 1.x (`expectation_config.type`, top-level `suite_name`, `id`);
 * - a checkpoint result: `{run_id, run_results: {<key>: …}, checkpoint_config, success}`, whose values are
 *   `{validation_result, actions_results}` (0.x) or the validation result itself (1.x).
 *
 * Fields read: `results[].{success, expectation_config{type | expectation_type, kwargs, meta, id, severity,
 * description}, result{unexpected_count, element_count, unexpected_percent, observed_value}, exception_info}`
 * and `meta.{expectation_suite_name, run_id{run_name, run_time}, validation_time, active_batch_definition
 * {datasource_name, data_asset_name}, batch_kwargs, batch_spec, checkpoint_name, great_expectations_version}`.
 *
 * Decisions:
 * - `testId` = `{suite}:{expectation type}:{digest}`, the digest (sha256, 12 hex) of the sorted JSON of
 *   the kwargs plus the datasource and data asset: the same suite run on two assets gives two tests.
 *   Kwargs that do not change what is tested are left out (`batch_id`, which 1.x adds per batch,
 *   `result_format`, `include_config`, `catch_exceptions`).
 * - outcome: `exception_info.raised_exception` (0.x/1.x single form, or the 0.13+ per-metric map) → error;
 *   `success: true` → pass; `success: false` → fail, or warn when the expectation's 1.x `severity` is
 *   `warning`/`info`; `success: null` without an exception → error.
 * - `invocationId` = the validation result's 1.x `id` when present, else `{run_name}@{run_time}` (UTC),
 *   else the checkpoint's run id, else `sha256:` + a digest of the file.
 * - `occurredAt` = `meta.validation_time` (0.x writes `20240305T061502.123456Z`), else `run_id.run_time`.
 * - `message` (fail/warn/error only): the exception message, or "12 of 1000 values unexpected (1.2%)",
 *   or "observed value 0 (expected between 1 and 5000)".
 */
import type { JsonObject } from "../../core/types.js";
import {
  count,
  digest,
  isObj,
  num,
  type Obj,
  obj,
  parseJsonObject,
  parseOrProblem,
  problem,
  show,
  stableJson,
  str,
  strings,
  toJson,
  toUtcIso,
} from "./json.js";
import type { DqOutcome, DqParseResult, DqResult } from "./types.js";

const NON_IDENTITY_KWARGS = new Set(["batch_id", "result_format", "include_config", "catch_exceptions"]);

export function parseGxValidation(input: { text: string; path: string }): DqParseResult {
  return parseOrProblem(input.path, () => parseFile(input.text, input.path));
}

function parseFile(text: string, path: string): DqParseResult {
  const root = parseJsonObject(text);
  if (typeof root === "string") return problem(path, root);

  let validations: Obj[];
  let checkpoint: { runId: string | null; runTime: string | null; name: string | null } | null = null;
  if (isObj(root.run_results)) {
    const runId = obj(root.run_id);
    checkpoint = {
      runId: runIdentity(runId),
      runTime: gxTimeToUtcIso(runId.run_time),
      name: str(obj(root.checkpoint_config).name),
    };
    validations = Object.values(root.run_results).map((entry) => {
      const value = obj(entry);
      return isObj(value.validation_result) ? value.validation_result : value;
    });
    if (validations.length === 0) return problem(path, "the GX checkpoint result has no run_results");
  } else if (Array.isArray(root.results)) {
    validations = [root];
  } else if (Array.isArray(root.expectations)) {
    return problem(path, "this is a GX expectation suite, not a validation result (no results array)");
  } else {
    return problem(
      path,
      "not a GX validation or checkpoint result: no results array and no run_results object",
    );
  }

  const results: DqResult[] = [];
  let firstInvocation: string | null = null;
  for (const [index, validation] of validations.entries()) {
    const where = validations.length > 1 ? `validation ${index + 1}: ` : "";
    const parsed = parseValidation(validation, checkpoint, text);
    if (typeof parsed === "string") return problem(path, `${where}${parsed}`);
    firstInvocation ??= parsed.invocationId;
    results.push(...parsed.results);
  }
  return {
    ok: true,
    invocationId: checkpoint?.runId ?? firstInvocation ?? `sha256:${digest(text)}`,
    results,
  };
}

function parseValidation(
  validation: Obj,
  checkpoint: { runId: string | null; runTime: string | null; name: string | null } | null,
  text: string,
): { invocationId: string; results: DqResult[] } | string {
  const meta = obj(validation.meta);
  const suite = str(validation.suite_name) ?? str(meta.expectation_suite_name);
  if (!suite) return "the validation result names no suite (suite_name / meta.expectation_suite_name)";
  if (!Array.isArray(validation.results)) return "the validation result has no results array";
  const runId = obj(meta.run_id);
  const occurredAt =
    gxTimeToUtcIso(meta.validation_time) ?? gxTimeToUtcIso(runId.run_time) ?? checkpoint?.runTime ?? null;
  if (!occurredAt) {
    return `the validation result of suite ${suite} has no valid meta.validation_time or meta.run_id.run_time`;
  }
  const invocationId =
    str(validation.id) ?? runIdentity(runId) ?? checkpoint?.runId ?? `sha256:${digest(text)}`;
  const batch = obj(meta.active_batch_definition);
  const batchKwargs = obj(meta.batch_kwargs);
  const batchSpec = obj(meta.batch_spec);
  const datasource =
    str(batch.datasource_name) ?? str(batchKwargs.datasource) ?? str(batchSpec.datasource_name);
  const asset =
    str(batch.data_asset_name) ??
    str(batchKwargs.data_asset_name) ??
    str(batchSpec.data_asset_name) ??
    str(batchSpec.table_name) ??
    str(batchKwargs.table);
  const common: JsonObject = {
    suite_name: suite,
    datasource,
    checkpoint_name: str(meta.checkpoint_name) ?? checkpoint?.name ?? null,
    run_name: str(runId.run_name),
    run_time: gxTimeToUtcIso(runId.run_time),
    validation_id: str(validation.id),
    gx_version: str(meta.great_expectations_version),
  };

  const results: DqResult[] = [];
  for (const [index, raw] of validation.results.entries()) {
    const entry = obj(raw);
    const config = obj(entry.expectation_config);
    const type = str(config.type) ?? str(config.expectation_type);
    if (!type) {
      return `result ${index + 1} of suite ${suite} has no expectation_config type (validate with include_config=True)`;
    }
    const kwargs = obj(config.kwargs);
    const identityKwargs = Object.fromEntries(
      Object.entries(kwargs).filter(([key]) => !NON_IDENTITY_KWARGS.has(key)),
    );
    const column = str(kwargs.column);
    const result = obj(entry.result);
    const severity = str(config.severity)?.toLowerCase() ?? null;
    const exception = exceptionMessage(entry.exception_info);
    const outcome = outcomeOf(entry.success, exception, severity);
    results.push({
      tool: "gx",
      testId: `${suite}:${type}:${digest(stableJson({ datasource, asset, kwargs: identityKwargs }))}`,
      testName: str(config.description) ?? (column ? `${type}(${column})` : type),
      kind: "test",
      outcome,
      testType: type,
      model: asset,
      column,
      message: outcome === "pass" ? null : (exception ?? describeResult(result, kwargs)),
      failures: count(result.unexpected_count),
      occurredAt,
      invocationId,
      meta: { ...obj(entry.meta), ...obj(config.meta) },
      tags: strings(obj(config.meta).tags),
      details: {
        ...common,
        expectation_id: str(config.id),
        severity,
        success: typeof entry.success === "boolean" ? entry.success : null,
        kwargs: toJson(Object.fromEntries(Object.entries(kwargs).filter(([key]) => key !== "result_format"))),
        observed_value: toJson(result.observed_value ?? null),
        element_count: count(result.element_count),
        unexpected_count: count(result.unexpected_count),
        unexpected_percent: num(result.unexpected_percent),
      },
    });
  }
  return { invocationId, results };
}

function outcomeOf(success: unknown, exception: string | null, severity: string | null): DqOutcome {
  if (exception !== null) return "error";
  if (success === true) return "pass";
  if (success === false) return severity === "warning" || severity === "info" ? "warn" : "fail";
  return "error";
}

/** The message of a raised exception: `{raised_exception, exception_message}` or a map of those by metric. */
function exceptionMessage(value: unknown): string | null {
  const info = obj(value);
  if (typeof info.raised_exception === "boolean") {
    return info.raised_exception
      ? (str(info.exception_message) ?? "the expectation raised an exception")
      : null;
  }
  const messages = Object.values(info)
    .map(obj)
    .filter((v) => v.raised_exception === true)
    .map((v) => str(v.exception_message) ?? "the expectation raised an exception");
  return messages.length > 0 ? [...new Set(messages)].join("; ") : null;
}

function describeResult(result: Obj, kwargs: Obj): string | null {
  const unexpected = count(result.unexpected_count);
  const elements = count(result.element_count);
  if (unexpected !== null) {
    if (elements === null) return `${unexpected} unexpected values`;
    const percent = num(result.unexpected_percent) ?? (elements > 0 ? (unexpected / elements) * 100 : 0);
    return `${unexpected} of ${elements} values unexpected (${Number(percent.toFixed(2))}%)`;
  }
  if (Object.hasOwn(result, "observed_value")) {
    const min = kwargs.min_value;
    const max = kwargs.max_value;
    const expected =
      min !== undefined && min !== null && max !== undefined && max !== null
        ? ` (expected between ${show(min)} and ${show(max)})`
        : min !== undefined && min !== null
          ? ` (expected at least ${show(min)})`
          : max !== undefined && max !== null
            ? ` (expected at most ${show(max)})`
            : kwargs.value !== undefined
              ? ` (expected ${show(kwargs.value)})`
              : "";
    return `observed value ${show(result.observed_value)}${expected}`;
  }
  return null;
}

/** `{run_name, run_time}` → "name@2024-03-05T06:15:02.000Z" (or the time alone). */
function runIdentity(runId: Obj): string | null {
  const time = gxTimeToUtcIso(runId.run_time);
  const name = str(runId.run_name);
  if (name && time) return `${name}@${time}`;
  return name ?? time;
}

/**
 * ISO 8601 time → ISO UTC (milliseconds), as toUtcIso; also GX's compact form `20240305T061502.123456Z`
 * (with or without the Z: UTC either way).
 */
function gxTimeToUtcIso(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d+)?(Z?)$/i.exec(text);
  if (!compact) return toUtcIso(text);
  const [, y, mo, d, h, mi, s, frac] = compact;
  return toUtcIso(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac ?? ""}Z`);
}
