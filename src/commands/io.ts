import type { Readable } from "node:stream";

/** What a command may touch of the outside world; the CLI passes process streams, tests pass buffers. */
export interface CommandIo {
  env: Readonly<Record<string, string | undefined>>;
  stdin: Readable;
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
  /** Aborted on SIGTERM / SIGINT (bin.ts wires it); commands stop at the next batch boundary. */
  stopSignal?: AbortSignal;
}

export function writeJsonLine(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}
