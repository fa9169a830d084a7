import { sha256Hex, type Sha256Hex } from '../cloudflow/signing/digests.js';
import { prefixedBytes } from '../lib/bytes.js';

/** Visible ASCII, bounded: the key becomes part of a store key after hashing, and appears in no log line. */
const KEY_TEXT = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` is a Structured Field String (`"8e03978e-…"`); many clients send the bare token, so
 * both are accepted. Returns undefined for anything else.
 */
export function parseIdempotencyKey(header: string): string | undefined {
  const value = header.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    const inner = value.slice(1, -1);
    return KEY_TEXT.test(inner) && !/["\\]/.test(inner) ? inner : undefined;
  }
  return KEY_TEXT.test(value) && !value.includes('"') ? value : undefined;
}

/**
 * What makes two requests "the same request": the exact body bytes and the chosen qualifier, as the hex SHA-256 of
 * `qualifier \n body` (`digest`, Web Crypto by default).
 */
export async function requestFingerprint(rawBody: Uint8Array<ArrayBuffer>, qualifier: string | undefined, digest: Sha256Hex = sha256Hex): Promise<string> {
  return digest(prefixedBytes(`${qualifier ?? ''}\n`, rawBody));
}
