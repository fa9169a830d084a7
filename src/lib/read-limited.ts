export type ReadResult = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; reason: 'too-large' | 'aborted' };

const EMPTY = new Uint8Array(0);

/**
 * Reads a request body, refusing as soon as it passes `limit` bytes: a declared Content-Length over
 * the limit is refused before reading anything, and a chunked body is cut off at the first chunk
 * that crosses the limit. Nothing past the limit is ever buffered.
 */
export async function readLimited(request: Request, limit: number): Promise<ReadResult> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    return { ok: false, reason: 'too-large' };
  }
  if (declared !== null && /^\d+$/.test(declared) && !request.headers.has('transfer-encoding')) {
    // A declared length within the limit is enforced by the HTTP parser itself, so the runtime's own
    // (faster) whole-body read is safe here; only bodies of unknown length need the counting reader.
    if (declared === '0') return { ok: true, bytes: EMPTY };
    try {
      return { ok: true, bytes: new Uint8Array(await request.arrayBuffer()) };
    } catch {
      return { ok: false, reason: 'aborted' };
    }
  }
  const body = request.body;
  if (!body) return { ok: true, bytes: EMPTY };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: 'too-large' };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: 'aborted' };
  }
  if (chunks.length === 1 && chunks[0]!.buffer instanceof ArrayBuffer) return { ok: true, bytes: chunks[0] as Uint8Array<ArrayBuffer> };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
