/**
 * Ed25519 public keys, verified through Web Crypto (RFC 8032 via the Secure Curves in WebCrypto draft), so
 * the same code runs on Node (20.x and later ship it in `crypto.subtle`) and on Workers. Keys are imported
 * on first use, as Workers forbid some crypto work at global scope, and kept.
 */
export class Ed25519KeyRing {
  readonly #keyBytes: readonly Uint8Array<ArrayBuffer>[];
  #keys: Promise<CryptoKey[]> | undefined;

  /** `keyBytes`: raw 32-byte public keys. */
  constructor(keyBytes: readonly Uint8Array<ArrayBuffer>[]) {
    this.#keyBytes = keyBytes;
  }

  /** The index of the first key `signature` (64 bytes) verifies `message` under, or -1. */
  async verifyingIndex(message: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>): Promise<number> {
    if (signature.length !== 64) return -1;
    const keys = await this.#cryptoKeys();
    for (let i = 0; i < keys.length; i++) {
      if (await crypto.subtle.verify('Ed25519', keys[i]!, signature, message)) return i;
    }
    return -1;
  }

  #cryptoKeys(): Promise<CryptoKey[]> {
    this.#keys ??= Promise.all(this.#keyBytes.map((bytes) => crypto.subtle.importKey('raw', bytes, 'Ed25519', false, ['verify']))).catch((error: unknown) => {
      // A failed import is not cached, so one bad moment does not refuse every later request.
      this.#keys = undefined;
      throw error;
    });
    return this.#keys;
  }
}
