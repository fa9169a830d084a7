/**
 * The gateway and the emulator on one clock moved by hand: continuous traffic across several lifetimes of
 * short-lived keys, CloudFlow refusing keys as expired, an expired static token, and what
 * `server.exposeUpstreamErrors` shows. Each refresh path runs both ways the runtimes fetch keys: the official Node
 * library (STS over HTTPS on the emulator's `--sts` port) and the Workers code (`fetch`, here to the emulator app).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialSource } from '../../src/cloudflow/credentials.js';
import { fetchTransport } from '../../src/cloudflow/transport.js';
import { parseConfig } from '../../src/config/load.js';
import { manualClock } from '../../src/lib/clock.js';
import { cryptoRandom } from '../../src/lib/random.js';
import type { LogLine } from '../../src/log.js';
import { startEmulator, type CallLogLine, type RunningEmulator } from '../../src/platform/node/emulator.js';
import { workersCredentialSource } from '../../src/platform/workers/credentials.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { HELLO_PASS_FLOW as HELLO } from '../helpers/flows.js';

const KEY = { accessKeyId: 'gateway-user', accessKeySecret: 'gateway-user-secret' };
const ROLE = 'acs:ram::1234567890123456:role/flowgate';
const TTL_MS = 60_000;
const tls = { cert: readFileSync('test/fixtures/tls/localhost.pem'), key: readFileSync('test/fixtures/tls/localhost-key.pem') };

let emulator: RunningEmulator;
/** The emulator's clock; the gateway's is `gatewayClock`, the same unless a test skews them. */
const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
let skewMs = 0;
const gatewayClock = { now: () => clock.now() - skewMs };
const calls: CallLogLine[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    accessKeys: [KEY],
    flows: [{ definition: HELLO }],
    clock,
    stsTokenTtlMs: TTL_MS,
    sts: { port: 0, tls },
    log: (line) => calls.push(line),
  });
});

afterAll(() => emulator?.close(0));

const emulatorFetch: typeof fetch = (input, init) => Promise.resolve(emulator.emulator.app.fetch(new Request(input, init)));

type Runtime = 'node' | 'workers';

/** A gateway with ram_role_arn: the official library over HTTPS (node), or the Workers code over the app (workers). */
function roleGateway(runtime: Runtime, extra: Record<string, unknown> = {}, server: Record<string, unknown> = {}): InProcessGateway {
  const raw = {
    upstream: { endpoint: emulator.url, credentials: { type: 'ram_role_arn', ...KEY, roleArn: ROLE, stsEndpoint: new URL(emulator.stsUrl!).host, ...extra } },
    server,
    flows: { hello: {} },
  };
  if (runtime === 'node') return inProcessGateway(raw, { clock: gatewayClock });
  const config = parseConfig(raw, {});
  const spec = { ...config.upstream.credentials, stsEndpoint: 'http://sts.emulator' } as typeof config.upstream.credentials;
  return inProcessGateway(raw, {
    clock: gatewayClock,
    transport: fetchTransport(emulatorFetch),
    credentialSource: workersCredentialSource(spec, { fetch: emulatorFetch, clock: gatewayClock, random: cryptoRandom }),
  });
}

const run = (gw: InProcessGateway) => gw.send('/flows/hello/run', { body: '{}' });
const refreshed = (logs: LogLine[]) => logs.filter((l) => l.msg === 'credentials refreshed');

describe.each(['node', 'workers'] as const)('ram_role_arn on %s', (runtime) => {
  it('continuous traffic across more than three key lifetimes: 0 failed calls, every refresh in the log', async () => {
    const gw = roleGateway(runtime);
    const from = calls.length;
    try {
      const statuses: number[] = [];
      // 3.5 lifetimes of 60 s, a second at a time, 4 calls at once each second.
      for (let second = 0; second < 210; second++) {
        const answers = await Promise.all([run(gw), run(gw), run(gw), run(gw)]);
        statuses.push(...answers.map((a) => a.status));
        clock.advance(1_000);
      }
      await gw.drain();
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(statuses).toHaveLength(840);
      const upstream = calls.slice(from);
      expect(upstream.filter((c) => c.status !== 200)).toEqual([]);
      // A refresh every half lifetime (a 60 s key is due at 30 s): the first keys and 6 refreshes, each logged with new keys.
      const lines = refreshed(gw.logs);
      const assumed = upstream.filter((c) => c.action === 'AssumeRole');
      expect(lines.length).toBe(assumed.length);
      expect(lines.length).toBeGreaterThanOrEqual(7);
      expect(new Set(lines.map((l) => l.expiresAt)).size).toBe(lines.length);
      expect(new Set(upstream.filter((c) => c.action === 'StartSyncExecution').map((c) => c.accessKeyId)).size).toBe(lines.length);
      expect(gw.runtime.counters).toMatchObject({ 'credentials.refreshes': lines.length });
      expect(gw.runtime.counters['credentials.expired']).toBeUndefined();
    } finally {
      await gw.close();
    }
  });

  it('CloudFlow refusing the keys as expired (its clock runs ahead): one refresh for all the refused calls, and one retry each', async () => {
    const gw = roleGateway(runtime);
    try {
      expect((await run(gw)).status).toBe(200);
      // The upstream's clock is 61 s ahead: the keys the gateway holds are expired there, not here.
      skewMs = 61_000;
      clock.advance(61_000);
      const from = calls.length;
      const answers = await Promise.all([run(gw), run(gw), run(gw)]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      const upstream = calls.slice(from);
      expect(upstream.filter((c) => c.code === 'InvalidSecurityToken.Expired')).toHaveLength(3);
      expect(upstream.filter((c) => c.action === 'AssumeRole')).toHaveLength(1);
      expect(upstream.filter((c) => c.action === 'StartSyncExecution' && c.status === 200)).toHaveLength(3);
      expect(gw.logs.filter((l) => l.msg === 'upstream refused the credentials as expired; refreshing')).toHaveLength(1);
      expect(gw.runtime.counters['credentials.expired']).toBe(3); // calls refused, not refreshes
    } finally {
      skewMs = 0;
      await gw.close();
    }
  });
});

describe('the retry after InvalidSecurityToken.Expired', () => {
  it('happens once: a source that hands out the same refused keys again gets a 502, after two upstream calls', async () => {
    const key = emulator.emulator.sts.issue(900);
    const source: CredentialSource = {
      type: 'credentials_uri',
      refreshable: true,
      maxFetchMs: 1_000,
      // Claims a long life, as a stale sidecar cache would.
      fetch: async () => ({ credentials: key, expiresAt: clock.now() + 3_600_000, providerName: 'credential_uri' }),
    };
    const gw = inProcessGateway(
      { upstream: { endpoint: emulator.url, credentials: { type: 'credentials_uri', credentialsURI: 'http://sidecar/creds' } }, flows: { hello: {} } },
      { clock, credentialSource: source },
    );
    try {
      clock.advance(TTL_MS);
      const from = calls.length;
      const answer = await run(gw);
      expect(answer.status).toBe(502);
      expect(calls.slice(from).map((c) => c.code)).toEqual(['InvalidSecurityToken.Expired', 'InvalidSecurityToken.Expired']);
      expect(gw.logs.find((l) => l.path === '/flows/hello/run')).toMatchObject({ upstreamStatus: 400, upstreamCode: 'InvalidSecurityToken.Expired' });
    } finally {
      await gw.close();
    }
  });
});

describe('an expired static STS token', () => {
  function staticGateway(exposeUpstreamErrors: boolean) {
    const key = emulator.emulator.sts.issue(900);
    return inProcessGateway(
      {
        upstream: {
          endpoint: emulator.url,
          credentials: { accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret, securityToken: key.securityToken },
        },
        server: { exposeUpstreamErrors },
        flows: { hello: {} },
      },
      { clock, transport: fetchTransport(emulatorFetch) },
    );
  }

  it('gives one clear log line, no retry, a generic 502 and an unready /readyz', async () => {
    const gw = staticGateway(false);
    try {
      expect((await run(gw)).status).toBe(200);
      clock.advance(TTL_MS);
      const from = calls.length;
      const answers = [await run(gw), await run(gw)];
      expect(answers.map((a) => a.status)).toEqual([502, 502]);
      expect(answers[0]!.json).toEqual({
        RequestId: expect.any(String),
        Code: 'UpstreamError',
        Message: 'The workflow service returned an error. See the gateway log for details.',
      });
      expect(calls.slice(from)).toHaveLength(2); // one upstream call per request: a static token is not worth a retry
      const expired = gw.logs.filter((l) => l.msg === 'upstream credentials expired');
      expect(expired).toEqual([
        {
          level: 'error',
          msg: 'upstream credentials expired',
          type: 'sts',
          detail: expect.stringContaining('refused the STS token of upstream.credentials as expired (InvalidSecurityToken.Expired)'),
        },
      ]);
      const ready = await gw.send('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({
        checks: { credentials: { ok: false, detail: 'sts: no valid credentials: the upstream refused the sts keys as expired' } },
      });
    } finally {
      await gw.close();
    }
  });

  it('with server.exposeUpstreamErrors, the 502 names the upstream code and says what to do, and still no secret', async () => {
    const gw = staticGateway(true);
    try {
      clock.advance(TTL_MS);
      const answer = await run(gw);
      expect(answer.status).toBe(502);
      expect(answer.json).toEqual({
        RequestId: expect.any(String),
        Code: 'UpstreamError',
        Message: 'The workflow service returned an error. See the gateway log for details.',
        UpstreamCode: 'InvalidSecurityToken.Expired',
        UpstreamRequestId: expect.any(String),
        Hint: expect.stringContaining('is never refreshed: use type ram_role_arn, oidc_role_arn, ecs_ram_role or credentials_uri'),
      });
      expect(answer.text).not.toMatch(/CAIS|STS\./);
    } finally {
      await gw.close();
    }
  });
});

describe('server.exposeUpstreamErrors', () => {
  function plainGateway(expose: boolean | undefined, secret = KEY.accessKeySecret, flowName = 'hello') {
    return inProcessGateway(
      {
        upstream: { endpoint: emulator.url, credentials: { accessKeyId: KEY.accessKeyId, accessKeySecret: secret } },
        server: expose === undefined ? {} : { exposeUpstreamErrors: expose },
        flows: { hello: { flowName } },
      },
      { clock, transport: fetchTransport(emulatorFetch) },
    );
  }

  it('is off by default: the 502 says nothing of the setup', async () => {
    const gw = plainGateway(undefined, 'wrong-secret');
    try {
      const answer = await run(gw);
      expect(answer.status).toBe(502);
      expect(Object.keys(answer.json!)).toEqual(['RequestId', 'Code', 'Message']);
    } finally {
      await gw.close();
    }
  });

  it('names a wrong secret and a flow the upstream does not have, with a hint for each', async () => {
    const wrongSecret = plainGateway(true, 'wrong-secret');
    const missingFlow = plainGateway(true, KEY.accessKeySecret, 'no_such_flow');
    try {
      const signature = await run(wrongSecret);
      expect(signature.json).toMatchObject({
        UpstreamCode: expect.stringMatching(/^Signature(DoesNot|Not)Match$/),
        Hint: expect.stringContaining('accessKeySecret'),
      });
      expect(signature.text).not.toContain('wrong-secret');
      const flow = await run(missingFlow);
      expect(flow.json).toMatchObject({ UpstreamCode: 'FlowNotExists', Hint: expect.stringContaining("check the flow's flowName") });
    } finally {
      await wrongSecret.close();
      await missingFlow.close();
    }
  });

  it('when no keys could be had, says so', async () => {
    const gw = inProcessGateway(
      {
        upstream: {
          endpoint: emulator.url,
          credentials: { type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:1/creds', timeout: 200, connectTimeout: 200 },
        },
        server: { exposeUpstreamErrors: true },
        flows: { hello: {} },
      },
      { clock },
    );
    try {
      const answer = await run(gw);
      expect(answer.status).toBe(502);
      expect(answer.json).toMatchObject({ Code: 'UpstreamError', Hint: expect.stringContaining('could not obtain upstream credentials') });
      expect(answer.json!.UpstreamCode).toBeUndefined();
      expect(gw.logs.find((l) => l.path === '/flows/hello/run')).toMatchObject({
        upstreamCode: 'credentials',
        detail: expect.stringContaining('no upstream credentials: credentials_uri:'),
      });
    } finally {
      await gw.close();
    }
  });
});
