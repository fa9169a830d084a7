import type { WebhookProvider } from './types.js';

/** Visible ASCII, bounded: a delivery id becomes a key in a shared store, so odd or huge values are dropped. */
const SAFE_ID = /^[\x21-\x7e]{1,256}$/;

const BODY_ID_FIELD: Partial<Record<WebhookProvider, string>> = { stripe: 'id', slack: 'event_id', discord: 'id' };

/** A delivery id taken from a header, or undefined when absent or not a plausible id. */
export function safeDeliveryId(value: string | null): string | undefined {
  return value !== null && SAFE_ID.test(value) ? value : undefined;
}

/**
 * The delivery id that some providers carry in the signed body rather than in a header. Call it after
 * `verify` passed and the body was parsed:
 * - `stripe`: the event `id` (`evt_…`); Stripe may deliver the same event more than once.
 * - `slack`: the Events API `event_id`; a retried event keeps it. Slash commands and interactivity carry none.
 * - `discord`: the interaction `id` (webhook events carry none).
 * - other providers: undefined (their ids, where they have one, are headers, which `verify` returns).
 */
/** Whether `provider` carries its delivery id in the body: only then is the body worth parsing for it. */
export function carriesDeliveryIdInBody(provider: WebhookProvider): boolean {
  return BODY_ID_FIELD[provider] !== undefined;
}

export function deliveryIdFromBody(provider: WebhookProvider, parsedBody: unknown): string | undefined {
  if (typeof parsedBody !== 'object' || parsedBody === null) return undefined;
  const field = BODY_ID_FIELD[provider];
  if (field === undefined) return undefined;
  const value = (parsedBody as Record<string, unknown>)[field];
  return typeof value === 'string' && SAFE_ID.test(value) ? value : undefined;
}
