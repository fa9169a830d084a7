/**
 * The refusals every preset owes: forged, altered, replayed or garbled deliveries, and secret rotation.
 * Deliveries come from presets.ts, signed by each provider's own library where there is one.
 */
import { describe, expect, it } from 'vitest';
import { nodeWebhookHmac } from '../../src/platform/node/digests.js';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { PRESETS, presetOptions, type Delivery } from './presets.js';
import { NOW_MS, NOW_SEC, utf8 } from './support.js';

// Each preset twice: with Web Crypto's HMAC (Workers) and with the synchronous node:crypto one the Node runtime injects.
const HMACS = [
  ['Web Crypto', undefined],
  ['node:crypto', nodeWebhookHmac],
] as const;
const CASES = HMACS.flatMap(([hmacName, hmac]) => PRESETS.map((preset) => [preset.provider, hmacName, preset, hmac] as const));

describe.each(CASES)('%s preset, %s HMAC', (_name, _hmacName, preset, hmac) => {
  const [current, next, retired] = preset.keys;
  const verifier = createWebhookVerifier(presetOptions(preset), hmac);
  const verify = (delivery: Delivery, body = delivery.body, nowMs = NOW_MS) => verifier.verify(delivery.headers, utf8(body), nowMs, delivery.url);

  it('accepts a delivery signed with its key', async () => {
    expect((await verify(await preset.deliver(current))).ok).toBe(true);
  });

  if (preset.signsBody) {
    it('refuses the body with one byte changed', async () => {
      const delivery = await preset.deliver(current);
      const changed = preset.tamper(delivery.body);
      expect(utf8(changed).length).toBe(utf8(delivery.body).length);
      expect(changed).not.toBe(delivery.body);
      expect(await verify(delivery, changed)).toEqual({ ok: false, reason: 'signature does not match' });
    });

    it('refuses the body changed only in whitespace', async () => {
      const delivery = await preset.deliver(current);
      expect((await verify(delivery, `${delivery.body}\n`)).ok).toBe(false);
      expect((await verify(delivery, ` ${delivery.body}`)).ok).toBe(false);
    });
  } else {
    it('cannot tell a changed body: the sender signs nothing, it sends its token (documented)', async () => {
      const delivery = await preset.deliver(current);
      expect((await verify(delivery, preset.tamper(delivery.body))).ok).toBe(true);
    });
  }

  it('refuses a delivery signed with another key', async () => {
    expect(await verify(await preset.deliver(retired))).toEqual({ ok: false, reason: preset.mismatch });
  });

  it('refuses a missing signature header', async () => {
    const delivery = await preset.deliver(current);
    delivery.headers.delete(preset.signatureHeader);
    const result = await verify(delivery);
    expect(result.ok === false && result.reason).toMatch(/^missing /);
  });

  it('refuses a malformed or empty signature header', async () => {
    const delivery = await preset.deliver(current);
    delivery.headers.set(preset.signatureHeader, preset.malformed);
    expect((await verify(delivery)).ok).toBe(false);
    delivery.headers.set(preset.signatureHeader, '');
    expect((await verify(delivery)).ok).toBe(false);
  });

  it('accepts either key while one is rotated, and not a retired one', async () => {
    const rotating = createWebhookVerifier(presetOptions(preset, [next, current]), hmac);
    for (const [key, ok] of [
      [current, true],
      [next, true],
      [retired, false],
    ] as const) {
      const delivery = await preset.deliver(key);
      expect((await rotating.verify(delivery.headers, utf8(delivery.body), NOW_MS, delivery.url)).ok).toBe(ok);
    }
  });

  const { timestamp, toleranceMs } = preset;
  if (timestamp === undefined) {
    it('signs no timestamp, so no window applies (de-duplicate on the delivery id instead)', async () => {
      expect((await verify(await preset.deliver(current), undefined, NOW_MS + 30 * 86_400_000)).ok).toBe(true);
    });
    return;
  }
  const toleranceSec = toleranceMs / 1000;

  it(`refuses a stale timestamp and a future one (window ±${toleranceSec} s)`, async () => {
    expect(await verify(await preset.deliver(current, { timestampSec: NOW_SEC - toleranceSec - 60 }))).toEqual({
      ok: false,
      reason: 'timestamp is older than the tolerance',
    });
    expect(await verify(await preset.deliver(current, { timestampSec: NOW_SEC + toleranceSec + 60 }))).toEqual({
      ok: false,
      reason: 'timestamp is further in the future than the tolerance',
    });
  });

  it('accepts timestamps at the edge of the window in both directions', async () => {
    expect((await verify(await preset.deliver(current, { timestampSec: NOW_SEC - toleranceSec }))).ok).toBe(true);
    expect((await verify(await preset.deliver(current, { timestampSec: NOW_SEC + toleranceSec }))).ok).toBe(true);
  });

  it('honours a configured tolerance', async () => {
    const strict = createWebhookVerifier({ ...presetOptions(preset), tolerance: 30_000 }, hmac);
    const delivery = await preset.deliver(current, { timestampSec: NOW_SEC - 31 });
    expect((await strict.verify(delivery.headers, utf8(delivery.body), NOW_MS, delivery.url)).ok).toBe(false);
    expect((await strict.verify(delivery.headers, utf8(delivery.body), NOW_MS - 2_000, delivery.url)).ok).toBe(true);
  });

  if ('body' in timestamp) {
    it('refuses a timestamp rewritten to look fresh, because it is part of the signed body', async () => {
      const stale = await preset.deliver(current, { timestampSec: NOW_SEC - toleranceSec - 60 });
      const fresh = stale.body.replace(String((NOW_SEC - toleranceSec - 60) * 1000), String(NOW_MS));
      expect(await verify(stale, fresh)).toEqual({ ok: false, reason: 'signature does not match' });
    });
    return;
  }
  const format = timestamp.format ?? String;

  it('refuses a timestamp rewritten to look fresh, because the timestamp is signed', async () => {
    const staleSec = NOW_SEC - toleranceSec - 60;
    const stale = await preset.deliver(current, { timestampSec: staleSec });
    stale.headers.set(timestamp.header, stale.headers.get(timestamp.header)!.replace(format(staleSec), format(NOW_SEC)));
    expect(await verify(stale)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a missing or unreadable timestamp', async () => {
    const delivery = await preset.deliver(current);
    delivery.headers.set(timestamp.header, delivery.headers.get(timestamp.header)!.replace(format(NOW_SEC), 'yesterday'));
    expect((await verify(delivery)).ok).toBe(false);
    if (timestamp.header !== preset.signatureHeader) {
      delivery.headers.delete(timestamp.header);
      expect((await verify(delivery)).ok).toBe(false);
    }
  });
});
