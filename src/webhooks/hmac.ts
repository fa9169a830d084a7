import { timingSafeEqual } from '../lib/constant-time.js';
import type { HmacAlgorithm, WebhookHmac } from './types.js';

const WEB_CRYPTO_HASH: Record<HmacAlgorithm, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };

/**
 * The HMAC keys of one verifier, one per secret. They are imported on first use rather than at construction
 * because Workers forbid some crypto work at global scope, and then kept, so each request costs one HMAC per
 * secret tried and no key import.
 */
export class HmacKeyRing {
  readonly #keyBytes: readonly Uint8Array<ArrayBuffer>[];
  readonly #algorithm: HmacAlgorithm;
  readonly #hash: string;
  readonly #hmac: WebhookHmac | undefined;
  #keys: Promise<CryptoKey[]> | undefined;

  /** With `hmac`, every HMAC is that synchronous one; without, Web Crypto's. */
  constructor(keyBytes: readonly Uint8Array<ArrayBuffer>[], algorithm: HmacAlgorithm = 'sha256', hmac?: WebhookHmac) {
    this.#keyBytes = keyBytes;
    this.#algorithm = algorithm;
    this.#hash = WEB_CRYPTO_HASH[algorithm];
    this.#hmac = hmac;
  }

  /**
   * True when the HMAC of `content` under some secret equals one of `candidates`. Secrets are tried in order
   * and the loop stops at the first that matches; which position matched reveals nothing about its value.
   */
  async matchesAny(content: Uint8Array<ArrayBuffer>, candidates: readonly Uint8Array[]): Promise<boolean> {
    return (await this.matchIndex(content, candidates)) >= 0;
  }

  /** The index of the first secret whose HMAC of `content` is one of `candidates`, or -1. */
  async matchIndex(content: Uint8Array<ArrayBuffer>, candidates: readonly Uint8Array[]): Promise<number> {
    if (candidates.length === 0) return -1;
    const hmac = this.#hmac;
    if (hmac) {
      for (let i = 0; i < this.#keyBytes.length; i++) {
        const digest = hmac(this.#algorithm, this.#keyBytes[i]!, content);
        if (candidates.some((candidate) => timingSafeEqual(digest, candidate))) return i;
      }
      return -1;
    }
    const keys = await this.#cryptoKeys();
    for (let i = 0; i < keys.length; i++) {
      const digest = new Uint8Array(await crypto.subtle.sign('HMAC', keys[i]!, content));
      if (candidates.some((candidate) => timingSafeEqual(digest, candidate))) return i;
    }
    return -1;
  }

  /** The HMAC of `content` under the secret at `index` (a handshake answered with the secret that verified). */
  async sign(index: number, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    if (this.#hmac) {
      const key = this.#keyBytes[index];
      if (!key) throw new RangeError(`no secret at index ${index}`);
      return this.#hmac(this.#algorithm, key, content);
    }
    const key = (await this.#cryptoKeys())[index];
    if (!key) throw new RangeError(`no secret at index ${index}`);
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, content));
  }

  #cryptoKeys(): Promise<CryptoKey[]> {
    this.#keys ??= Promise.all(this.#keyBytes.map((bytes) => crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: this.#hash }, false, ['sign']))).catch(
      (error: unknown) => {
        // A failed import is not cached, so one bad moment does not refuse every later request.
        this.#keys = undefined;
        throw error;
      },
    );
    return this.#keys;
  }
}
