/**
 * Shopify: signed by `@shopify/shopify-api`'s test helper `getHmac`, and judged by the same library's
 * `webhooks.validate`, which our verifier must agree with.
 */
import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, signShopify, utf8 } from './support.js';

const SECRET = 'shpss_0123456789abcdef0123456789abcdef';

const shopify = shopifyApi({
  apiKey: 'flowgate-test-app',
  apiSecretKey: SECRET,
  apiVersion: ApiVersion.January26,
  hostName: 'gateway.example.com',
  isEmbeddedApp: false,
  logger: { log: () => {} },
});

async function libraryAccepts(body: string, headers: Headers): Promise<boolean> {
  const rawRequest = new Request('https://gateway.example.com/flows/orders/run', { method: 'POST', headers, body });
  const result = await shopify.webhooks.validate({ rawBody: body, rawRequest });
  return result.valid;
}

describe('shopify preset', () => {
  const verifier = createWebhookVerifier({ provider: 'shopify', secrets: [SECRET] });

  it('agrees with the library on signed, altered and foreign deliveries', async () => {
    const cases: [string, string, Headers][] = [
      ['signed', BODY, signShopify(BODY, SECRET)],
      ['one byte changed', BODY.replace('"n":1', '"n":2'), signShopify(BODY, SECRET)],
      ['another secret', BODY, signShopify(BODY, 'shpss_another')],
    ];
    for (const [what, body, headers] of cases) {
      const ours = await verifier.verify(headers, utf8(body), NOW_MS);
      expect({ what, ok: ours.ok }).toEqual({ what, ok: await libraryAccepts(body, headers) });
    }
    expect(await libraryAccepts(BODY, signShopify(BODY, SECRET))).toBe(true);
  });

  it('returns X-Shopify-Webhook-Id as the delivery id', async () => {
    expect(await verifier.verify(signShopify(BODY, SECRET, 'wh-7'), utf8(BODY), NOW_MS)).toEqual({ ok: true, deliveryId: 'wh-7' });
  });

  it('refuses a digest of the wrong length, such as a hex one', async () => {
    const headers = signShopify(BODY, SECRET);
    headers.set('X-Shopify-Hmac-Sha256', 'ab'.repeat(32));
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'malformed X-Shopify-Hmac-Sha256 header' });
  });
});
