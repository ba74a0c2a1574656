/**
 * Reading HTTP answers for the source clients (Airflow, CloverDX): bodies read within a byte limit, and the
 * reason a request or a body read failed, in words that never repeat the error's own text (which may carry
 * the URL and its credentials).
 */

/** How much of a body to keep: its tail, or nothing at all once it is over the cap. */
export interface BodyLimit {
  maxBytes: number;
  keep: "tail" | "nothing";
}

/** Why a fetch or a body read failed, without the error's message (undici may put the URL in it). */
export function networkReason(error: unknown, timeoutMs: number, phase: "request" | "body"): string {
  const e = error as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  if (e?.name === "TimeoutError") {
    return phase === "body"
      ? `body not complete within ${timeoutMs / 1000} s`
      : `no answer within ${timeoutMs / 1000} s`;
  }
  const raw = e?.cause?.code ?? e?.code;
  const code = typeof raw === "string" ? raw : null;
  if (phase === "body") return `connection lost while reading the body${code ? ` (${code})` : ""}`;
  return code ?? "network error";
}

export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * Reads the body within `limit`. Over a "tail" limit, whole leading chunks are dropped as they arrive, so
 * memory stays near the cap; the kept bytes start at a UTF-8 character and, when there is one, a line.
 */
export async function readBody(
  response: Response,
  limit: BodyLimit | undefined,
): Promise<{ text: string; truncated: boolean }> {
  const stream = response.body;
  if (stream === null) return { text: "", truncated: false };
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  // Content-Length is the encoded size, never more than the decoded one: over the cap already means over it.
  if (limit?.keep === "nothing" && declared > limit.maxBytes) {
    await stream.cancel().catch(() => undefined);
    return { text: "", truncated: true };
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    kept += value.byteLength;
    if (limit === undefined || kept <= limit.maxBytes) continue;
    truncated = true;
    if (limit.keep === "nothing") {
      await reader.cancel().catch(() => undefined);
      return { text: "", truncated: true };
    }
    for (
      let first = chunks[0];
      first !== undefined && kept - first.byteLength >= limit.maxBytes;
      first = chunks[0]
    ) {
      chunks.shift();
      kept -= first.byteLength;
    }
  }
  let bytes = Buffer.concat(chunks);
  if (truncated && limit !== undefined) {
    let start = bytes.byteLength - limit.maxBytes;
    // Skip UTF-8 continuation bytes (10xxxxxx), then the partial first line if a later one exists.
    while (start < bytes.byteLength && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
    const newline = bytes.indexOf(0x0a, start);
    if (newline !== -1 && newline + 1 < bytes.byteLength) start = newline + 1;
    bytes = bytes.subarray(start);
  }
  return { text: new TextDecoder().decode(bytes), truncated };
}
