/** The package's public API. The CLI (`observability`) is built on the same functions. */
export { main } from "./cli.js";
export { type Config, loadConfig } from "./config.js";
export { computeFingerprint, type FingerprintParts, fingerprintSignal } from "./core/fingerprint.js";
export { decideGrouping, decideUserAction } from "./core/lifecycle.js";
export { explainNormalization, FINGERPRINT_VERSION, normalizeErrorMessage } from "./core/normalize.js";
export { parseSignalInput, prepareSignal, signalId } from "./core/signal.js";
export type { ActivityRow, GroupRow, GroupStatus, Severity, SignalInput, SignalRow } from "./core/types.js";
export type { Db, Queryable } from "./db/db.js";
export { ingestSignalBatch } from "./db/ingest.js";
export { migrate } from "./db/migrate.js";
export { checkSchema } from "./db/schema-check.js";
export { ObservabilityError } from "./errors.js";
export { JOBS } from "./jobs/registry.js";
