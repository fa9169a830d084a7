import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFlowsFolder, loadHandlers, startEmulator, type RunningEmulator } from '../src/platform/node/emulator.js';
import type { StartEmulatorOptions } from '../src/platform/node/emulator.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { startDemo, type RunningDemo } from '../src/cli/demo.js';

/**
 * The gateway in front of the emulator, both real servers on loopback: what a user of flowgate sees, with
 * nothing stubbed. Signatures, result mapping, timeouts and throttling all cross real HTTP.
 */
const KEY = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

async function emulatorWith(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({
    port: 0,
    accessKeys: [KEY],
    flows: loadFlowsFolder('examples/flows'),
    handlers: await loadHandlers('examples/handlers/index.mjs'),
    ...options,
  });
}

function gatewayConfig(endpoint: string, signatureVersion: 'v3' | 'rpc', flows: Record<string, unknown> = {}) {
  return {
    upstream: { endpoint, signatureVersion, credentials: KEY, timeout: '10s' },
    flows: {
      hello: {},
      'validate-order': { flowName: 'validate_order', errors: { InvalidOrder: 422 } },
      quote: { errors: { OrderNotFound: 404 } },
      slow: {},
      ...flows,
    },
  };
}

async function run(gw: TestGateway | string, flow: string, body: unknown) {
  const base = typeof gw === 'string' ? gw : gw.url;
  const res = await fetch(`${base}/flows/${flow}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { res, json: (await res.json()) as Record<string, unknown> };
}

describe.each(['v3', 'rpc'] as const)('gateway → emulator over real HTTP, %s signatures', (signatureVersion) => {
  let emu: RunningEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    // Flow time runs 100× faster, so slow's 5 s flow Timeout passes in 50 ms.
    emu = await emulatorWith({ timeScale: 0.01 });
    gw = await startGateway(gatewayConfig(emu.url, signatureVersion));
  });
  afterAll(async () => {
    await gw.close();
    await emu.close();
  });

  it('hello answers 200 with the Output and the execution name', async () => {
    const { res, json } = await run(gw, 'hello', { name: 'Ada' });
    expect(res.status).toBe(200);
    expect(json).toEqual({ message: 'Hello, Ada!' });
    expect(res.headers.get('x-execution-name')).toMatch(new RegExp(`^[A-Za-z0-9_-]+:${UUID}$`));
  });

  it('a Failed flow is mapped by the flow errors table: InvalidOrder → 422, OrderNotFound → 404', async () => {
    const invalid = await run(gw, 'validate-order', { items: [] });
    expect(invalid.res.status).toBe(422);
    expect(invalid.json).toMatchObject({
      Code: 'InvalidOrder',
      Message: 'An order needs an orderId and at least one item.',
      ExecutionName: expect.stringMatching(new RegExp(`:${UUID}$`)),
    });
    const unknown = await run(gw, 'quote', { sku: 'durian', qty: 1 });
    expect([unknown.res.status, unknown.json.Code]).toEqual([404, 'OrderNotFound']);
    const priced = await run(gw, 'quote', { sku: 'apple', qty: 3 });
    expect(priced.json).toEqual({ quote: { sku: 'apple', qty: 3, unitPrice: 0.5, total: 1.5 } });
  });

  it('a timed-out flow (Status TimedOut) → 504 ExecutionTimedOut', async () => {
    const { res, json } = await run(gw, 'slow', {});
    expect(res.status).toBe(504);
    expect(json.Code).toBe('ExecutionTimedOut');
  });
});

describe('gateway → emulator: deadlines, throttling, setup errors', () => {
  it('the gateway deadline passing before the flow ends → 504 GatewayTimeout', async () => {
    const emu = await emulatorWith({ timeScale: 0.05 });
    const gw = await startGateway(gatewayConfig(emu.url, 'v3', { slow: { timeout: '100ms' } }));
    try {
      const { res, json } = await run(gw, 'slow', {});
      expect([res.status, json.Code]).toEqual([504, 'GatewayTimeout']);
    } finally {
      await gw.close();
      await emu.close();
    }
  });

  it('a throttled emulator → 429 ResourceThrottled with Retry-After through the gateway', async () => {
    // A clock that stands still: the emulator's token bucket never refills during the test.
    const frozen = Date.now();
    const emu = await emulatorWith({ clock: { now: () => frozen }, faults: { throttle: 1 } });
    const gw = await startGateway(gatewayConfig(emu.url, 'v3'));
    try {
      expect((await run(gw, 'hello', {})).res.status).toBe(200);
      const { res, json } = await run(gw, 'hello', { name: 'again' });
      expect(res.status).toBe(429);
      expect(json.Code).toBe('ResourceThrottled');
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await gw.close();
      await emu.close();
    }
  });

  it('a wrong key or a flow the emulator lacks is a generic 502 to the caller, detail in the log', async () => {
    const emu = await emulatorWith();
    const gw = await startGateway({
      ...gatewayConfig(emu.url, 'v3', { ghost: {} }),
      upstream: { endpoint: emu.url, credentials: { accessKeyId: 'testid', accessKeySecret: 'wrong' } },
    });
    try {
      const badKey = await run(gw, 'hello', {});
      expect([badKey.res.status, badKey.json.Code]).toEqual([502, 'UpstreamError']);
      expect(JSON.stringify(gw.logs)).toContain('SignatureNotMatch');
      expect(JSON.stringify(badKey.json)).not.toContain('wrong');
    } finally {
      await gw.close();
    }
    const gw2 = await startGateway(gatewayConfig(emu.url, 'rpc', { ghost: {} }));
    try {
      const ghost = await run(gw2, 'ghost', {});
      expect([ghost.res.status, ghost.json.Code]).toEqual([502, 'UpstreamError']);
      expect(JSON.stringify(gw2.logs)).toContain('FlowNotExists');
    } finally {
      await gw2.close();
      await emu.close();
    }
  });
});

describe('the demo (startDemo on ephemeral ports)', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', emulatorPort: 0, log: () => {} });
  });
  afterAll(async () => {
    await demo.close();
  });

  it('answers the README curl line and every example flow as docs/emulator.md shows', async () => {
    expect(await run(demo.gatewayUrl, 'hello', { name: 'ada' }).then((r) => [r.res.status, r.json])).toEqual([200, { message: 'Hello, ada!' }]);
    expect(await run(demo.gatewayUrl, 'hello', {}).then((r) => r.json)).toEqual({ message: 'Hello, world!' });
    expect(await run(demo.gatewayUrl, 'validate-order', { orderId: 'o-1', items: ['a', 'b'] }).then((r) => r.json)).toEqual({
      status: 'accepted',
      orderId: 'o-1',
      itemCount: 2,
    });
    expect(await run(demo.gatewayUrl, 'validate-order', { items: [] }).then((r) => [r.res.status, r.json.Code])).toEqual([422, 'InvalidOrder']);
    expect(await run(demo.gatewayUrl, 'quote', { sku: 'apple', qty: 3 }).then((r) => r.json)).toEqual({
      quote: { sku: 'apple', qty: 3, unitPrice: 0.5, total: 1.5 },
    });
    expect(await run(demo.gatewayUrl, 'quote', { sku: 'durian', qty: 1 }).then((r) => [r.res.status, r.json.Code])).toEqual([404, 'OrderNotFound']);
    expect(await run(demo.gatewayUrl, 'router', { kind: 'refund', amount: 5000, id: 9 }).then((r) => r.json)).toEqual({ route: 'refund-review', id: 9 });
    expect(await run(demo.gatewayUrl, 'fanout', { items: [3, 1, 3, 2] }).then((r) => r.json)).toEqual({ count: 4, unique: [3, 1, 2], first: 3 });
    expect(await run(demo.gatewayUrl, 'map-items', { items: [{ sku: 'apple', qty: 3 }] }).then((r) => r.json)).toEqual({
      count: 1,
      labels: [{ label: '3 x apple' }],
    });
  });

  it('the slow flow outlasts its 2 s gateway timeout → 504', async () => {
    const { res, json } = await run(demo.gatewayUrl, 'slow', {});
    expect([res.status, json.Code]).toEqual([504, 'GatewayTimeout']);
  });
});

describe.each(['api', 'pop'] as const)('gateway → emulator answering in the %s vocabulary', (errorCodes) => {
  // The same failures, named differently by each vocabulary, reach the caller the same way.
  it('a wrong secret and a key not allowed the flow are a generic 502; throttling is 429 with Retry-After', async () => {
    const frozen = Date.now();
    const limited = { accessKeyId: 'limited', accessKeySecret: 'limitedsecret', flows: ['hello'] };
    const emu = await emulatorWith({ errorCodes, clock: { now: () => frozen }, accessKeys: [KEY, limited], faults: { throttle: 1 } });
    const wrongSecret = await startGateway({
      ...gatewayConfig(emu.url, 'v3'),
      upstream: { endpoint: emu.url, credentials: { ...KEY, accessKeySecret: 'wrong' } },
    });
    const limitedKey = await startGateway({
      ...gatewayConfig(emu.url, 'rpc'),
      upstream: { endpoint: emu.url, signatureVersion: 'rpc', credentials: { accessKeyId: limited.accessKeyId, accessKeySecret: limited.accessKeySecret } },
    });
    try {
      const badKey = await run(wrongSecret, 'hello', {});
      expect([badKey.res.status, badKey.json.Code]).toEqual([502, 'UpstreamError']);
      expect(wrongSecret.logs.at(-1)).toMatchObject({ upstreamCode: errorCodes === 'api' ? 'SignatureNotMatch' : 'SignatureDoesNotMatch' });
      const denied = await run(limitedKey, 'quote', { sku: 'apple' });
      expect([denied.res.status, denied.json.Code]).toEqual([502, 'UpstreamError']);
      expect(limitedKey.logs.at(-1)).toMatchObject({ upstreamStatus: 403, upstreamCode: errorCodes === 'api' ? 'AccessDenied' : 'Forbidden.RAM' });
      // The first authenticated call spent the one token; the next is throttled.
      expect((await run(limitedKey, 'hello', {})).res.status).toBe(200);
      const throttled = await run(limitedKey, 'hello', {});
      expect([throttled.res.status, throttled.json.Code, throttled.res.headers.get('retry-after')]).toEqual([429, 'ResourceThrottled', '1']);
    } finally {
      await wrongSecret.close();
      await limitedKey.close();
      await emu.close();
    }
  });
});
