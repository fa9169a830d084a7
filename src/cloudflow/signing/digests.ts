import { toBase64, toHex, utf8, type Bytes } from '../../lib/bytes.js';

/**
 * The three digests signing needs. Injected because Web Crypto's async dispatch dominates the
 * signing cost on Node, where the runtime passes a synchronous node:crypto provider instead;
 * Workers keep Web Crypto. Results may be plain values or promises.
 */
export interface SigningCrypto {
  sha256Hex(data: string | Bytes): string | Promise<string>;
  hmacSha256Hex(secret: string, data: string): string | Promise<string>;
  hmacSha1Base64(secret: string, data: string): string | Promise<string>;
}

type Hash = 'SHA-1' | 'SHA-256';

/**
 * Importing an HMAC key costs about as much as the HMAC itself, so keys are imported once per
 * (secret, hash) and reused. The map is bounded because secrets rotate only with config reloads.
 */
const keyCache = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_LIMIT = 64;

function hmacKey(secret: string, hash: Hash): Promise<CryptoKey> {
  const id = hash + '\0' + secret;
  let key = keyCache.get(id);
  if (!key) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
    key = crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash }, false, ['sign']);
    keyCache.set(id, key);
  }
  return key;
}

async function hmac(secret: string, hash: Hash, data: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret, hash), utf8(data)));
}

/** Hex SHA-256 of text (as UTF-8) or bytes; a plain value where the runtime has a synchronous digest. */
export type Sha256Hex = (data: string | Bytes) => string | Promise<string>;

/** {@link Sha256Hex} on Web Crypto: lowercase hex, 64 characters. */
export async function sha256Hex(data: string | Bytes): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', typeof data === 'string' ? utf8(data) : data)));
}

/** Web Crypto: works everywhere (Workers, browsers, Node). */
export const webCrypto: SigningCrypto = {
  sha256Hex,
  hmacSha256Hex: async (secret, data) => toHex(await hmac(secret, 'SHA-256', data)),
  hmacSha1Base64: async (secret, data) => toBase64(await hmac(secret, 'SHA-1', data)),
};
