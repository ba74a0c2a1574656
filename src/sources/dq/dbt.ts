/**
 * dbt artifacts → DqResults. One invocation is a `run_results.json` (schema v4 to v6) read together with
 * the `manifest.json` (v10 or later) written by the same invocation. Pure: text in, results out; never throws.
 *
 * Fields read. run_results: `metadata.{dbt_schema_version, dbt_version, generated_at, invocation_id}`,
 * `results[].{unique_id, status, message, failures, timing[{name, completed_at}], execution_time,
 * thread_id, relation_name}`. manifest: `metadata.{dbt_schema_version, invocation_id}`, `nodes`,
 * `sources`, `unit_tests` keyed by unique_id, each with `resource_type, name, package_name,
 * original_file_path, test_metadata{name, namespace, kwargs}, column_name, attached_node,
 * depends_on.nodes, meta, config.{meta, tags, severity}, tags` (sources also `source_name, source_meta`,
 * unit tests `model`).
 *
 * Decisions:
 * - Tests keep every outcome (pass and skipped too: recovery needs the passes); other nodes (models,
 *   seeds, snapshots, hooks) appear only when they errored (`error`, `runtime error`, `partial success`),
 *   as kind "node". An unknown test status is reported as an error, with the status in `details.status`.
 * - `meta` = the node's `meta` overlaid by `config.meta` (config wins: it is where dbt ≥ 1.10 keeps it and
 *   where a test's own `config: meta:` lands). A test then inherits key by key from the tested model's
 *   meta: any key the test does not set (typically `agency`, `owner`) comes from the model;
 *   `details.meta_inherited_from` names the model when that happened.
 * - `occurredAt` = the `execute` timing's `completed_at`, else `metadata.generated_at`; ISO UTC with
 *   millisecond precision (dbt writes microseconds); a time without an offset is UTC.
 * - `invocationId` = `metadata.invocation_id`, else `sha256:` + a digest of the run_results text.
 */
import type { JsonObject } from "../../core/types.js";
import {
  count,
  digest,
  isObj,
  num,
  type Obj,
  obj,
  parseOrProblem,
  problem,
  str,
  strings,
  toUtcIso,
} from "./json.js";
import type { DqOutcome, DqParseResult, DqResult } from "./types.js";

export const SUPPORTED_RUN_RESULTS_VERSIONS: readonly number[] = [4, 5, 6];
/** The oldest manifest whose test nodes carry `attached_node` (dbt 1.6). */
export const MIN_MANIFEST_VERSION = 10;

export interface DbtInvocationInput {
  runResultsText: string;
  /** null when the invocation directory has no manifest.json. */
  manifestText: string | null;
  /** The invocation directory (or its run_results.json): named in problems. */
  path: string;
}

export function parseDbtInvocation(input: DbtInvocationInput): DqParseResult {
  return parseOrProblem(input.path, () => parseInvocation(input));
}

function parseInvocation({ runResultsText, manifestText, path }: DbtInvocationInput): DqParseResult {
  const runResults = parseArtifact(runResultsText, "run_results.json");
  if (typeof runResults === "string") return problem(path, runResults);
  const rrMeta = obj(runResults.metadata);
  const rrSchema = schemaVersion(rrMeta.dbt_schema_version);
  if (!rrSchema) {
    return problem(
      path,
      `run_results.json has no recognisable metadata.dbt_schema_version (found ${describe(rrMeta.dbt_schema_version)}); ` +
        "expected https://schemas.getdbt.com/dbt/run-results/v4.json, v5 or v6",
    );
  }
  if (rrSchema.kind !== "run-results") {
    return problem(
      path,
      `run_results.json is a dbt ${rrSchema.kind} artifact (v${rrSchema.version}), not run results`,
    );
  }
  if (!SUPPORTED_RUN_RESULTS_VERSIONS.includes(rrSchema.version)) {
    return problem(
      path,
      `run_results.json has schema v${rrSchema.version} (${String(rrMeta.dbt_schema_version)}); ` +
        `supported run-results schemas are ${SUPPORTED_RUN_RESULTS_VERSIONS.map((v) => `v${v}`).join(", ")}`,
    );
  }
  if (!Array.isArray(runResults.results)) {
    return problem(path, "run_results.json has no results array");
  }
  const generatedAt = toUtcIso(rrMeta.generated_at);
  if (!generatedAt) {
    return problem(
      path,
      `run_results.json has no valid metadata.generated_at (found ${describe(rrMeta.generated_at)})`,
    );
  }
  if (manifestText === null) {
    return problem(
      path,
      "manifest.json is missing next to run_results.json: copy the manifest.json written by the same dbt invocation " +
        "(target/manifest.json) into the directory",
    );
  }
  const manifest = parseArtifact(manifestText, "manifest.json");
  if (typeof manifest === "string") return problem(path, manifest);
  const mMeta = obj(manifest.metadata);
  const mSchema = schemaVersion(mMeta.dbt_schema_version);
  if (mSchema?.kind !== "manifest") {
    return problem(
      path,
      `manifest.json has no recognisable manifest metadata.dbt_schema_version (found ${describe(mMeta.dbt_schema_version)})`,
    );
  }
  if (mSchema.version < MIN_MANIFEST_VERSION) {
    return problem(
      path,
      `manifest.json has schema v${mSchema.version}; manifest v${MIN_MANIFEST_VERSION} or later (dbt 1.6+) is required: ` +
        "upgrade dbt or regenerate the artifacts",
    );
  }

  const invocationId = str(rrMeta.invocation_id) ?? `sha256:${digest(runResultsText)}`;
  const manifestInvocationId = str(mMeta.invocation_id);
  const context: Context = {
    manifest,
    invocationId,
    generatedAt,
    common: {
      dbt_version: str(rrMeta.dbt_version),
      run_results_schema: rrSchema.version,
      manifest_schema: mSchema.version,
      // A manifest from another invocation still describes the tests, but may be stale.
      manifest_from_other_invocation:
        manifestInvocationId !== null &&
        str(rrMeta.invocation_id) !== null &&
        manifestInvocationId !== invocationId,
    },
  };
  const results: DqResult[] = [];
  for (const raw of runResults.results) {
    const result = toResult(obj(raw), context);
    if (result) results.push(result);
  }
  return { ok: true, invocationId, results };
}

interface Context {
  manifest: Obj;
  invocationId: string;
  generatedAt: string;
  common: JsonObject;
}

function toResult(raw: Obj, ctx: Context): DqResult | null {
  const uniqueId = str(raw.unique_id);
  if (!uniqueId) return null;
  const status = (str(raw.status) ?? "").toLowerCase();
  const node = findNode(ctx.manifest, uniqueId);
  const resourceType = str(node?.resource_type) ?? uniqueId.split(".")[0] ?? "";
  const isTest = resourceType === "test" || resourceType === "unit_test";
  const outcome = isTest ? testOutcome(status) : nodeOutcome(status);
  if (!outcome) return null;

  const config = obj(node?.config);
  const ownMeta = nodeMeta(node);
  const tested = isTest && node ? testedModel(node, ctx.manifest) : null;
  const modelNode = tested?.uniqueId ? findNode(ctx.manifest, tested.uniqueId) : null;
  const inherited = modelNode ? nodeMeta(modelNode) : {};
  const inheritedKeys = Object.keys(inherited).filter((key) => !Object.hasOwn(ownMeta, key));
  const testMetadata = obj(node?.test_metadata);
  const kwargs = obj(testMetadata.kwargs);

  return {
    tool: "dbt",
    testId: uniqueId,
    testName: str(node?.name) ?? lastSegment(uniqueId),
    kind: isTest ? "test" : "node",
    outcome,
    testType: isTest
      ? resourceType === "unit_test"
        ? "unit_test"
        : (str(testMetadata.name) ?? "singular")
      : resourceType || null,
    model: isTest ? (tested?.name ?? null) : (str(node?.name) ?? lastSegment(uniqueId)),
    column: isTest ? (str(node?.column_name) ?? str(kwargs.column_name)) : null,
    message: str(raw.message),
    failures: count(raw.failures),
    occurredAt: executeCompletedAt(raw.timing) ?? ctx.generatedAt,
    invocationId: ctx.invocationId,
    meta: inheritedKeys.length > 0 ? { ...inherited, ...ownMeta } : ownMeta,
    tags: nodeTags(node),
    details: {
      status: str(raw.status),
      resource_type: resourceType || null,
      severity: str(config.severity)?.toLowerCase() ?? null,
      execution_time: num(raw.execution_time),
      relation_name: str(raw.relation_name),
      test_namespace: str(testMetadata.namespace),
      model_unique_id: tested?.uniqueId ?? null,
      package_name: str(node?.package_name),
      original_file_path: str(node?.original_file_path),
      in_manifest: node !== null,
      meta_inherited_from: inheritedKeys.length > 0 ? (tested?.uniqueId ?? null) : null,
      ...ctx.common,
    },
  };
}

function testOutcome(status: string): DqOutcome {
  switch (status) {
    case "pass":
    case "success":
      return "pass";
    case "fail":
      return "fail";
    case "warn":
      return "warn";
    case "skipped":
    case "no-op":
      return "skipped";
    default:
      // error, runtime error, and anything this parser does not know: surface it rather than drop it.
      return "error";
  }
}

/** Models, seeds, snapshots and hooks are reported only when they errored. */
function nodeOutcome(status: string): DqOutcome | null {
  return status === "error" || status === "runtime error" || status === "partial success" ? "error" : null;
}

function findNode(manifest: Obj, uniqueId: string): Obj | null {
  for (const collection of ["nodes", "unit_tests", "sources"]) {
    const table = manifest[collection];
    if (isObj(table) && Object.hasOwn(table, uniqueId)) {
      const node = table[uniqueId];
      if (isObj(node)) return node;
    }
  }
  return null;
}

const TESTABLE = new Set(["model", "seed", "snapshot", "source"]);

/** The model (seed, snapshot, source) a test is attached to: attached_node, depends_on, kwargs.model. */
function testedModel(test: Obj, manifest: Obj): { name: string; uniqueId: string | null } | null {
  const candidates: string[] = [];
  const attached = str(test.attached_node);
  if (attached) candidates.push(attached);
  const dependsOn = obj(test.depends_on).nodes;
  if (Array.isArray(dependsOn)) {
    for (const id of dependsOn) {
      if (typeof id === "string" && TESTABLE.has(id.split(".")[0] ?? "")) candidates.push(id);
    }
  }
  const first = candidates[0];
  if (first) {
    const node = findNode(manifest, first);
    return { name: (node && displayName(node)) ?? lastSegment(first), uniqueId: first };
  }
  const unitTestModel = str(test.model);
  if (unitTestModel) return { name: unitTestModel, uniqueId: null };
  const kwargModel = str(obj(obj(test.test_metadata).kwargs).model);
  const fromKwarg = kwargModel ? modelFromRefText(kwargModel) : null;
  return fromKwarg ? { name: fromKwarg, uniqueId: null } : null;
}

/** `{{ get_where_subquery(ref('orders')) }}` → orders; `source('raw', 'orders')` → raw.orders. */
function modelFromRefText(text: string): string | null {
  const source = /source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]/.exec(text);
  if (source) return `${source[1]}.${source[2]}`;
  const ref = /ref\(\s*['"]([^'"]+)['"]/.exec(text);
  return ref?.[1] ?? null;
}

function displayName(node: Obj): string | null {
  const name = str(node.name);
  const sourceName = str(node.source_name);
  return str(node.resource_type) === "source" && sourceName && name ? `${sourceName}.${name}` : name;
}

function nodeMeta(node: Obj | null): Record<string, unknown> {
  if (!node) return {};
  return { ...obj(node.source_meta), ...obj(node.meta), ...obj(obj(node.config).meta) };
}

function nodeTags(node: Obj | null): string[] {
  if (!node) return [];
  const configTags = obj(node.config).tags;
  const all = [
    ...strings(node.tags),
    ...(typeof configTags === "string" ? [configTags] : strings(configTags)),
  ];
  return [...new Set(all)];
}

function executeCompletedAt(timing: unknown): string | null {
  if (!Array.isArray(timing)) return null;
  for (const step of timing) {
    const entry = obj(step);
    if (entry.name === "execute") return toUtcIso(entry.completed_at);
  }
  return null;
}

/** "https://schemas.getdbt.com/dbt/run-results/v5.json" → { kind: "run-results", version: 5 }. */
function schemaVersion(value: unknown): { kind: string; version: number } | null {
  const text = str(value);
  const match = text ? /\/dbt\/([A-Za-z_-]+)\/v(\d{1,6})(?:\.json)?\/?$/.exec(text.trim()) : null;
  return match?.[1] && match[2] ? { kind: match[1], version: Number(match[2]) } : null;
}

function lastSegment(uniqueId: string): string {
  return uniqueId.split(".").at(-1) || uniqueId;
}

// ---- dbt's own JSON helpers: its messages name the artifact and what was found ----

/** The parsed artifact object, or a sentence naming the file and saying why it is not one. */
function parseArtifact(text: string, file: string): Obj | string {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return `${file} is not valid JSON (truncated or corrupt?): ${detail}`;
  }
  return isObj(value) ? value : `${file} does not hold a JSON object (found ${describe(value)})`;
}

/** A value for a message, always as JSON (so strings are quoted); at most 80 characters. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
