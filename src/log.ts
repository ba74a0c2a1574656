import pino from "pino";
import type { LogLevel } from "./config.js";
import { redactSecrets } from "./config.js";

export type Logger = pino.Logger;

/**
 * JSON lines on stderr (stdout carries only a command's output). Every known secret is scrubbed from
 * every line before it is written.
 */
export function createLogger(options: {
  level: LogLevel;
  secrets: readonly string[];
  base?: Record<string, string>;
  destination?: { write(line: string): unknown };
}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const stream = {
    write(line: string) {
      destination.write(options.secrets.length > 0 ? redactSecrets(line, options.secrets) : line);
    },
  };
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
