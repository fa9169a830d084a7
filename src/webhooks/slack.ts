import { fromHex, prefixedBytes, utf8 } from '../lib/bytes.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { WebhookVerifier } from './types.js';

const SIGNATURE_HEADER = 'X-Slack-Signature';
const TIMESTAMP_HEADER = 'X-Slack-Request-Timestamp';

/**
 * Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 of `v0:${X-Slack-Request-Timestamp}:${rawBody}`.
 * Slack sends no delivery id header. When it resends a request it did not see acknowledged (within 3 s) it
 * adds `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`; they are returned as `retryNum`/`retryReason` so the
 * caller can drop or ack retries. Events API bodies carry `event_id`: see `deliveryIdFromBody`.
 */
export function createSlackVerifier(secrets: readonly string[], toleranceMs: number): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8));
  return {
    provider: 'slack',
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
