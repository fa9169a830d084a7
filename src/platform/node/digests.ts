import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';
import type { SigningCrypto } from '../../cloudflow/signing/digests.js';
import type { WebhookHmac } from '../../webhooks/types.js';

/** The last few secrets as KeyObjects: converting the secret string on every HMAC cost a third of the HMAC. */
const keys = new Map<string, KeyObject>();
const KEY_LIMIT = 16;

function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    // Secrets change only when credentials rotate; the oldest goes first.
    if (keys.size >= KEY_LIMIT) keys.delete(keys.keys().next().value!);
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

/**
 * Synchronous node:crypto digests for signing and cache keys. Web Crypto on Node dispatches every
 * call to a worker job and back, which cost more than the hashing itself on the gateway's hot path.
 * `hash()` is the one-shot digest (Node ≥ 20.12): no Hash object to build and collect per call.
 */
export const nodeCrypto: SigningCrypto & { sha256Hex(data: string | Uint8Array): string } = {
  sha256Hex: (data) => hash('sha256', data, 'hex'),
  hmacSha256Hex: (secret, data) => createHmac('sha256', secretKey(secret)).update(data, 'utf8').digest('hex'),
  hmacSha1Base64: (secret, data) => createHmac('sha1', secretKey(secret)).update(data, 'utf8').digest('base64'),
};

/** KeyObjects by the key bytes a verifier holds for its lifetime: converting the key on every HMAC costs about a third of it. */
const webhookKeys = new WeakMap<Uint8Array, KeyObject>();

/**
 * Webhook HMACs on node:crypto, synchronously: Web Crypto's `sign` runs as a thread-pool job, and its dispatch and
 * its copy of the body cost more than the HMAC of a 32 KiB delivery (docs/benchmarks.md, "Large Inputs").
 */
export const nodeWebhookHmac: WebhookHmac = (algorithm, key, content) => {
  let keyObject = webhookKeys.get(key);
  if (!keyObject) webhookKeys.set(key, (keyObject = createSecretKey(key)));
  return createHmac(algorithm, keyObject).update(content).digest();
};
