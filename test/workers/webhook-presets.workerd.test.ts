/**
 * Every webhook preset in the real workerd runtime: Web Crypto there (HMAC, Ed25519) verifies what the
 * providers' libraries signed, tampering is refused, handshakes are answered without a run, and a redelivery
 * is answered from the RECORDS Durable Object. The Worker's clock is the wall clock, so deliveries are signed now.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { PRESETS, presetOptions, type Delivery, type PresetCase } from '../webhooks/presets.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { send } from './helpers/http.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';

const flowOf = (preset: PresetCase) => `hook-${preset.provider}`;
const nowSec = () => Math.floor(Date.now() / 1000);

let build: WorkerBuild;
let stub: UpstreamStub;
let edge: WorkerdGateway;

beforeAll(async () => {
  [build, stub] = await Promise.all([buildWorker(), startUpstreamStub()]);
  stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call));
  const flows: Record<string, unknown> = {};
  for (const preset of PRESETS) flows[flowOf(preset)] = { webhook: presetOptions(preset) };
  edge = await startWorkerd(build, {
    FLOWGATE_CONFIG: JSON.stringify({ upstream: { endpoint: stub.url, timeout: '5s' }, flows }),
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
  });
}, 90_000);

afterAll(async () => {
  await edge?.close();
  await stub?.close();
  await build?.remove();
});

const deliver = (preset: PresetCase, delivery: Delivery, body = delivery.body) => {
  const headers = new Headers(delivery.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return send(`${edge.url}/flows/${flowOf(preset)}/run`, { method: 'POST', headers, body });
};
const callsWith = (marker: string) => stub.calls.filter((call) => call.form.Input?.includes(marker)).length;

describe.each(PRESETS.map((preset) => [preset.provider, preset] as const))('%s in workerd', (_provider, preset) => {
  const [current, , retired] = preset.keys;

  it('runs a delivery its provider signed once, and answers the redelivery from the record', async () => {
    const id = randomUUID();
    const delivery = await preset.deliver(current, { id, timestampSec: nowSec() });
    const first = await deliver(preset, delivery);
    expect(first.status).toBe(200);
    expect(JSON.stringify(first.json)).toContain(id);
    expect(callsWith(id)).toBe(1);
    if (!preset.hasDeliveryId) return;
    const again = await deliver(preset, await preset.deliver(current, { id, timestampSec: nowSec() }));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(callsWith(id)).toBe(1);
  });

  it('refuses each kind of tampering with 401, before any upstream call', async () => {
    const id = randomUUID();
    const delivery = await preset.deliver(current, { id, timestampSec: nowSec() });
    const forged: [string, Promise<Delivery>, string?][] = [['another key', preset.deliver(retired, { id, timestampSec: nowSec() })]];
    if (preset.signsBody) forged.push(['one changed byte', Promise.resolve(delivery), preset.tamper(delivery.body)]);
    if (preset.timestamp) {
      const windowSec = preset.toleranceMs / 1000;
      forged.push(['a stale timestamp', preset.deliver(current, { id, timestampSec: nowSec() - windowSec - 60 })]);
      forged.push(['a future timestamp', preset.deliver(current, { id, timestampSec: nowSec() + windowSec + 60 })]);
    }
    for (const [what, pending, body] of forged) {
      const answer = await deliver(preset, await pending, body);
      expect({ what, status: answer.status, code: (answer.json as { Code?: string }).Code }).toEqual({ what, status: 401, code: 'InvalidSignature' });
    }
    expect(callsWith(id)).toBe(0);
  });

  for (const handshake of preset.handshakes ?? []) {
    it(`answers ${handshake.name} without running anything`, async () => {
      const before = stub.calls.length;
      const answer = await deliver(preset, await handshake.deliver(current, nowSec()));
      expect(answer.status).toBe(handshake.status);
      expect(answer.text).toBe(handshake.body(current));
      expect(stub.calls.length).toBe(before);
    });
  }
});
