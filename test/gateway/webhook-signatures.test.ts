/**
 * Every webhook preset end to end through the gateway: deliveries signed by the providers' own libraries
 * (test/webhooks/presets.ts) run the flow; altered, foreign, stale or early ones are refused with 401
 * before CloudFlow is called; handshakes are answered without running anything; a redelivery is answered
 * from the first one's record.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { PRESETS, presetOptions, type Delivery, type PresetCase } from '../webhooks/presets.js';
import { NOW_MS, NOW_SEC } from '../webhooks/support.js';

const flowOf = (preset: PresetCase) => `hook-${preset.provider}`;

describe('webhook flows verify real signatures at the gateway', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW_MS);

  beforeAll(() => {
    stub = inProcessUpstream();
    const flows: Record<string, unknown> = {};
    for (const preset of PRESETS) flows[flowOf(preset)] = { flowName: 'on_hook', webhook: presetOptions(preset, preset.keys.slice(0, 2)) };
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        callers: { ops: { apiKeys: ['ops-key-0123456789abcdef'], admin: true } },
        flows,
      },
      { clock },
    );
  });
  beforeEach(() => clock.set(NOW_MS));
  afterAll(async () => {
    await gw.close();
    await stub.close();
    const logged = JSON.stringify(gw.logs);
    for (const secret of PRESETS.flatMap((preset) => preset.keys)) expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/v1=[0-9a-f]{64}|sha256=[0-9a-f]{64}|v0=[0-9a-f]{64}|[0-9a-f]{128}/);
  });

  const deliver = (preset: PresetCase, delivery: Delivery, body = delivery.body) => {
    const query = delivery.url?.includes('?') ? delivery.url.slice(delivery.url.indexOf('?')) : '';
    return gw.send(`${gw.url}/flows/${flowOf(preset)}/run${query}`, { body, headers: delivery.headers });
  };
  const callsWith = (marker: string) => stub.calls.filter((call) => call.form.Input?.includes(marker)).length;

  /** Asserts a 401 InvalidSignature and that CloudFlow was not called for it. */
  async function refused(preset: PresetCase, delivery: Delivery, body = delivery.body) {
    const before = stub.calls.length;
    const answer = await deliver(preset, delivery, body);
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ Code: 'InvalidSignature', Message: 'The webhook signature is missing or does not match.' });
    expect(stub.calls.length).toBe(before);
    return answer;
  }

  describe.each(PRESETS.map((preset) => [preset.provider, preset] as const))('%s', (provider, preset) => {
    const [current, next, retired] = preset.keys;

    it('a delivery signed by the provider library runs the flow, the sender as the caller', async () => {
      const id = randomUUID();
      const delivery = await preset.deliver(current, { id });
      const answer = await deliver(preset, delivery);
      expect(answer.status).toBe(200);
      const input = stub.calls.at(-1)!.form.Input!;
      expect(input).toContain(id);
      // A JSON body is the Input exactly as sent; a form (Twilio) becomes an object of its fields.
      if (provider === 'twilio') expect(JSON.parse(input)).toMatchObject({ MessageId: id, Body: 'héllo ✓ & more', Tag: ['b', 'a'] });
      else expect(input).toBe(delivery.body);
      expect(answer.json).toEqual({ echo: JSON.parse(input) });
      const line = gw.logs.find((l) => l.requestId === answer.headers.get('x-request-id'));
      expect(line).toMatchObject({ caller: `webhook:${provider}`, status: 200 });
    });

    it('the next key is accepted during rotation; a retired one is not', async () => {
      expect((await deliver(preset, await preset.deliver(next, { id: randomUUID() }))).status).toBe(200);
      await refused(preset, await preset.deliver(retired, { id: randomUUID() }));
    });

    if (preset.signsBody) {
      it('one changed body byte is refused', async () => {
        const delivery = await preset.deliver(current, { id: randomUUID() });
        await refused(preset, delivery, preset.tamper(delivery.body));
      });
    }

    it('a missing signature header is refused, and an API key does not stand in for it', async () => {
      const delivery = await preset.deliver(current, { id: randomUUID() });
      delivery.headers.delete(preset.signatureHeader);
      await refused(preset, delivery);
      await refused(preset, { body: delivery.body, headers: new Headers({ 'x-api-key': 'ops-key-0123456789abcdef' }) });
    });

    const { timestamp, toleranceMs } = preset;
    if (timestamp) {
      it('a stale timestamp and a future one are refused; one just inside the window runs', async () => {
        const toleranceSec = toleranceMs / 1000;
        for (const skewSec of [-toleranceSec - 1, toleranceSec + 1, -86_400, 86_400]) {
          await refused(preset, await preset.deliver(current, { timestampSec: NOW_SEC + skewSec, id: randomUUID() }));
        }
        expect((await deliver(preset, await preset.deliver(current, { timestampSec: NOW_SEC - toleranceSec + 1, id: randomUUID() }))).status).toBe(200);
      });

      it('the gateway clock decides: a delivery signed now is refused once it is too old', async () => {
        const delivery = await preset.deliver(current, { id: randomUUID() });
        clock.advance(toleranceMs + 1_000);
        await refused(preset, delivery);
      });
    }

    if (preset.hasDeliveryId) {
      it('a redelivery is answered from the first one without running the flow again', async () => {
        const id = randomUUID();
        const first = await deliver(preset, await preset.deliver(current, { id }));
        expect(first.status).toBe(200);
        // Signed again, as providers do when they retry; the delivery id is what stays the same.
        clock.advance(1_000);
        const again = await deliver(preset, await preset.deliver(current, { id, timestampSec: NOW_SEC + 1 }));
        expect(again.status).toBe(200);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.text).toBe(first.text);
        expect(callsWith(id)).toBe(1);
      });
    } else {
      it('has no delivery id, so a redelivery runs again (documented)', async () => {
        const id = randomUUID();
        expect((await deliver(preset, await preset.deliver(current, { id }))).status).toBe(200);
        expect((await deliver(preset, await preset.deliver(current, { id }))).status).toBe(200);
        expect(callsWith(id)).toBe(2);
      });
    }

    for (const handshake of preset.handshakes ?? []) {
      it(`${handshake.name} is answered, signed, and runs nothing`, async () => {
        for (const key of [current, next]) {
          const before = stub.calls.length;
          const answer = await deliver(preset, await handshake.deliver(key, NOW_SEC));
          expect(answer.status).toBe(handshake.status);
          expect(answer.text).toBe(handshake.body(key));
          if (handshake.contentType) expect(answer.headers.get('content-type')).toBe(handshake.contentType);
          expect(stub.calls.length).toBe(before);
          const line = gw.logs.find((l) => l.requestId === answer.headers.get('x-request-id'));
          expect(line).toMatchObject({
            caller: `webhook:${provider}`,
            status: handshake.status,
            detail: `handshake: ${handshake.name.replace(/^(interaction|webhook-event) PING$/, 'ping')}`,
          });
        }
        await refused(preset, await handshake.deliver(retired, NOW_SEC));
      });
    }
  });
});
