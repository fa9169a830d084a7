import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCli, serveCli, type CliProcess } from '../helpers/built-cli.js';
import { startUpstreamStub, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const KEY = 'mobile-key-0123456789abcdef';

/**
 * Three real `flowgate serve` processes (the compiled CLI) share the suite's own Redis. The
 * limit must hold across them exactly: one script run decides each request atomically.
 */
describe('three gateway processes sharing Redis', () => {
  let stub: UpstreamStub;
  let build: Awaited<ReturnType<typeof buildCli>>;
  const gateways: CliProcess[] = [];

  beforeAll(async () => {
    [stub, build] = await Promise.all([startUpstreamStub(), buildCli()]);
    const configFile = join(build.dir, 'flowgate.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        // Generous deadlines for the store and the upstream: this test is about exactness, and 300 requests land at
        // once on a small machine; at a load average of 15, 5 s deadlines let fewer than 50 of them through.
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '60s' },
        server: { accessLog: false },
        store: REDIS_URL,
        storeOptions: { keyPrefix: `test:${randomUUID()}:`, timeout: '60s', onError: 'closed' },
        callers: { 'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '1/h', burst: 50 } } },
        flows: { hello: {} },
      }),
    );
    gateways.push(...(await Promise.all([0, 1, 2].map(() => serveCli(build.cli, configFile)))));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await stub?.close();
    build?.remove();
  });

  it('300 concurrent requests for one caller with burst 50: exactly 50 pass, summed over the three', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const gateway = gateways[i % 3]!;
        const res = await fetch(`${gateway.url}/flows/hello/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KEY },
          body: '{}',
        });
        return { res, json: (await res.json()) as Record<string, unknown>, gateway: i % 3 };
      }),
    );
    const statuses = answers.map((a) => a.res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(250);
    expect(stub.calls).toHaveLength(50);
    // A refusal decided s seconds after the first admission waits 3600 - s, rounded up: the whole burst
    // was spent within the time the requests took, however slow the machine.
    const elapsed = Math.ceil((Date.now() - started) / 1000);
    for (const { res, json } of answers.filter((a) => a.res.status === 429)) {
      expect(json.Code).toBe('ResourceThrottled');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(retryAfter).toBeGreaterThanOrEqual(3600 - elapsed);
      expect(res.headers.get('ratelimit')).toMatch(/^"caller";r=0;t=\d+$/);
    }
    // Every remaining count from 49 down to 0 was handed out exactly once across the processes.
    const remaining = answers.filter((a) => a.res.status === 200).map((a) => Number(/r=(\d+)/.exec(a.res.headers.get('ratelimit')!)![1]));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  }, 180_000);
});
