import { createHash, createHmac } from 'node:crypto';
import type { SigningCrypto } from '../cloudflow/crypto.js';

/**
 * Synchronous node:crypto digests for signing. Web Crypto on Node dispatches every call to a
 * worker job and back, which cost more than the hashing itself on the gateway's hot path.
 */
export const nodeCrypto: SigningCrypto = {
  sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
  hmacSha256Hex: (secret, data) => createHmac('sha256', secret).update(data, 'utf8').digest('hex'),
  hmacSha1Base64: (secret, data) => createHmac('sha1', secret).update(data, 'utf8').digest('base64'),
};
