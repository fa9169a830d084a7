/**
 * Webhook flows end to end through the gateway: deliveries signed by the providers' own libraries run the flow;
 * forged, altered or replayed ones are refused with 401 before CloudFlow is called.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { NOW_MS, NOW_SEC, githubHeaders, signSlack, signStandardWebhooks, signStripe, standardWebhooksSecret } from '../webhooks/support.js';

const SECRETS = {
  github: ['gh-hook-secret-current', 'gh-hook-secret-next'],
  stripe: ['whsec_stripe_current_0123456789', 'whsec_stripe_next_9876543210'],
  slack: ['slack-signing-secret-current', 'slack-signing-secret-next'],
  standard: [standardWebhooksSecret('standard-current'), standardWebhooksSecret('standard-next')],
};

type Provider = keyof typeof SECRETS;

/** A fresh body each time (with its own Stripe event id), so de-duplication never hides a run. */
const bodyFor = (provider: Provider) =>
  JSON.stringify({ id: `evt_${randomUUID().replace(/-/g, '')}`, type: `${provider}.test`, data: { text: 'héllo ✓', n: 1 } });

async function sign(provider: Provider, body: string, secret: string, timestampSec = NOW_SEC): Promise<Headers> {
  switch (provider) {
    case 'github':
      return githubHeaders(await octokitSign(secret, body), randomUUID());
    case 'stripe':
      return signStripe(body, secret, timestampSec);
    case 'slack':
      return signSlack(body, secret, timestampSec);
    case 'standard':
      return signStandardWebhooks(body, secret, timestampSec, `msg_${randomUUID()}`);
  }
}

const SIGNATURE_HEADER: Record<Provider, string> = {
  github: 'X-Hub-Signature-256',
  stripe: 'Stripe-Signature',
  slack: 'X-Slack-Signature',
  standard: 'webhook-signature',
};

describe('webhook flows verify real signatures at the gateway', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW_MS);

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        callers: { ops: { apiKeys: ['ops-key-0123456789abcdef'], admin: true } },
        flows: {
          github: { flowName: 'on_push', webhook: { provider: 'github', secrets: SECRETS.github } },
          stripe: { flowName: 'on_payment', webhook: { provider: 'stripe', secrets: SECRETS.stripe } },
          slack: { flowName: 'on_event', webhook: { provider: 'slack', secrets: SECRETS.slack } },
          standard: { flowName: 'on_message', webhook: { provider: 'standard-webhooks', secrets: SECRETS.standard } },
        },
      },
      { clock },
    );
  });
  beforeEach(() => clock.set(NOW_MS));
  afterAll(async () => {
    await gw.close();
    await stub.close();
    const logged = JSON.stringify(gw.logs);
    for (const secret of Object.values(SECRETS).flat()) expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/v1=[0-9a-f]{64}|sha256=[0-9a-f]{64}|v0=[0-9a-f]{64}/);
  });

  const deliver = (provider: Provider, body: string, headers: Headers) => {
    headers.set('content-type', 'application/json');
    return gw.send(`${gw.url}/flows/${provider}/run`, { body, headers });
  };

  /** Asserts a 401 InvalidSignature and that CloudFlow was not called for it. */
  async function refused(provider: Provider, body: string, headers: Headers) {
    const before = stub.calls.length;
    const answer = await deliver(provider, body, headers);
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ Code: 'InvalidSignature', Message: 'The webhook signature is missing or does not match.' });
    expect(stub.calls.length).toBe(before);
    return answer;
  }

  for (const provider of Object.keys(SECRETS) as Provider[]) {
    describe(provider, () => {
      it('a delivery signed by the provider library runs the flow with the exact body as Input', async () => {
        const body = bodyFor(provider);
        const answer = await deliver(provider, body, await sign(provider, body, SECRETS[provider][0]!));
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({ echo: JSON.parse(body) });
        expect(stub.calls.at(-1)!.form.Input).toBe(body);
        const line = gw.logs.find((l) => l.requestId === answer.headers.get('x-request-id'));
        expect(line).toMatchObject({ caller: `webhook:${provider === 'standard' ? 'standard-webhooks' : provider}`, status: 200 });
      });

      it('the second secret is accepted during rotation; a retired one is not', async () => {
        const body = bodyFor(provider);
        expect((await deliver(provider, body, await sign(provider, body, SECRETS[provider][1]!))).status).toBe(200);
        const retired = provider === 'standard' ? standardWebhooksSecret('retired') : `${SECRETS[provider][0]}-retired`;
        await refused(provider, body, await sign(provider, body, retired));
      });

      it('a changed body, even in whitespace only, is refused', async () => {
        const body = bodyFor(provider);
        const headers = await sign(provider, body, SECRETS[provider][0]!);
        await refused(provider, body.replace('"n":1', '"n":2'), new Headers(headers));
        await refused(provider, JSON.stringify(JSON.parse(body), null, 2), new Headers(headers));
        await refused(provider, `${body}\n`, new Headers(headers));
      });

      it('a missing signature header is refused', async () => {
        const body = bodyFor(provider);
        const headers = await sign(provider, body, SECRETS[provider][0]!);
        headers.delete(SIGNATURE_HEADER[provider]);
        await refused(provider, body, headers);
        await refused(provider, body, new Headers());
      });

      it('an API key does not stand in for the signature', async () => {
        const body = bodyFor(provider);
        await refused(provider, body, new Headers({ 'x-api-key': 'ops-key-0123456789abcdef' }));
      });

      if (provider !== 'github') {
        it('a timestamp older or further in the future than the tolerance is refused', async () => {
          for (const skewSec of [-301, 301, -86_400, 86_400]) {
            const body = bodyFor(provider);
            await refused(provider, body, await sign(provider, body, SECRETS[provider][0]!, NOW_SEC + skewSec));
          }
          const body = bodyFor(provider);
          expect((await deliver(provider, body, await sign(provider, body, SECRETS[provider][0]!, NOW_SEC - 299))).status).toBe(200);
        });

        it('the gateway clock decides: a delivery signed now is refused once it is too old', async () => {
          const body = bodyFor(provider);
          const headers = await sign(provider, body, SECRETS[provider][0]!);
          clock.advance(301_000);
          await refused(provider, body, headers);
        });
      }
    });
  }

  it('slack url_verification is answered with the challenge, signed, and runs nothing', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'c3po-r2d2', type: 'url_verification' });
    const before = stub.calls.length;
    const answer = await deliver('slack', body, signSlack(body, SECRETS.slack[0]!));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ challenge: 'c3po-r2d2' });
    expect(stub.calls.length).toBe(before);
    await refused('slack', body, signSlack(body, 'not-the-secret'));
  });
});
