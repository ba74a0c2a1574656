/**
 * The error a CloverDX run log tells, for records that carry none (the Simple HTTP API never does). Pure and
 * forgiving: a log it cannot read gives nulls, never an exception.
 */
import { exceptionClass } from "./map.js";
import type { CloverdxLogError } from "./types.js";

/** Component references as the engine logs them: `[DBOutputTable:WRITE_ORDERS]` or `Component [WRITE_ORDERS]`. */
const COMPONENT =
  /\b(?:Component|Node)\s*\[?\s*(?:([A-Za-z][\w]*):)?([A-Z][A-Z0-9_]*)\s*\]?[^\n]*?\b(?:ERROR|failed|finished with status ERROR)/;
const ERROR_LINE = /\bERROR\b\s*(?:\[[^\]]*\])?\s*-\s*(.+)$/;
const CAUSED_BY = /^\s*Caused by:\s*([\w$.]+)(?::\s*(.*))?$/;

export function extractLogError(log: string): CloverdxLogError {
  const lines = log.split(/\r?\n/);
  let message: string | null = null;
  let errorClass: string | null = null;
  let causeMessage: string | null = null;
  let componentId: string | null = null;
  let componentType: string | null = null;
  for (const line of lines) {
    const cause = CAUSED_BY.exec(line);
    if (cause) {
      // The innermost cause is the most specific: keep the last one.
      errorClass = exceptionClass(cause[1] ?? null);
      causeMessage = cause[2]?.trim() || causeMessage;
      continue;
    }
    const component = COMPONENT.exec(line);
    if (component?.[2] !== undefined && componentId === null) {
      componentId = component[2];
      componentType = component[1] ?? null;
    }
    const error = ERROR_LINE.exec(line);
    if (error?.[1] !== undefined && message === null) message = error[1].trim();
  }
  return {
    errorClass,
    errorMessage: causeMessage ?? message,
    componentId,
    componentType,
  };
}
