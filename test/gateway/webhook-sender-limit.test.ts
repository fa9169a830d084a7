/**
 * Webhook flows are limited twice through the gateway: per client address before the body is read (unsigned
 * floods), and per verified sender after the signature (validly signed floods from many addresses).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { NOW_MS, githubHeaders, signStripe } from '../webhooks/support.js';

const GH_SECRET = 'gh-hook-secret-for-limits';
const STRIPE_SECRET = 'whsec_limits_0123456789abcdef';

describe('per-sender limits on webhook flows', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW_MS);
  let address = 0;
  /** A different client address per request (trustProxy), as a sender's delivery fleet looks. */
  const nextAddress = () => `198.51.100.${(address++ % 250) + 1}`;

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        server: { trustProxy: true },
        storeOptions: { keyPrefix: `test:${randomUUID()}:` },
        flows: {
          github: { flowName: 'on_push', webhook: { provider: 'github', secrets: [GH_SECRET] }, rateLimit: { rate: '3/1m', burst: 3 } },
          github2: { flowName: 'on_push', webhook: { provider: 'github', secrets: [GH_SECRET] }, rateLimit: { rate: '3/1m', burst: 3 } },
          stripe: { flowName: 'on_payment', webhook: { provider: 'stripe', secrets: [STRIPE_SECRET] }, rateLimit: { quota: '2/d' } },
          plain: { flowName: 'plain', rateLimit: { rate: '1/1m', burst: 1 } },
        },
      },
      { clock },
    );
  });
  beforeEach(() => clock.set(NOW_MS));
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  async function deliverGithub(flow: string, from: string, body = JSON.stringify({ zen: randomUUID() })) {
    const headers = githubHeaders(await octokitSign(GH_SECRET, body), randomUUID());
    headers.set('x-forwarded-for', from);
    return gw.send(`${gw.url}/flows/${flow}/run`, { body, headers });
  }

  it('holds validly signed deliveries from many addresses to the flow rate, keyed by the sender', async () => {
    const before = stub.calls.length;
    for (let i = 0; i < 3; i++) {
      const ok = await deliverGithub('github', nextAddress());
      expect(ok.status).toBe(200);
      // Both checks are described: the address's (flow) and the sender's.
      expect(ok.headers.get('ratelimit-policy')).toBe('"flow";q=3;w=60, "sender";q=3;w=60');
      expect(ok.headers.get('ratelimit')).toBe(`"flow";r=2;t=20, "sender";r=${2 - i};t=${20 * (i + 1)}`);
    }
    const flooded = await deliverGithub('github', nextAddress());
    expect(flooded.status).toBe(429);
    expect(flooded.json).toMatchObject({ Code: 'ResourceThrottled' });
    expect(flooded.headers.get('retry-after')).toBe('20');
    expect(flooded.headers.get('ratelimit-policy')).toBe('"flow";q=3;w=60, "sender";q=3;w=60');
    expect(flooded.headers.get('ratelimit')).toBe('"flow";r=2;t=20, "sender";r=0;t=20');
    expect(stub.calls.length - before).toBe(3);
    expect(gw.logs.some((l) => l.status === 429 && l.caller === 'webhook:github' && l.rateLimited === 'local')).toBe(true);

    // The sender's budget is per flow: the same sender on another flow is not affected.
    expect((await deliverGithub('github2', nextAddress())).status).toBe(200);
    // It refills at the flow's rate.
    clock.advance(20_000);
    expect((await deliverGithub('github', nextAddress())).status).toBe(200);
    expect((await deliverGithub('github', nextAddress())).status).toBe(429);
  });

  it('still refuses an unsigned flood by address before the body is read, without touching the sender budget', async () => {
    const from = nextAddress();
    const before = stub.calls.length;
    for (let i = 0; i < 3; i++) {
      const forged = await gw.send(`${gw.url}/flows/github2/run`, {
        body: '{}',
        headers: { 'x-forwarded-for': from, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      });
      expect(forged.status).toBe(401);
      expect(forged.json).toMatchObject({ Code: 'InvalidSignature' });
    }
    const held = await gw.send(`${gw.url}/flows/github2/run`, {
      body: '{}',
      headers: { 'x-forwarded-for': from, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    });
    expect(held.status).toBe(429);
    expect(held.headers.get('ratelimit-policy')).toBe('"flow";q=3;w=60');
    expect(stub.calls.length).toBe(before);
    // Unsigned requests never reached the sender's budget: a signed delivery from elsewhere still passes.
    const signed = await deliverGithub('github2', nextAddress());
    expect(signed.status).toBe(200);
    expect(signed.headers.get('ratelimit')).toContain('"sender";r=1;');
  });

  it('applies the flow quota per sender as "sender-quota"', async () => {
    const deliver = (from: string) => {
      const body = JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, type: 'charge.succeeded' });
      const headers = signStripe(body, STRIPE_SECRET);
      headers.set('x-forwarded-for', from);
      headers.set('content-type', 'application/json');
      return gw.send(`${gw.url}/flows/stripe/run`, { body, headers });
    };
    expect((await deliver(nextAddress())).status).toBe(200);
    expect((await deliver(nextAddress())).status).toBe(200);
    const third = await deliver(nextAddress());
    expect(third.status).toBe(429);
    expect(third.headers.get('ratelimit-policy')).toBe('"flow-quota";q=2;w=86400, "sender-quota";q=2;w=86400');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('adds no sender check to flows without a webhook', async () => {
    const ok = await gw.send(`${gw.url}/flows/plain/run`, { body: '{}', headers: { 'x-forwarded-for': nextAddress() } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit-policy')).toBe('"flow";q=1;w=60');
  });
});
