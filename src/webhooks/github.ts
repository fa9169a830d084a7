import { safeDeliveryId } from './delivery-id.js';
import { createHmacVerifier } from './generic-hmac.js';
import type { WebhookVerifier, WebhookHmac } from './types.js';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body. GitHub signs no timestamp, so there is no
 * replay window to enforce and the tolerance option does not apply; de-duplicate on the delivery id instead.
 * The legacy SHA-1 `X-Hub-Signature` is not accepted. A hook set to `application/x-www-form-urlencoded` posts
 * `payload=<JSON>`: the signature covers that form body, and the JSON in `payload` becomes the Input.
 */
export function createGithubVerifier(secrets: readonly string[], hmac?: WebhookHmac): WebhookVerifier {
  const signature = createHmacVerifier(
    secrets,
    {
      header: 'X-Hub-Signature-256',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
      toleranceMs: 0,
    },
    undefined,
    hmac,
  );
  return {
    provider: 'github',
    body: { form: 'payload' },
    async verify(headers, rawBody, nowMs) {
      const result = await signature.verify(headers, rawBody, nowMs);
      if (!result.ok) return result;
      // Same value on a manual redelivery. Not covered by the signature, so it stops duplicates, not replays.
      const deliveryId = safeDeliveryId(headers.get('X-GitHub-Delivery'));
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
  };
}
