import { fromBase64, prefixedBytes } from '../lib/bytes.js';
import { safeDeliveryId } from './delivery-id.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { WebhookVerifier, WebhookHmac } from './types.js';

const SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`. A secret pasted without the prefix
 * is base64 too, as the reference library reads it. Throws TypeError, without echoing the secret.
 */
export function decodeStandardWebhooksSecret(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = fromBase64(encoded);
  if (key === undefined || key.length === 0) {
    throw new TypeError('standard-webhooks secrets must be base64, optionally prefixed with "whsec_"');
  }
  return key;
}

/**
 * Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp`, and `webhook-signature` holding
 * space-separated `v1,<base64>` entries (several while the sender rotates secrets), HMAC-SHA256 of
 * `${id}.${timestamp}.${rawBody}`. Other versions, such as asymmetric `v1a`, are ignored. Svix's older
 * `svix-*` header names are read when the `webhook-*` ones are absent. The id is signed, so it is a sound
 * de-duplication key and is returned as `deliveryId`.
 */
export function createStandardWebhooksVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(decodeStandardWebhooksSecret), 'sha256', hmac);
  return {
    provider: 'standard-webhooks',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const family = headers.has('webhook-id') || !headers.has('svix-id') ? 'webhook' : 'svix';
      const id = headers.get(`${family}-id`);
      const timestamp = headers.get(`${family}-timestamp`);
      const signatureList = headers.get(`${family}-signature`);
      if (id === null || id === '') return refuse(`missing ${family}-id header`);
      if (signatureList === null) return refuse(`missing ${family}-signature header`);
      const stale = checkTimestamp(timestamp, `${family}-timestamp header`, nowMs, toleranceMs);
      if (stale) return stale;

      const signatures: Uint8Array[] = [];
      for (const entry of signatureList.split(' ')) {
        const comma = entry.indexOf(',');
        if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
        const signature = fromBase64(entry.slice(comma + 1));
        if (signature !== undefined) signatures.push(signature);
      }
      if (signatures.length === 0) return refuse(`no v1 signature in ${family}-signature header`);

      if (!(await keys.matchesAny(prefixedBytes(`${id}.${timestamp}.`, rawBody), signatures))) return refuse('signature does not match');
      const deliveryId = safeDeliveryId(id);
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
  };
}
