import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from './helpers/spawn.js';

/**
 * `flowgate emulator --sts` serving STS over HTTPS and `flowgate serve` with `ram_role_arn`, as real processes
 * (the compiled dist/): what a user does to try the CI setup offline. The gateway process trusts the test
 * certificate authority through NODE_EXTRA_CA_CERTS, as the README tells users to trust theirs.
 */
const dir = mkdtempSync(join(tmpdir(), 'flowgate-credentials-'));
const CA = { NODE_EXTRA_CA_CERTS: resolve('test/fixtures/tls/ca.pem') };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('temporary keys across processes', () => {
  it('check names the type, serve assumes the role at the emulator STS and signs with the temporary keys', async () => {
    const emulator = await spawnCli([
      'emulator',
      '--port',
      '0',
      '--flows',
      'examples/flows',
      '--access-key',
      'ci-user:ci-user-secret',
      '--sts',
      '0',
      '--sts-tls-cert',
      'test/fixtures/tls/localhost.pem',
      '--sts-tls-key',
      'test/fixtures/tls/localhost-key.pem',
      '--sts-token-ttl',
      '20m',
    ]);
    try {
      const [, fnf, sts] = await emulator.waitFor(
        /STS \(AssumeRole, AssumeRoleWithOIDC\) at (http:\/\/127\.0\.0\.1:\d+) and (https:\/\/127\.0\.0\.1:\d+); tokens live 1200 s/,
      );
      const config = join(dir, 'ci.yaml');
      writeFileSync(
        config,
        [
          `upstream:`,
          `  endpoint: ${fnf}`,
          `  credentials:`,
          `    type: ram_role_arn`,
          `    accessKeyId: \${CI_KEY_ID}`,
          `    accessKeySecret: \${CI_KEY_SECRET}`,
          `    roleArn: acs:ram::1234567890123456:role/flowgate`,
          `    stsEndpoint: ${new URL(sts!).host}`,
          `flows:`,
          `  hello: { access: public }`,
          ``,
        ].join('\n'),
      );
      const env = { ...CA, CI_KEY_ID: 'ci-user', CI_KEY_SECRET: 'ci-user-secret' };
      const check = await spawnCli(['check', '--config', config], { env });
      expect(await check.exit()).toBe(0);
      expect(check.stdout()).toContain('\ncredentials: ram_role_arn\n');
      expect(check.stdout()).not.toMatch(/ci-user|acs:ram/);

      const serve = await spawnCli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], { env });
      try {
        const [, url] = await serve.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) -> \S+ \(credentials: ram_role_arn\)/);
        // The keys are fetched at start, before any request.
        await serve.waitFor(/"msg":"credentials refreshed","type":"ram_role_arn"/);
        const res = await fetch(`${url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ci"}' });
        expect(res.status).toBe(200);
        const ready = await fetch(`${url}/readyz`);
        expect(await ready.json()).toMatchObject({
          status: 'ok',
          checks: { credentials: { ok: true, detail: expect.stringMatching(/^ram_role_arn, valid until /) } },
        });
        await emulator.waitFor(/"action":"StartSyncExecution","accessKeyId":"STS\.[A-Za-z0-9]+","status":200/);
        expect(serve.stdout() + serve.stderr()).not.toContain('ci-user-secret');
      } finally {
        serve.child.kill('SIGTERM');
        await serve.exit();
      }
    } finally {
      emulator.child.kill('SIGTERM');
      await emulator.exit();
    }
  });

  it('serve refuses an http:// STS endpoint, which the official Node library cannot call, with exit 2 and the key path', async () => {
    const config = join(dir, 'http-sts.yaml');
    writeFileSync(
      config,
      `upstream:\n  endpoint: http://127.0.0.1:9\n  credentials: { type: ram_role_arn, accessKeyId: id, accessKeySecret: secret, roleArn: "acs:ram::1:role/r", stsEndpoint: "http://127.0.0.1:9401" }\nflows:\n  hello: {}\n`,
    );
    for (const command of ['check', 'serve']) {
      const cli = await spawnCli([command, '--config', config]);
      expect(await cli.exit()).toBe(2);
      expect(cli.stderr()).toMatch(/upstream\.credentials\.stsEndpoint: the official Node credentials library calls STS over HTTPS only/);
    }
  });
});
