import { fromHex, prefixedBytes } from '../lib/bytes.js';
import { Ed25519KeyRing } from './ed25519.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { HandshakeAnswer, WebhookVerifier } from './types.js';

const SIGNATURE_HEADER = 'X-Signature-Ed25519';
const TIMESTAMP_HEADER = 'X-Signature-Timestamp';

/**
 * Discord (interactions endpoint and webhook events): `X-Signature-Ed25519` is the hex Ed25519 signature of
 * `X-Signature-Timestamp` followed by the raw body, verified with the application's public key (Discord,
 * "Security and Authorization"; `discord-interactions` `verifyKey`). Several keys may be configured while an
 * application is replaced. The timestamp is signed, so `tolerance` applies although Discord states no window:
 * Discord sends at once and never retries an interaction, so a stale one can only be a replay.
 *
 * Handshakes, as `discord-interactions` answers them: an interaction PING (`"type":1`, no `event`) gets
 * `{"type":1}`; a webhook-event PING (`"type":0`) gets 204. The interaction `id` is the delivery id.
 */
export function createDiscordVerifier(publicKeys: readonly Uint8Array<ArrayBuffer>[], toleranceMs: number): WebhookVerifier {
  const keys = new Ed25519KeyRing(publicKeys);
  return {
    provider: 'discord',
    body: {},
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(SIGNATURE_HEADER);
      if (value === null) return refuse(`missing ${SIGNATURE_HEADER} header`);
      const signature = fromHex(value);
      if (signature === undefined || signature.length !== 64) return refuse(`malformed ${SIGNATURE_HEADER} header`);
      const timestamp = headers.get(TIMESTAMP_HEADER);
      const stale = checkTimestamp(timestamp, `${TIMESTAMP_HEADER} header`, nowMs, toleranceMs);
      if (stale) return stale;

      const keyIndex = await keys.verifyingIndex(prefixedBytes(timestamp!, rawBody), signature);
      return keyIndex < 0 ? refuse('signature does not match') : { ok: true, keyIndex };
    },
    handshake(input): HandshakeAnswer | undefined {
      if (input.type === 1 && input.event === undefined) {
        return { status: 200, contentType: 'application/json', body: '{"type":1}', name: 'ping' };
      }
      if (input.type === 0) return { status: 204, name: 'ping' };
      return undefined;
    },
  };
}
