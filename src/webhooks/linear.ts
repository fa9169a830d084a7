import { fromHex, utf8 } from '../lib/bytes.js';
import { parseJsonObject } from '../lib/json.js';
import { safeDeliveryId } from './delivery-id.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkSignedAt } from './timestamp.js';
import type { WebhookVerifier, WebhookHmac } from './types.js';

const HEADER = 'Linear-Signature';
const decoder = new TextDecoder();

/**
 * Linear: `Linear-Signature` is the hex HMAC-SHA256 of the raw body, keyed with the webhook's signing
 * secret. The signed body's `webhookTimestamp` (unix ms) must be within the tolerance of now, 60 seconds by
 * default: Linear's docs and its SDK (`@linear/sdk/webhooks`, `LinearWebhookClient.verify`) check exactly
 * that, and trust no timestamp header. `Linear-Delivery` is the delivery id.
 */
export function createLinearVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'linear',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(HEADER);
      if (value === null) return refuse(`missing ${HEADER} header`);
      const signature = fromHex(value);
      if (signature === undefined || signature.length !== 32) return refuse(`malformed ${HEADER} header`);
      if (!(await keys.matchesAny(new Uint8Array(rawBody), [signature]))) return refuse('signature does not match');

      // Read only once the signature holds, so no work is spent parsing a forged body.
      const timestamp = parseJsonObject(decoder.decode(rawBody))?.webhookTimestamp;
      if (timestamp === undefined) return refuse('missing webhookTimestamp in the body');
      const stale = checkSignedAt(typeof timestamp === 'number' ? timestamp : undefined, 'webhookTimestamp in the body', nowMs, toleranceMs);
      if (stale) return stale;
      const deliveryId = safeDeliveryId(headers.get('Linear-Delivery'));
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
  };
}
