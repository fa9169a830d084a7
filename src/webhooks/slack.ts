import { fromHex, prefixedBytes, utf8 } from '../lib/bytes.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { HandshakeAnswer, WebhookVerifier, WebhookHmac } from './types.js';

const SIGNATURE_HEADER = 'X-Slack-Signature';
const TIMESTAMP_HEADER = 'X-Slack-Request-Timestamp';

/**
 * Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 of `v0:${X-Slack-Request-Timestamp}:${rawBody}`, over
 * every kind of request (Slack, "Verifying requests from Slack").
 *
 * Bodies: Events API callbacks are JSON; slash commands post form fields, which become an object of those
 * fields; interactivity, shortcuts and options loads post `payload=<JSON>`, and that JSON becomes the Input.
 * Handshakes, answered once the signature holds, with nothing run: `url_verification` (saving an Events API
 * Request URL) gets `{"challenge": …}`, and `ssl_check=1` (Slack checking the certificate of a slash command
 * URL) gets an empty 200, as Bolt answers both.
 *
 * Slack sends no delivery id header. When it resends a request it did not see acknowledged (within 3 s) it
 * adds `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`; they are returned as `retryNum`/`retryReason`. Events
 * API bodies carry `event_id`: see `deliveryIdFromBody`.
 */
export function createSlackVerifier(secrets: readonly string[], toleranceMs: number, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), 'sha256', hmac);
  return {
    provider: 'slack',
    body: { form: 'payload-or-fields' },
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(SIGNATURE_HEADER);
      if (value === null) return refuse(`missing ${SIGNATURE_HEADER} header`);
      const signature = value.startsWith('v0=') ? fromHex(value.slice(3)) : undefined;
      if (signature === undefined) return refuse(`malformed ${SIGNATURE_HEADER} header`);
      const timestamp = headers.get(TIMESTAMP_HEADER);
      const stale = checkTimestamp(timestamp, `${TIMESTAMP_HEADER} header`, nowMs, toleranceMs);
      if (stale) return stale;

      if (!(await keys.matchesAny(prefixedBytes(`v0:${timestamp}:`, rawBody), [signature]))) return refuse('signature does not match');
      return { ok: true, ...retryInfo(headers) };
    },
    handshake(input): HandshakeAnswer | undefined {
      if (input.type === 'url_verification' && typeof input.challenge === 'string') {
        return { status: 200, contentType: 'application/json', body: JSON.stringify({ challenge: input.challenge }), name: 'url_verification' };
      }
      if (input.ssl_check === '1') return { status: 200, name: 'ssl_check' };
      return undefined;
    },
  };
}

/** The retry headers are not signed; they only help tell a resend from a first delivery. */
function retryInfo(headers: Headers): { retryNum?: number; retryReason?: string } {
  const info: { retryNum?: number; retryReason?: string } = {};
  const num = headers.get('X-Slack-Retry-Num');
  if (num !== null && /^\d{1,4}$/.test(num)) info.retryNum = Number(num);
  const reason = headers.get('X-Slack-Retry-Reason');
  if (reason !== null && /^[A-Za-z0-9_.-]{1,64}$/.test(reason)) info.retryReason = reason;
  return info;
}
