import { fromHex, prefixedBytes, utf8 } from '../lib/bytes.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { WebhookVerifier, WebhookHmac } from './types.js';

const HEADER = 'Stripe-Signature';

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of `${t}.${rawBody}` keyed with the
 * whole `whsec_…` string. Several `v1` entries appear while Stripe rolls an endpoint secret; any may match.
 * `v0` and unknown schemes are ignored. The event id lives in the body: see `deliveryIdFromBody`.
 */
export function createStripeVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'stripe',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(HEADER);
      if (value === null) return refuse(`missing ${HEADER} header`);

      let timestamp: string | undefined;
      const signatures: Uint8Array[] = [];
      for (const item of value.split(',')) {
        const eq = item.indexOf('=');
        if (eq < 0) continue;
        const scheme = item.slice(0, eq).trim();
        const field = item.slice(eq + 1).trim();
        if (scheme === 't') {
          // Two timestamps leave it unclear which one was signed.
          if (timestamp !== undefined) return refuse(`malformed ${HEADER} header`);
          timestamp = field;
        } else if (scheme === 'v1') {
          const signature = fromHex(field);
          if (signature !== undefined) signatures.push(signature);
        }
      }
      if (timestamp === undefined) return refuse(`malformed ${HEADER} header`);
      if (signatures.length === 0) return refuse(`no v1 signature in ${HEADER} header`);
      const stale = checkTimestamp(timestamp, `${HEADER} timestamp`, nowMs, toleranceMs);
      if (stale) return stale;

      if (!(await keys.matchesAny(prefixedBytes(`${timestamp}.`, rawBody), signatures))) return refuse('signature does not match');
      return { ok: true };
    },
  };
}
