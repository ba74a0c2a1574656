/**
 * The one error type adapters throw. `code` is stable (tests and operators match on it), `message` is the
 * single line the CLI prints, `exitCode` is what a Kubernetes Job should see.
 */
export type ErrorKind = "usage" | "config" | "failed";

export class ObservabilityError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;

  constructor(code: string, message: string, options: { kind?: ErrorKind; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ObservabilityError";
    this.code = code;
    this.kind = options.kind ?? "failed";
  }

  get exitCode(): 1 | 2 {
    return this.kind === "failed" ? 1 : 2;
  }
}

export function usageError(message: string): ObservabilityError {
  return new ObservabilityError("usage", message, { kind: "usage" });
}

export function configError(message: string, cause?: unknown): ObservabilityError {
  return new ObservabilityError("config", message, { kind: "config", cause });
}

/** Postgres error code (SQLSTATE) of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The run was asked to stop (SIGTERM from Kubernetes, Ctrl-C): raised between batches, never inside one. */
export function interruptedError(): ObservabilityError {
  return new ObservabilityError(
    "interrupted",
    "interrupted by a stop signal (SIGTERM or SIGINT); every batch either committed or rolled back, and the next run continues where this one stopped",
  );
}

/** Throws the interruption if `signal` was aborted; call it at batch boundaries only. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interruptedError();
}
