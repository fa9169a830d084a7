/** Byte helpers for signatures: decoding what senders write in headers, and building the signed content. */

const encoder = new TextEncoder();

/** Decodes hex (either case); undefined when the text is not hex. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Decodes standard base64 (padding optional); undefined when the text is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  // atob forgives embedded whitespace; a signature or secret with whitespace in it is not what the sender wrote.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  // encode() always returns a fresh ArrayBuffer (Encoding Standard); @cloudflare/workers-types types it loosely.
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/**
 * `prefix` (text) followed by the body bytes, unchanged. Signing the bytes rather than a decoded string
 * keeps a body that is not valid UTF-8 verifiable, and a body that differs by one space unverifiable.
 */
export function signedContent(prefix: string, rawBody: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(prefix);
  const out = new Uint8Array(head.length + rawBody.length);
  out.set(head, 0);
  out.set(rawBody, head.length);
  return out;
}
