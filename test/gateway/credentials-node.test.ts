/**
 * Every credential type on Node, through the official `@alicloud/credentials` as the gateway uses it, against the
 * emulator (STS over HTTPS on its `--sts` port, fnf on its main one) or a local stand-in for the ECS metadata
 * service and a credentials URI. The clock is the emulator's and the gateway's, moved by hand; the official
 * library stamps its STS calls with the real time, which stays within the emulator's 15-minute window because
 * the tests move the clock by minutes only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import type { LogLine } from '../../src/log.js';
import { startEmulator, type RunningEmulator } from '../../src/platform/node/emulator.js';
import { nodeCredentialSource } from '../../src/platform/node/credentials.js';
import { parseConfig } from '../../src/config/load.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { redirectMetadataService, startCredentialsUri, startMetadataStandIn } from '../helpers/credential-stand-ins.js';
import { HELLO_PASS_FLOW as HELLO } from '../helpers/flows.js';

const KEY = { accessKeyId: 'ci-user', accessKeySecret: 'ci-user-secret' };
const ROLE = 'acs:ram::1234567890123456:role/flowgate';
const OIDC_PROVIDER = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa';
const tls = { cert: readFileSync('test/fixtures/tls/localhost.pem'), key: readFileSync('test/fixtures/tls/localhost-key.pem') };
const MINUTE = 60_000;

let emulator: RunningEmulator;
const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
const emulatorCalls: { action: string | undefined; accessKeyId: string | undefined; status: number; code: string | undefined }[] = [];
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    accessKeys: [KEY],
    flows: [{ definition: HELLO }],
    clock,
    sts: { port: 0, tls },
    log: (line) => emulatorCalls.push(line),
  });
  dir = mkdtempSync(join(tmpdir(), 'flowgate-credentials-'));
});

afterAll(async () => {
  await emulator?.close(0);
  rmSync(dir, { recursive: true, force: true });
});

const stsHost = () => new URL(emulator.stsUrl!).host;

function gateway(credentials: unknown, env: Record<string, string> = {}): InProcessGateway {
  return inProcessGateway({ upstream: { endpoint: emulator.url, credentials }, flows: { hello: {} } }, { clock, env });
}

async function runHello(gw: InProcessGateway) {
  return gw.send('/flows/hello/run', { body: '{}' });
}

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const refreshes = (logs: LogLine[]) => logs.filter((l) => l.msg === 'credentials refreshed');

describe('ram_role_arn (CI): the official provider assumes the role at the emulator STS, over HTTPS', () => {
  it('signs with the temporary keys, and assumes the role again before they expire', async () => {
    const gw = gateway({ type: 'ram_role_arn', ...KEY, roleArn: ROLE, roleSessionName: 'ci-job', durationSeconds: 900, stsEndpoint: stsHost() });
    try {
      const before = emulatorCalls.length;
      expect((await runHello(gw)).status).toBe(200);
      const calls = emulatorCalls.slice(before);
      expect(calls.map((c) => [c.action, c.status])).toEqual([
        ['AssumeRole', 200],
        ['StartSyncExecution', 200],
      ]);
      expect(calls[0]!.accessKeyId).toBe('ci-user'); // the official provider signed AssumeRole with the CI user's key
      expect(calls[1]!.accessKeyId).toMatch(/^STS\./); // and the gateway signed StartSyncExecution with the role's
      expect(refreshes(gw.logs)[0]).toMatchObject({ type: 'ram_role_arn', provider: 'ram_role_arn/static_ak', lifetimeS: 900 });

      // 900 s: due when 5 minutes are left. Before that nothing is fetched; then the next call starts a refresh beside it.
      clock.advance(9 * MINUTE);
      expect((await runHello(gw)).status).toBe(200);
      expect(emulatorCalls.slice(before).filter((c) => c.action === 'AssumeRole')).toHaveLength(1);
      clock.advance(2 * MINUTE);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      expect(emulatorCalls.slice(before).filter((c) => c.action === 'AssumeRole')).toHaveLength(2);
      expect((await runHello(gw)).status).toBe(200);
      const keys = new Set(
        emulatorCalls
          .slice(before)
          .filter((c) => c.action === 'StartSyncExecution')
          .map((c) => c.accessKeyId),
      );
      expect(keys.size).toBe(2);
      expect(JSON.stringify(gw.logs)).not.toContain(KEY.accessKeySecret);
    } finally {
      await gw.close();
    }
  });

  it('an AssumeRole the STS refuses is logged with its code, and the call is a 502', async () => {
    const gw = gateway({ type: 'ram_role_arn', accessKeyId: KEY.accessKeyId, accessKeySecret: 'wrong-secret', roleArn: ROLE, stsEndpoint: stsHost() });
    try {
      const answer = await runHello(gw);
      expect(answer.status).toBe(502);
      expect(gw.logs.find((l) => l.msg === 'credentials refresh failed')).toMatchObject({
        level: 'error',
        type: 'ram_role_arn',
        reason: expect.stringMatching(/Signature/),
      });
      expect(gw.runtime.counters['credentials.refresh_failures']).toBe(1);
      const ready = await gw.send('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({ checks: { credentials: { ok: false, detail: expect.stringMatching(/^ram_role_arn: no valid credentials: /) } } });
      expect(ready.text).not.toContain('wrong-secret');
    } finally {
      await gw.close();
    }
  });
});

describe('oidc_role_arn (ACK with RRSA): the official provider reads the token file at every refresh', () => {
  it('from the three ALIBABA_CLOUD_* variables, with no upstream.credentials at all', async () => {
    const tokenFile = join(dir, 'oidc-token');
    writeFileSync(tokenFile, jwt({ sub: 'system:serviceaccount:default:flowgate', exp: clock.now() / 1000 + 3600 }));
    const env = { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_PROVIDER, ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile };
    const gw = inProcessGateway(
      { upstream: { endpoint: emulator.url, credentials: { type: 'oidc_role_arn', stsEndpoint: stsHost() } }, flows: { hello: {} } },
      { clock, env },
    );
    try {
      const before = emulatorCalls.length;
      expect((await runHello(gw)).status).toBe(200);
      expect(emulatorCalls.slice(before).map((c) => [c.action, c.accessKeyId, c.status])).toEqual([
        ['AssumeRoleWithOIDC', undefined, 200],
        ['StartSyncExecution', expect.stringMatching(/^STS\./), 200],
      ]);
      // The token in the file has expired (nobody rotated it): the refresh fails, the held keys keep serving.
      writeFileSync(tokenFile, jwt({ sub: 'system:serviceaccount:default:flowgate', exp: clock.now() / 1000 - 1 }));
      clock.advance(50 * MINUTE);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      expect(gw.logs.find((l) => l.msg === 'credentials refresh failed')).toMatchObject({
        level: 'warn',
        reason: expect.stringContaining('AuthenticationFail.OIDCToken.Expired'),
      });
      // Rotated (as the kubelet does): the next try reads the new file.
      writeFileSync(tokenFile, jwt({ sub: 'system:serviceaccount:default:flowgate', exp: clock.now() / 1000 + 3600 }));
      clock.advance(2_000);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      expect(refreshes(gw.logs)).toHaveLength(2);
    } finally {
      await gw.close();
    }
  });

  it('the default chain picks RRSA from the environment', () => {
    const env = { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_PROVIDER, ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/t' };
    const config = parseConfig({ upstream: { endpoint: 'http://127.0.0.1:1' }, flows: { hello: {} } }, env);
    expect(nodeCredentialSource(config.upstream.credentials).type).toBe('oidc_role_arn');
  });
});

describe('ecs_ram_role (ECS, SAE): the official provider against a stand-in for the metadata service', () => {
  it('hardened mode: a session token on every request; the keys refresh before they expire', async () => {
    const metadata = await startMetadataStandIn({ roleName: 'flowgate-role', issue: () => emulator.emulator.sts.issue(21_600), hardened: true });
    const asked = redirectMetadataService(metadata.url);
    const gw = gateway({ type: 'ecs_ram_role', disableIMDSv1: true });
    try {
      expect((await runHello(gw)).status).toBe(200);
      // No role name configured: the provider asks for it, then for its keys; each with a fresh session token.
      expect(metadata.requests.map((r) => [r.method, r.path, r.token !== undefined])).toEqual([
        ['PUT', '/latest/api/token', false],
        ['GET', '/latest/meta-data/ram/security-credentials/', true],
        ['PUT', '/latest/api/token', false],
        ['GET', '/latest/meta-data/ram/security-credentials/flowgate-role', true],
      ]);
      expect(asked.every((url) => url.startsWith('http://100.100.100.200/'))).toBe(true);
      expect(refreshes(gw.logs)[0]).toMatchObject({ type: 'ecs_ram_role', provider: 'ecs_ram_role', lifetimeS: 21_600 });
      // 6 hours: due with 72 minutes left.
      clock.advance(288 * MINUTE + 1_000);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      expect(refreshes(gw.logs)).toHaveLength(2);
    } finally {
      await gw.close();
      await metadata.close();
      clock.set(Math.floor(Date.now() / 1000) * 1000);
    }
  });

  it('without a session-token service, the plain mode unless hardened mode is required', async () => {
    const metadata = await startMetadataStandIn({ roleName: 'flowgate-role', issue: () => emulator.emulator.sts.issue(3600) });
    metadata.tokensUnsupported = true;
    redirectMetadataService(metadata.url);
    const plain = gateway({ type: 'ecs_ram_role', roleName: 'flowgate-role' });
    const hardened = gateway({ type: 'ecs_ram_role', roleName: 'flowgate-role', disableIMDSv1: true });
    try {
      expect((await runHello(plain)).status).toBe(200);
      expect(metadata.requests.map((r) => [r.method, r.token])).toEqual([
        ['PUT', undefined],
        ['GET', undefined],
      ]);
      expect((await runHello(hardened)).status).toBe(502);
      expect(hardened.logs.find((l) => l.msg === 'credentials refresh failed')).toMatchObject({
        type: 'ecs_ram_role',
        reason: expect.stringContaining('get metadata token failed with 404'),
      });
    } finally {
      await plain.close();
      await hardened.close();
      await metadata.close();
    }
  });
});

describe('credentials_uri (a sidecar)', () => {
  it('fetches the keys from the URI, and again before they expire; an outage keeps the held keys', async () => {
    const sidecar = await startCredentialsUri({ issue: () => emulator.emulator.sts.issue(900) });
    const gw = gateway({ type: 'credentials_uri', credentialsURI: sidecar.url });
    try {
      expect((await runHello(gw)).status).toBe(200);
      expect(refreshes(gw.logs)[0]).toMatchObject({ type: 'credentials_uri', provider: 'credential_uri', lifetimeS: 900 });
      sidecar.failWith = 503;
      clock.advance(11 * MINUTE);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      const failed = gw.logs.find((l) => l.msg === 'credentials refresh failed');
      expect(failed).toMatchObject({ level: 'warn', type: 'credentials_uri', reason: expect.stringContaining('httpStatus: 503') });
      const ready = await gw.send('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.json).toMatchObject({
        checks: { credentials: { ok: true, detail: expect.stringMatching(/^credentials_uri, valid until .*; 1 refresh failed/) } },
      });
      sidecar.failWith = undefined;
      clock.advance(1_000);
      expect((await runHello(gw)).status).toBe(200);
      await gw.drain();
      expect(refreshes(gw.logs)).toHaveLength(2);
    } finally {
      await gw.close();
      await sidecar.close();
      clock.set(Math.floor(Date.now() / 1000) * 1000);
    }
  });
});

describe('credential errors carry no secret of the URL they name', () => {
  it('a credentials URI with user info and a token in its query, at a refusing address: the log keeps host and path, /readyz names the type only', async () => {
    const gw = gateway({ type: 'credentials_uri', credentialsURI: 'http://user:pa55word@127.0.0.1:1/creds?token=SECRETTOKEN123#frag' });
    try {
      expect((await runHello(gw)).status).toBe(502);
      await gw.drain();
      const failed = gw.logs.find((l) => l.msg === 'credentials refresh failed')!;
      expect(failed).toMatchObject({ level: 'error', type: 'credentials_uri' });
      // The official provider names the URI in its error; what it says stays useful, without the secrets.
      expect(String(failed.reason)).toContain('127.0.0.1:1/creds');
      const ready = await gw.send('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({
        status: 'unavailable',
        checks: { credentials: { ok: false, detail: 'credentials_uri: no valid credentials: the last refresh failed (the reason is in the log)' } },
      });
      for (const text of [JSON.stringify(gw.logs), ready.text]) {
        expect(text).not.toMatch(/pa55word|SECRETTOKEN123|user:|frag/);
      }
    } finally {
      await gw.close();
    }
  });
});

describe('the default chain (no upstream.credentials) beyond the environment', () => {
  it('a profile file', async () => {
    const file = join(dir, 'credentials.ini');
    writeFileSync(file, `[default]\ntype = access_key\naccess_key_id = ${KEY.accessKeyId}\naccess_key_secret = ${KEY.accessKeySecret}\n`);
    vi.stubEnv('ALIBABA_CLOUD_CLI_PROFILE_DISABLED', 'true');
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_FILE', file);
    const gw = gateway(undefined);
    try {
      expect((await runHello(gw)).status).toBe(200);
      expect(refreshes(gw.logs)[0]).toMatchObject({ type: 'default', provider: 'default/profile/static_ak' });
    } finally {
      await gw.close();
      vi.unstubAllEnvs();
    }
  });

  it('the ECS instance role, then the credentials URI, the first that answers', async () => {
    const metadata = await startMetadataStandIn({ roleName: 'flowgate-role', issue: () => emulator.emulator.sts.issue(3600) });
    const sidecar = await startCredentialsUri({ issue: () => emulator.emulator.sts.issue(3600) });
    redirectMetadataService(metadata.url);
    vi.stubEnv('ALIBABA_CLOUD_CLI_PROFILE_DISABLED', 'true');
    vi.stubEnv('ALIBABA_CLOUD_CREDENTIALS_FILE', join(dir, 'missing.ini'));
    const viaEcs = gateway(undefined, { ALIBABA_CLOUD_CREDENTIALS_URI: sidecar.url });
    metadata.failWith = 404;
    const viaUri = gateway(undefined, { ALIBABA_CLOUD_CREDENTIALS_URI: sidecar.url });
    try {
      metadata.failWith = undefined;
      expect((await runHello(viaEcs)).status).toBe(200);
      expect(refreshes(viaEcs.logs)[0]).toMatchObject({ type: 'default', provider: 'default/ecs_ram_role' });
      metadata.failWith = 404;
      expect((await runHello(viaUri)).status).toBe(200);
      expect(refreshes(viaUri.logs)[0]).toMatchObject({ type: 'default', provider: 'default/credential_uri' });
    } finally {
      await viaEcs.close();
      await viaUri.close();
      await metadata.close();
      await sidecar.close();
      vi.unstubAllEnvs();
    }
  });
});
