import { utf8 } from '../lib/bytes.js';
import { timingSafeEqual } from '../lib/constant-time.js';
import { safeDeliveryId } from './delivery-id.js';
import { refuse } from './result.js';
import type { WebhookHmac, WebhookVerifier } from './types.js';

const TOKEN_HEADER = 'X-Gitlab-Token';

const sha256 = async (text: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text)));

/**
 * What tokens are compared as: their SHA-256 with Web Crypto, or, where the runtime has a synchronous HMAC
 * (node:crypto), their HMAC-SHA256 under a random key of this verifier's own, which hides a token's contents and
 * length as well and costs no thread-pool round trip per delivery.
 */
function tokenDigest(hmac: WebhookHmac | undefined): (text: string) => Uint8Array | Promise<Uint8Array> {
  if (!hmac) return sha256;
  const key = crypto.getRandomValues(new Uint8Array(32));
  return (text) => hmac('sha256', key, utf8(text));
}

/**
 * GitLab: `X-Gitlab-Token` carries the webhook's secret token itself; it must equal one of `secrets`. GitLab
 * signs nothing, so the body and the other headers are not covered: use HTTPS, and de-duplicate on the
 * delivery id. Compared as digests (see tokenDigest) with `timingSafeEqual`, so neither the contents nor the
 * length of a secret shows in the time taken.
 *
 * Delivery id: `Idempotency-Key` (GitLab 17.4+, "remains consistent across webhook retries"), else
 * `X-Gitlab-Event-UUID`. The latter is shared by recursive webhooks (a hook triggered by an earlier hook's
 * effect), so GitLab's newer header is preferred where it is sent. GitLab webhook docs, "Delivery headers".
 */
export function createGitlabVerifier(secrets: readonly string[], hmac?: WebhookHmac): WebhookVerifier {
  const digestOf = tokenDigest(hmac);
  let digests: Promise<Uint8Array[]> | undefined;
  return {
    provider: 'gitlab',
    body: {},
    async verify(headers) {
      const token = headers.get(TOKEN_HEADER);
      if (token === null || token === '') return refuse(`missing ${TOKEN_HEADER} header`);
      digests ??= Promise.all(secrets.map(digestOf)).catch((error: unknown) => {
        digests = undefined;
        throw error;
      });
      const found = digestOf(token);
      const presented = found instanceof Uint8Array ? found : await found;
      const keyIndex = (await digests).findIndex((digest) => timingSafeEqual(digest, presented));
      if (keyIndex < 0) return refuse('token does not match');
      const deliveryId = safeDeliveryId(headers.get('Idempotency-Key')) ?? safeDeliveryId(headers.get('X-Gitlab-Event-UUID'));
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
  };
}
