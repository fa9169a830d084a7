import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate } from './helpers/gate.js';
import { spawnCli } from './helpers/spawn.js';
import { startUpstreamStub, succeeded, type UpstreamStub } from './helpers/upstream-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-reload-'));
const credsEnv = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const OPS = 'ops-key-0123456789abcdef00';

/** A config whose hello flow allows `burst` requests per hour per caller. */
const config = (endpoint: string, burst: number) =>
  [
    `upstream: { endpoint: "${endpoint}" }`,
    `callers: { ops: { apiKeys: ["${OPS}"], admin: true } }`,
    'flows:',
    `  hello: { access: public, rateLimit: { rate: 1/1h, burst: ${burst} } }`,
    '',
  ].join('\n');

describe('reload without a restart (process)', () => {
  let stub: UpstreamStub;
  beforeAll(async () => {
    stub = await startUpstreamStub();
  });
  afterAll(async () => {
    await stub.close();
  });

  it('SIGHUP applies a new rate limit to new requests, keeps the limiter state and counters, and finishes the request in flight', async () => {
    const file = join(dir, 'flowgate.yaml');
    writeFileSync(file, config(stub.url, 1));
    const cli = await spawnCli(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], { env: credsEnv });
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const run = () => fetch(`${url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

      // The first call is held at the upstream until the test opens the gate: it is in flight across the reload.
      const held = gate();
      stub.respond(async (call) => {
        if (call.form.Input === '{}' && stub.calls.length === 1) await held.opened;
        return succeeded({ ok: true }, call);
      });
      const inFlight = run();
      await stub.received(1);
      expect((await run()).status).toBe(429); // burst 1, already spent

      // Burst 2: one more request fits on top of the one already counted, not two (the limiter state is kept).
      writeFileSync(file, config(stub.url, 2));
      cli.child.kill('SIGHUP');
      await cli.waitFor(/flowgate: reloaded /);
      expect((await run()).status).toBe(200);
      expect((await run()).status).toBe(429);

      held.open();
      const first = await inFlight;
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ ok: true });

      // Counters survived the reload: every answer so far is in the metrics.
      const metrics = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': OPS } })).text();
      expect(metrics).toMatch(/flowgate_requests_total\{flow="hello",status_class="2xx"\} 2\n/);
      expect(metrics).toMatch(/flowgate_requests_total\{flow="hello",status_class="4xx"\} 2\n/);

      // An invalid config is logged with its key path, and the running one keeps serving.
      writeFileSync(file, config(stub.url, 2).replace('access: public,', 'access: public, maxInputSize: lots,'));
      const reload = await spawnCli(['reload', '--pid', String(cli.child.pid)]);
      expect(await reload.exit()).toBe(0);
      await cli.waitFor(/reload of .* refused, the running config keeps serving/);
      expect(cli.stderr()).toContain('flows.hello.maxInputSize: expected a size');
      await cli.waitFor(/"msg":"config reload refused; the running config keeps serving"/);
      expect((await run()).status).toBe(429); // still the burst-2 config, its budget spent
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
  });

  it('flowgate reload names a process that does not exist with exit 1', async () => {
    const reload = await spawnCli(['reload', '--pid', '999999999']);
    expect(await reload.exit()).toBe(1);
    expect(reload.stderr()).toMatch(/cannot signal process 999999999: (ESRCH|EINVAL)/);
  });
});
