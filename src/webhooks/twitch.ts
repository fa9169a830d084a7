import { fromHex, prefixedBytes, utf8 } from '../lib/bytes.js';
import { safeDeliveryId } from './delivery-id.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkSignedAt, rfc3339Ms } from './timestamp.js';
import type { HandshakeAnswer, WebhookVerifier, WebhookHmac } from './types.js';

const SIGNATURE_HEADER = 'Twitch-Eventsub-Message-Signature';
const ID_HEADER = 'Twitch-Eventsub-Message-Id';
const TIMESTAMP_HEADER = 'Twitch-Eventsub-Message-Timestamp';
const TYPE_HEADER = 'Twitch-Eventsub-Message-Type';

/**
 * Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>`, HMAC-SHA256 of the message id, the
 * timestamp (RFC 3339) and the raw body, concatenated, keyed with the subscription's secret (Twitch,
 * "Handling webhook events", "Verifying the event message"). Twitch says to refuse a timestamp older than
 * 10 minutes, the default tolerance here, and to ignore a message id already seen: the id is signed and is
 * the delivery id.
 *
 * Handshake: `Twitch-Eventsub-Message-Type: webhook_callback_verification` is answered with the body's
 * `challenge`, as `text/plain`, and nothing runs. A `revocation` runs the flow like a notification.
 */
export function createTwitchVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'twitch',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(SIGNATURE_HEADER);
      if (value === null) return refuse(`missing ${SIGNATURE_HEADER} header`);
      const signature = value.startsWith('sha256=') ? fromHex(value.slice(7)) : undefined;
      if (signature === undefined) return refuse(`malformed ${SIGNATURE_HEADER} header`);
      const id = headers.get(ID_HEADER);
      if (id === null || id === '') return refuse(`missing ${ID_HEADER} header`);
      const timestamp = headers.get(TIMESTAMP_HEADER);
      if (timestamp === null) return refuse(`missing ${TIMESTAMP_HEADER} header`);
      const stale = checkSignedAt(rfc3339Ms(timestamp), `${TIMESTAMP_HEADER} header`, nowMs, toleranceMs);
      if (stale) return stale;

      if (!(await keys.matchesAny(prefixedBytes(id + timestamp, rawBody), [signature]))) return refuse('signature does not match');
      const deliveryId = safeDeliveryId(id);
      return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
    },
    handshake(input, headers): HandshakeAnswer | undefined {
      if (headers.get(TYPE_HEADER) !== 'webhook_callback_verification' || typeof input.challenge !== 'string') return undefined;
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: input.challenge, name: 'webhook_callback_verification' };
    },
  };
}
