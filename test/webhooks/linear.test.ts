/** Linear, against its SDK's own verifier (`@linear/sdk/webhooks`, `LinearWebhookClient.verify`). */
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { NOW_MS, NOW_SEC, linearBody, signLinear, utf8 } from './support.js';

const SECRET = 'lin_wh_0123456789abcdefghijklmnopqrstuv';

/** The SDK reads the wall clock; it is set to the tests' clock for each call. */
function sdkAccepts(body: string, headers: Headers): boolean {
  vi.useFakeTimers({ now: NOW_MS, toFake: ['Date'] });
  try {
    return new LinearWebhookClient(SECRET).verify(Buffer.from(body), headers.get('Linear-Signature')!);
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

afterEach(() => vi.useRealTimers());

describe('linear preset', () => {
  const verifier = createWebhookVerifier({ provider: 'linear', secrets: [SECRET] });

  it('agrees with the SDK on signed, altered, stale, future and foreign deliveries', async () => {
    const fresh = linearBody();
    const cases: [string, string, Headers][] = [
      ['signed', fresh, signLinear(fresh, SECRET)],
      ['one byte changed', fresh.replace('"issue-1"', '"issue-2"'), signLinear(fresh, SECRET)],
      ['61 s old', linearBody(NOW_SEC - 61), signLinear(linearBody(NOW_SEC - 61), SECRET)],
      ['60 s old', linearBody(NOW_SEC - 60), signLinear(linearBody(NOW_SEC - 60), SECRET)],
      ['61 s ahead', linearBody(NOW_SEC + 61), signLinear(linearBody(NOW_SEC + 61), SECRET)],
      ['another secret', fresh, signLinear(fresh, 'lin_wh_other')],
      ['no webhookTimestamp', '{"action":"create"}', signLinear('{"action":"create"}', SECRET)],
      ['a text webhookTimestamp', '{"webhookTimestamp":"1767225600000"}', signLinear('{"webhookTimestamp":"1767225600000"}', SECRET)],
    ];
    for (const [what, body, headers] of cases) {
      const ours = await verifier.verify(headers, utf8(body), NOW_MS);
      expect({ what, ok: ours.ok }).toEqual({ what, ok: sdkAccepts(body, headers) });
    }
    expect(sdkAccepts(fresh, signLinear(fresh, SECRET))).toBe(true);
  });

  it('returns Linear-Delivery as the delivery id', async () => {
    const body = linearBody();
    expect(await verifier.verify(signLinear(body, SECRET, 'a9b3c1d2-0000-4000-8000-000000000001'), utf8(body), NOW_MS)).toEqual({
      ok: true,
      deliveryId: 'a9b3c1d2-0000-4000-8000-000000000001',
    });
  });

  it('reads only the signed body for the time, never a timestamp header', async () => {
    const body = linearBody(NOW_SEC - 3_600);
    const headers = signLinear(body, SECRET);
    headers.set('Linear-Timestamp', String(NOW_MS));
    expect(await verifier.verify(headers, utf8(body), NOW_MS)).toEqual({ ok: false, reason: 'timestamp is older than the tolerance' });
  });
});
