import { fromBase64, utf8 } from '../lib/bytes.js';
import { safeDeliveryId } from './delivery-id.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import type { WebhookVerifier, WebhookHmac } from './types.js';

const HEADER = 'X-Shopify-Hmac-Sha256';

/**
 * Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body, keyed with the app's client
 * secret (Shopify, "Verify webhooks"; `@shopify/shopify-api` `webhooks.validate`). Shopify signs no timestamp,
 * so there is no replay window; `X-Shopify-Webhook-Id` stays the same when Shopify retries a delivery and is
 * the de-duplication key. Several secrets are tried while the client secret is being rotated.
 */
export function createShopifyVerifier(secrets: readonly string[], hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'shopify',
    body: {},
    async verify(headers, rawBody) {
      const value = headers.get(HEADER);
      if (value === null) return refuse(`missing ${HEADER} header`);
      const signature = fromBase64(value);
      if (signature === undefined || signature.length !== 32) return refuse(`malformed ${HEADER} header`);
      if (!(await keys.matchesAny(new Uint8Array(rawBody), [signature]))) return refuse('signature does not match');
      const deliveryId = safeDeliveryId(headers.get('X-Shopify-Webhook-Id'));
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
  };
}
