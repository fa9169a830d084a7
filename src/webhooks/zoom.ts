import { fromHex, prefixedBytes, toHex, utf8 } from '../lib/bytes.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { HandshakeAnswer, WebhookVerifier, WebhookHmac } from './types.js';

const SIGNATURE_HEADER = 'x-zm-signature';
const TIMESTAMP_HEADER = 'x-zm-request-timestamp';

/**
 * Zoom: `x-zm-signature: v0=<hex>`, HMAC-SHA256 of `v0:{x-zm-request-timestamp}:{rawBody}` keyed with the
 * app's Secret Token (Zoom, "Verify webhook events"). The timestamp is signed, so `tolerance` applies.
 *
 * Handshake: `endpoint.url_validation` (on saving the endpoint, then every 72 hours) is answered with
 * `{plainToken, encryptedToken}`, the hex HMAC-SHA256 of `plainToken` under the secret that verified the
 * request. Zoom signs the validation request like any other, and Zoom's own library (Rivet) checks that
 * signature first, so an unsigned validation is refused. Zoom sends no delivery id.
 */
export function createZoomVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'zoom',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(SIGNATURE_HEADER);
      if (value === null) return refuse(`missing ${SIGNATURE_HEADER} header`);
      const signature = value.startsWith('v0=') ? fromHex(value.slice(3)) : undefined;
      if (signature === undefined) return refuse(`malformed ${SIGNATURE_HEADER} header`);
      const timestamp = headers.get(TIMESTAMP_HEADER);
      const stale = checkTimestamp(timestamp, `${TIMESTAMP_HEADER} header`, nowMs, toleranceMs);
      if (stale) return stale;

      const keyIndex = await keys.matchIndex(prefixedBytes(`v0:${timestamp}:`, rawBody), [signature]);
      return keyIndex < 0 ? refuse('signature does not match') : { ok: true, keyIndex };
    },
    async handshake(input, _headers, verified): Promise<HandshakeAnswer | undefined> {
      if (input.event !== 'endpoint.url_validation') return undefined;
      const payload = input.payload as Record<string, unknown> | null | undefined;
      const plainToken = typeof payload === 'object' && payload !== null ? payload.plainToken : undefined;
      if (typeof plainToken !== 'string') return undefined;
      const encryptedToken = toHex(await keys.sign(verified.keyIndex ?? 0, utf8(plainToken)));
      return { status: 200, contentType: 'application/json', body: JSON.stringify({ plainToken, encryptedToken }), name: 'endpoint.url_validation' };
    },
  };
}
