import { refuse, type Refusal } from './result.js';
import type { WebhookProvider } from './types.js';

export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

/**
 * The default replay window of each provider that signs a timestamp: the provider's own number where it
 * documents one (Twitch: "older than 10 minutes"; Linear: `webhookTimestamp` "within a minute", as its SDK
 * checks), five minutes otherwise (Stripe's and Slack's libraries, the Standard Webhooks spec).
 */
export function defaultToleranceMs(provider: WebhookProvider): number {
  if (provider === 'twitch') return 10 * 60_000;
  if (provider === 'linear') return 60_000;
  return DEFAULT_TOLERANCE_MS;
}

/**
 * The range a `tolerance` must fall in, ms. Below a second, honest deliveries fail on ordinary clock skew and
 * network delay; above an hour, the window no longer limits replays in any useful way (providers document 1 to
 * 10 minutes: Linear 60 s, Stripe, Slack and Zoom 5 min, Twitch 10 min).
 */
export const MIN_TOLERANCE_MS = 1_000;
export const MAX_TOLERANCE_MS = 3_600_000;

/** Unix seconds as senders write them (digits only), in ms; undefined for anything else. */
export function unixSecondsMs(value: string): number | undefined {
  return /^\d{1,12}$/.test(value) ? Number(value) * 1000 : undefined;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time (Twitch writes `2019-11-16T10:11:12.634234626Z`, nanoseconds included) in ms;
 * undefined when the text is not one. Parsed by hand: `Date.parse` is only specified for ISO strings of
 * at most millisecond precision.
 */
export function rfc3339Ms(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetHours, offsetMinutes] = m;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)));
  const check = new Date(ms);
  // Date.UTC rolls 31 February over into March; a date that does not exist is not a timestamp.
  if (check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 : 0;
  return ms - offset;
}

/**
 * Checks a signed time against now, in both directions: a capture replayed later is too old, and a time
 * far ahead would let a capture be replayed for longer than the tolerance. `signedAtMs` undefined means
 * the value was there but unreadable. Returns a refusal, or undefined when the time is acceptable.
 */
export function checkSignedAt(signedAtMs: number | undefined, label: string, nowMs: number, toleranceMs: number): Refusal | undefined {
  if (signedAtMs === undefined || !Number.isFinite(signedAtMs)) return refuse(`malformed ${label}`);
  if (nowMs - signedAtMs > toleranceMs) return refuse('timestamp is older than the tolerance');
  if (signedAtMs - nowMs > toleranceMs) return refuse('timestamp is further in the future than the tolerance');
  return undefined;
}

/** {@link checkSignedAt} for a unix-seconds header value; a missing one is refused as missing. */
export function checkTimestamp(value: string | null, label: string, nowMs: number, toleranceMs: number): Refusal | undefined {
  if (value === null) return refuse(`missing ${label}`);
  return checkSignedAt(unixSecondsMs(value), label, nowMs, toleranceMs);
}
