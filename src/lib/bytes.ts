/**
 * Byte helpers, Web-standard only (the core has no Buffer): UTF-8, hex and base64, and the one way a
 * text prefix is joined to raw bytes. Decoders return undefined for text that is not what they read,
 * so a caller decides what a bad header or secret means; they never throw.
 */

/** Bytes backed by a plain ArrayBuffer, which is what Web Crypto accepts. */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The UTF-8 bytes of `text` (lone surrogates become U+FFFD, as the Encoding Standard says). */
export function utf8(text: string): Bytes {
  // encode() always returns a fresh ArrayBuffer (Encoding Standard); @cloudflare/workers-types types it loosely.
  return encoder.encode(text) as Bytes;
}

/** Lowercase hex, two digits per byte. A table lookup per byte: this runs on every signed call. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** Decodes hex (either case); undefined when the text is not hex. */
export function fromHex(text: string): Bytes | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/**
 * Decodes standard base64, padding optional; undefined when the text is not base64. Stricter than
 * `atob`, which forgives embedded whitespace: a signature or secret with whitespace in it is not what
 * the sender wrote.
 */
export function fromBase64(text: string): Bytes | undefined {
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

/**
 * The UTF-8 of `prefix` followed by `bytes`, unchanged. Hashing or signing the raw bytes rather than a
 * decoded string keeps a body that is not valid UTF-8 verifiable, and one that differs by a space distinct.
 */
export function prefixedBytes(prefix: string, bytes: Uint8Array): Bytes {
  const head = encoder.encode(prefix);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}
