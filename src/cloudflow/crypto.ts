import { toHex } from '../lib/random.js';

const encoder = new TextEncoder();

/** Bytes backed by a plain ArrayBuffer, which is what Web Crypto accepts. */
export type Bytes = Uint8Array<ArrayBuffer>;

export function utf8(value: string | Bytes): Bytes {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

export async function sha256Hex(data: string | Bytes): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(data))));
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin);
}

type Hash = 'SHA-1' | 'SHA-256';

/**
 * Importing an HMAC key costs about as much as the HMAC itself, so keys are imported once per
 * (secret, hash) and reused. The map is bounded because secrets rotate only with config reloads.
 */
const keyCache = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_LIMIT = 64;

export function hmacKey(secret: string, hash: Hash): Promise<CryptoKey> {
  const id = hash + '\0' + secret;
  let key = keyCache.get(id);
  if (!key) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash }, false, ['sign']);
    keyCache.set(id, key);
  }
  return key;
}

export async function hmac(secret: string, hash: Hash, data: string): Promise<Uint8Array> {
  const key = await hmacKey(secret, hash);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(data)));
}
