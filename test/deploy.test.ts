/**
 * The deployment manifests under deploy/: every YAML document parses and validates against the Kubernetes
 * schemas (kubernetes-models), every container is locked down and bounded, and the base's CronJobs match the
 * job registry both ways. Needs no database; with kubectl on the PATH, the kustomizations are also built.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CronJob, type ICronJob } from "kubernetes-models/batch/v1/CronJob";
import { type IJob, Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import { type INamespace, Namespace } from "kubernetes-models/v1/Namespace";
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec";
import { type ISecret, Secret } from "kubernetes-models/v1/Secret";
import { type IServiceAccount, ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../src/config.js";
import { JOBS } from "../src/jobs/registry.js";
import { runCli } from "./support/cli.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deployDir = join(root, "deploy");
const baseDir = join(deployDir, "kubernetes", "base");
const overlayDir = join(deployDir, "kubernetes", "overlays", "example");

/** The variables that must come from a Secret, never from a ConfigMap or a literal value. */
const SECRET_VARIABLES = [
  "DATABASE_URL",
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "AIRFLOW_PASSWORD",
  "AIRFLOW_TOKEN",
  "CLOVERDX_PASSWORD",
  "DQ_RESULTS_DATABASE_URL",
] as const;
/** Environment variables the manifests may set that src/config.ts does not read. */
const RUNTIME_VARIABLES = new Set(["NODE_OPTIONS"]);
const CONFIG_MAP_NAME = "observability-config";
const SECRET_NAME = "observability-secrets";
/** The image name the manifests use; kustomize's `images:` maps it to a registry and tag. */
const IMAGE_NAME = "observability";

interface Manifest {
  file: string;
  index: number;
  doc: Record<string, unknown>;
}

interface Kustomization {
  resources?: string[];
  patches?: { path?: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  namespace?: string;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every document of a (multi-document) YAML text; a syntax error fails with the file and the message. */
function parseDocuments(text: string, file: string): Record<string, unknown>[] {
  return parseAllDocuments(text).flatMap((document, index) => {
    if (document.errors.length > 0) {
      throw new Error(`${file} document ${index}: ${document.errors.map((e) => e.message).join("; ")}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return [];
    if (!isRecord(value)) throw new Error(`${file} document ${index} is not a mapping`);
    return [value];
  });
}

const files = yamlFiles(deployDir);
const manifests: Manifest[] = files.flatMap((file) =>
  parseDocuments(readFileSync(file, "utf8"), relative(root, file)).map((doc, index) => ({
    file: relative(root, file),
    index,
    doc,
  })),
);

const isKustomization = (doc: Record<string, unknown>) =>
  doc.kind === "Kustomization" && String(doc.apiVersion).startsWith("kustomize.config.k8s.io/");

/** The schema-validating model for each kind the manifests use; an unknown kind fails the test. */
const MODELS: Record<string, (doc: Record<string, unknown>) => void> = {
  "batch/v1/CronJob": (doc) => new CronJob(doc as unknown as ICronJob).validate(),
  "batch/v1/Job": (doc) => new Job(doc as unknown as IJob).validate(),
  "v1/ConfigMap": (doc) => new ConfigMap(doc as unknown as IConfigMap).validate(),
  "v1/Secret": (doc) => new Secret(doc as unknown as ISecret).validate(),
  "v1/ServiceAccount": (doc) => new ServiceAccount(doc as unknown as IServiceAccount).validate(),
  "v1/Namespace": (doc) => new Namespace(doc as unknown as INamespace).validate(),
};

function validateKubernetesObject(doc: Record<string, unknown>, where: string): void {
  const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const validate = MODELS[key];
  if (validate === undefined) throw new Error(`${where}: no schema model for ${key}; add it to MODELS`);
  validate(doc);
}

const byKind = <T>(kind: string, list: readonly Manifest[] = manifests) =>
  list.filter((m) => m.doc.kind === kind).map((m) => ({ file: m.file, object: m.doc as unknown as T }));

const cronJobs = byKind<ICronJob>("CronJob");
const baseCronJobs = cronJobs.filter((c) => c.file.startsWith("deploy/kubernetes/base/"));

/** Every pod template in the manifests (CronJobs' job templates and Jobs). */
const podTemplates: { where: string; template: IPodTemplateSpec }[] = [
  ...cronJobs.map((c) => ({
    where: `${c.file} (${c.object.metadata?.name})`,
    template: c.object.spec?.jobTemplate.spec?.template as IPodTemplateSpec,
  })),
  ...byKind<IJob>("Job").map((j) => ({
    where: `${j.file} (${j.object.metadata?.name})`,
    template: j.object.spec?.template as IPodTemplateSpec,
  })),
];

const containersOf = (template: IPodTemplateSpec): IContainer[] => [
  ...(template.spec?.containers ?? []),
  ...(template.spec?.initContainers ?? []),
];

/** Seconds between runs for the schedule shapes the registry uses; anything else must be taught here. */
function intervalSeconds(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`schedule ${JSON.stringify(schedule)} does not have 5 fields`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  const rest = [dayOfMonth, month, dayOfWeek].every((f) => f === "*");
  const every = /^\*\/(\d+)$/.exec(minute ?? "");
  if (every && hour === "*" && rest) return Number(every[1]) * 60;
  if (/^\d+$/.test(minute ?? "") && hour === "*" && rest) return 3600;
  if (/^\d+$/.test(minute ?? "") && /^\d+$/.test(hour ?? "") && rest) return 86_400;
  throw new Error(`intervalSeconds does not know the schedule ${JSON.stringify(schedule)}; teach it`);
}

const cronJobName = (jobId: string) => `observability-${jobId.replaceAll("_", "-")}`;
const argsOf = (c: ICronJob) => c.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];

/** The environment variable names src/config.ts validates (the keys of its zod schema object). */
function configVariables(): Set<string> {
  const source = readFileSync(join(root, "src", "config.ts"), "utf8");
  const start = source.indexOf("const schema = z.object({");
  expect(start, "src/config.ts has no `const schema = z.object({`").toBeGreaterThan(-1);
  const body = source.slice(start, source.indexOf("\n});", start));
  return new Set([...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? ""));
}

function stringMap(value: Record<string, string> | undefined): Record<string, string> {
  return { ...(value ?? {}) };
}

function findOne<T>(kind: string, name: string, inFile: (file: string) => boolean): T {
  const found = byKind<T & { metadata?: { name?: string } }>(kind).filter(
    (m) => inFile(m.file) && m.object.metadata?.name === name,
  );
  expect(found, `exactly one ${kind} ${name}`).toHaveLength(1);
  return found[0]?.object as T;
}

function readKustomization(dir: string): Kustomization {
  const [doc] = parseDocuments(readFileSync(join(dir, "kustomization.yaml"), "utf8"), dir);
  return doc as Kustomization;
}

describe("deployment manifests", () => {
  it("finds the manifests", () => {
    expect(files.length).toBeGreaterThan(5);
    expect(cronJobs.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => relative(root, f)))(
    "%s parses and validates against the Kubernetes schemas",
    (file) => {
      const docs = manifests.filter((m) => m.file === file);
      expect(docs.length, `${file} has no YAML documents`).toBeGreaterThan(0);
      for (const { doc, index } of docs) {
        const where = `${file} document ${index}`;
        if (isKustomization(doc)) {
          const k = doc as Kustomization;
          const dir = dirname(join(root, file));
          const referenced = [...(k.resources ?? []), ...(k.patches ?? []).flatMap((p) => p.path ?? [])];
          for (const ref of referenced)
            expect(existsSync(join(dir, ref)), `${where} references ${ref}`).toBe(true);
          // Example Secrets carry placeholder values: they must never be applied by a kustomization.
          expect(
            referenced.filter((ref) => ref.includes(".example.")),
            where,
          ).toEqual([]);
          continue;
        }
        expect(typeof doc.apiVersion, `${where}: apiVersion`).toBe("string");
        expect(typeof doc.kind, `${where}: kind`).toBe("string");
        expect(() => validateKubernetesObject(doc, where), where).not.toThrow();
      }
    },
  );

  it("locks down every pod and container (non-root, read-only root filesystem, no privileges)", () => {
    expect(podTemplates.length).toBeGreaterThan(0);
    for (const { where, template } of podTemplates) {
      const pod = template.spec;
      expect(pod?.restartPolicy, where).toBe("Never");
      expect(pod?.automountServiceAccountToken, where).toBe(false);
      expect(pod?.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod?.securityContext?.runAsUser, where).toBeGreaterThan(0);
      expect(pod?.securityContext?.seccompProfile?.type, where).toBe("RuntimeDefault");
      const tmpVolume = pod?.volumes?.find((v) => v.name === "tmp");
      expect(tmpVolume?.emptyDir?.sizeLimit, `${where}: a bounded emptyDir for /tmp`).toBeDefined();
      const containers = containersOf(template);
      expect(containers.length, where).toBeGreaterThan(0);
      for (const c of containers) {
        const at = `${where} container ${c.name}`;
        expect(c.securityContext, at).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.securityContext?.privileged ?? false, at).toBe(false);
        expect(c.securityContext?.capabilities?.add ?? [], at).toEqual([]);
        expect(c.volumeMounts?.find((m) => m.mountPath === "/tmp")?.name, at).toBe("tmp");
        expect(c.image, `${at}: the kustomize image name`).toBe(IMAGE_NAME);
      }
    }
  });

  it("bounds every container's CPU and memory, and configures it from the ConfigMap and the Secret", () => {
    for (const { where, template } of podTemplates) {
      for (const c of containersOf(template)) {
        const at = `${where} container ${c.name}`;
        for (const kind of ["requests", "limits"] as const) {
          expect(c.resources?.[kind]?.cpu, `${at} resources.${kind}.cpu`).toBeDefined();
          expect(c.resources?.[kind]?.memory, `${at} resources.${kind}.memory`).toBeDefined();
        }
        expect(c.envFrom, at).toEqual([
          { configMapRef: { name: CONFIG_MAP_NAME } },
          { secretRef: { name: SECRET_NAME } },
        ]);
        for (const e of c.env ?? []) {
          if ((SECRET_VARIABLES as readonly string[]).includes(e.name)) {
            expect(e.value, `${at}: ${e.name} must come from a Secret`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef, `${at}: ${e.name} must come from a Secret`).toBeDefined();
          }
        }
      }
    }
  });

  it("gives every CronJob a time zone, no overlap, deadlines shorter than its interval and bounded history", () => {
    for (const { file, object } of cronJobs) {
      const name = object.metadata?.name ?? "";
      const at = `${file} (${name})`;
      const spec = object.spec;
      const job = spec?.jobTemplate.spec;
      // Job names derived from a CronJob's get an 11-character suffix; Kubernetes caps CronJob names at 52.
      expect(name.length, at).toBeLessThanOrEqual(52);
      expect(name, at).toMatch(/^observability-[a-z0-9-]+$/);
      expect(spec?.timeZone, at).toBeDefined();
      expect(() => new Intl.DateTimeFormat("en-US", { timeZone: spec?.timeZone }), at).not.toThrow();
      expect(spec?.concurrencyPolicy, at).toBe("Forbid");
      expect(spec?.successfulJobsHistoryLimit, at).toBeGreaterThan(0);
      expect(spec?.failedJobsHistoryLimit, at).toBeGreaterThan(0);
      expect(job?.backoffLimit, at).toBeGreaterThanOrEqual(1);
      expect(job?.backoffLimit, at).toBeLessThanOrEqual(2);
      expect(job?.ttlSecondsAfterFinished, at).toBeGreaterThan(0);
      expect(job?.activeDeadlineSeconds, at).toBeGreaterThan(0);
      expect(spec?.startingDeadlineSeconds, at).toBeGreaterThan(0);
      if (spec?.suspend === true) continue; // a template for one-shot Jobs (db migrate): no interval
      const interval = intervalSeconds(spec?.schedule ?? "");
      expect(job?.activeDeadlineSeconds, `${at}: activeDeadlineSeconds < ${interval}s`).toBeLessThan(
        interval,
      );
      expect(spec?.startingDeadlineSeconds, at).toBeLessThanOrEqual(interval);
    }
  });

  it("has exactly one base CronJob per scheduled job in the registry, with its args, name and schedule", () => {
    const scheduled = JOBS.filter((j) => j.schedule.trim() !== "");
    expect(scheduled.length).toBeGreaterThan(0);
    for (const job of scheduled) {
      const matching = baseCronJobs.filter(
        (c) => JSON.stringify(argsOf(c.object)) === JSON.stringify(["run", job.id]),
      );
      expect(
        matching.map((c) => c.file),
        `a base CronJob running ["run", "${job.id}"]`,
      ).toHaveLength(1);
      const cron = matching[0]?.object;
      expect(cron?.metadata?.name, job.id).toBe(cronJobName(job.id));
      expect(cron?.spec?.schedule, `${job.id}: the registry's schedule`).toBe(job.schedule);
      expect(cron?.spec?.suspend ?? false, job.id).toBe(false);
    }
  });

  it("runs only valid CLI invocations: every `run` CronJob names a registered job, everything else is known", async () => {
    const ids = new Set(JOBS.map((j) => j.id));
    for (const { file, object } of cronJobs) {
      const args = argsOf(object);
      const at = `${file} (${object.metadata?.name}) args ${JSON.stringify(args)}`;
      if (args[0] === "run") {
        expect(ids.has(args[1] ?? ""), `${at}: no such job in src/jobs/registry.ts`).toBe(true);
        if (file.startsWith("deploy/kubernetes/base/")) {
          expect(args, at).toHaveLength(2);
          expect(object.metadata?.name, at).toBe(cronJobName(args[1] ?? ""));
        }
      } else {
        // The only non-job command: the suspended migration template.
        expect(args.slice(0, 2), at).toEqual(["db", "migrate"]);
        expect(object.spec?.suspend, `${at}: not a scheduled job, so suspended`).toBe(true);
      }
      // The CLI accepts the arguments (options and all): with --help it parses them and prints the usage.
      const r = await runCli([...args, "--help"], { env: {} });
      expect(r.code, `${at}: ${r.stderr}`).toBe(0);
    }
  });

  it("keeps secrets out of ConfigMaps, names only variables the CLI reads, and documents every secret", () => {
    const known = configVariables();
    expect(known.has("DATABASE_URL")).toBe(true);
    for (const { file, object } of byKind<IConfigMap>("ConfigMap")) {
      for (const key of Object.keys(object.data ?? {})) {
        expect(
          known.has(key) || RUNTIME_VARIABLES.has(key),
          `${file}: ${key} is not read by src/config.ts`,
        ).toBe(true);
        expect((SECRET_VARIABLES as readonly string[]).includes(key), `${file}: ${key} is a secret`).toBe(
          false,
        );
      }
    }
    for (const { file, object } of byKind<ISecret>("Secret")) {
      for (const key of Object.keys({ ...object.stringData, ...object.data })) {
        expect(known.has(key), `${file}: ${key} is not read by src/config.ts`).toBe(true);
      }
    }
    const example = findOne<ISecret>("Secret", SECRET_NAME, (f) => f.startsWith("deploy/kubernetes/base/"));
    expect(Object.keys(example.stringData ?? {})).toEqual(expect.arrayContaining([...SECRET_VARIABLES]));
    for (const { where, template } of podTemplates) {
      for (const c of containersOf(template)) {
        for (const e of c.env ?? []) {
          expect(known.has(e.name) || RUNTIME_VARIABLES.has(e.name), `${where}: ${e.name}`).toBe(true);
        }
      }
    }
  });

  it("has a base configuration, and the example overlay's, that the CLI accepts", () => {
    const base = findOne<IConfigMap>("ConfigMap", CONFIG_MAP_NAME, (f) =>
      f.startsWith("deploy/kubernetes/base/"),
    );
    const patch = findOne<IConfigMap>("ConfigMap", CONFIG_MAP_NAME, (f) =>
      f.startsWith("deploy/kubernetes/overlays/example/"),
    );
    const secret = findOne<ISecret>("Secret", SECRET_NAME, (f) => f.startsWith("deploy/kubernetes/base/"));
    const env = { ...stringMap(base.data), ...stringMap(secret.stringData) };
    expect(() => loadConfig(env)).not.toThrow();
    const overlay = loadConfig({ ...env, ...stringMap(patch.data) });
    expect(overlay.databaseUrl).toMatch(/^postgres:\/\//);
    expect(overlay.airflow.instance).toBe("prod-us");

    // The second Airflow deployment: its env wins over envFrom, its credentials come from its own Secret.
    const eu = findOne<ICronJob>("CronJob", "observability-ingest-airflow-eu", (f) =>
      f.startsWith("deploy/kubernetes/overlays/example/"),
    );
    expect(argsOf(eu)).toEqual(["run", "ingest_airflow"]);
    const container = eu.spec?.jobTemplate.spec?.template.spec?.containers[0];
    const euSecrets = new Map(
      byKind<ISecret>("Secret")
        .filter((s) => s.file.startsWith("deploy/kubernetes/overlays/example/"))
        .map((s) => [s.object.metadata?.name ?? "", stringMap(s.object.stringData)]),
    );
    const overrides: Record<string, string> = {};
    for (const e of container?.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref !== undefined) {
        expect(ref.name, `${e.name}: its own Secret`).not.toBe(SECRET_NAME);
        expect(ref.optional ?? false, `${e.name}: a missing key must stop the pod`).toBe(false);
        const value = euSecrets.get(ref.name ?? "")?.[ref.key];
        expect(value, `${e.name}: ${ref.name}/${ref.key} in an example Secret`).toBeDefined();
        overrides[e.name] = value ?? "";
      } else {
        overrides[e.name] = e.value ?? "";
      }
    }
    // Every credential is overridden, so none of the primary deployment's (from envFrom) reaches this job.
    expect(Object.keys(overrides)).toEqual(
      expect.arrayContaining([
        "AIRFLOW_INSTANCE",
        "AIRFLOW_BASE_URL",
        "AIRFLOW_USERNAME",
        "AIRFLOW_PASSWORD",
        "AIRFLOW_TOKEN",
      ]),
    );
    const euConfig = loadConfig({ ...env, ...stringMap(patch.data), ...overrides });
    expect(euConfig.airflow.instance).toBe("prod-eu");
    expect(euConfig.airflow.instance).not.toBe(overlay.airflow.instance);
    expect(euConfig.airflow.baseUrl).not.toBe(overlay.airflow.baseUrl);
  });

  it("keeps the example Secrets out of the kustomizations, which set the image", () => {
    const base = readKustomization(baseDir);
    const overlay = readKustomization(overlayDir);
    expect(base.resources ?? []).not.toContain("secret.example.yaml");
    expect(overlay.namespace).toBeDefined();
    expect(overlay.images?.find((i) => i.name === IMAGE_NAME)?.newTag).toBeDefined();
    expect(overlay.resources).toContain("../../base");
  });

  const kubectl = (() => {
    try {
      execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!kubectl)("builds the base and the example overlay with kustomize into valid objects", () => {
    const build = (dir: string): Manifest[] =>
      parseDocuments(
        execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" }),
        `kubectl kustomize ${dir}`,
      ).map((doc, index) => ({ file: relative(root, dir), index, doc }));
    const base = build(baseDir);
    const overlay = build(overlayDir);
    for (const m of [...base, ...overlay]) validateKubernetesObject(m.doc, `${m.file} object ${m.index}`);

    const names = (list: Manifest[]) =>
      byKind<ICronJob>("CronJob", list)
        .map((c) => c.object.metadata?.name)
        .sort();
    expect(names(overlay)).toEqual([...names(base), "observability-ingest-airflow-eu"].sort());
    expect(byKind<ISecret>("Secret", base)).toEqual([]);

    const overlayKustomization = readKustomization(overlayDir);
    const image = overlayKustomization.images?.find((i) => i.name === IMAGE_NAME);
    for (const { object } of byKind<ICronJob>("CronJob", overlay)) {
      expect(object.metadata?.namespace).toBe(overlayKustomization.namespace);
      for (const c of object.spec?.jobTemplate.spec?.template.spec?.containers ?? []) {
        expect(c.image).toBe(`${image?.newName}:${image?.newTag}`);
      }
    }
    const config = byKind<IConfigMap>("ConfigMap", overlay)[0]?.object;
    expect(config?.data?.AIRFLOW_INSTANCE).toBe("prod-us");
    expect(config?.data?.REOPEN_WINDOW_HOURS).toBe("24"); // the patch merged, the base's keys kept
  });
});
