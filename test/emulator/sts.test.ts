/**
 * The emulator's STS side, in process on a clock moved by hand: AssumeRole (signed RPC) and AssumeRoleWithOIDC
 * (anonymous) hand out temporary keys; the fnf side accepts them, with their token, until they expire, and answers
 * `InvalidSecurityToken.Expired` after, in both error vocabularies. STS itself answers in the POP gateway's codes.
 * A temporary key acts on every flow unless issued for some; a key limited to flows may not assume a role.
 */
import { describe, expect, it } from 'vitest';
import { createCloudFlowClient } from '../../src/cloudflow/client.js';
import { staticCredentials, type Credentials } from '../../src/cloudflow/credentials.js';
import { formEncode } from '../../src/cloudflow/signing/encoding.js';
import { signRpc } from '../../src/cloudflow/signing/rpc.js';
import { fetchTransport } from '../../src/cloudflow/transport.js';
import { CloudFlowError } from '../../src/cloudflow/types.js';
import { createEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { manualClock } from '../../src/lib/clock.js';
import { isoSeconds } from '../../src/lib/iso-time.js';
import { cryptoRandom } from '../../src/lib/random.js';
import { emulatorOptionsFromArgs } from '../../src/cli/emulator.js';
import { send, signedRequest } from './call.js';
import { HELLO_PASS_FLOW as HELLO } from '../helpers/flows.js';

const KEY = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
const LIMITED = { accessKeyId: 'limited', accessKeySecret: 'limitedsecret', flows: ['hello'] };
const ROLE = 'acs:ram::1234567890123456:role/Flowgate-Gateway';
const OIDC_PROVIDER = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1';

function setup(options: EmulatorOptions = {}) {
  const clock = manualClock(Date.UTC(2024, 0, 1, 12));
  const emulator = createEmulator({
    keys: [KEY, LIMITED],
    flows: [{ definition: HELLO }, { definition: HELLO.replace('Name: hello', 'Name: other') }],
    clock,
    ...options,
  });
  const fetchApp: typeof fetch = (input, init) => Promise.resolve(emulator.app.fetch(new Request(input, init)));
  const run = (credentials: Credentials, signatureVersion: 'v3' | 'rpc' = 'v3', flowName = 'hello') =>
    createCloudFlowClient({
      endpoint: 'http://fnf.emulator',
      credentials: staticCredentials(credentials),
      transport: fetchTransport(fetchApp),
      signatureVersion,
      clock,
    }).startSyncExecution({ flowName, input: '{}' });
  /** An STS call as the test builds it: common parameters in the query, signed (unless anonymous) with `key`. */
  const stsCall = async (action: string, form: Record<string, string>, key: Credentials | null = KEY) => {
    const query: Record<string, string> = { Version: '2015-04-01', Action: action, Format: 'JSON', Timestamp: isoSeconds(clock.now()) };
    if (key) {
      Object.assign(query, { SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: cryptoRandom.nonce(), AccessKeyId: key.accessKeyId });
      if (key.securityToken) query.SecurityToken = key.securityToken;
      query.Signature = await signRpc('POST', { ...query, ...form }, key.accessKeySecret);
    }
    const res = await fetchApp(`http://sts.emulator/?${formEncode(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formEncode(form),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** AssumeRole as the official provider sends it; the keys it answers with, and their expiry in epoch ms. */
  const assume = async (o: { identity?: Credentials; durationSeconds?: number } = {}) => {
    const identity = o.identity ?? KEY;
    const form = { RoleArn: ROLE, RoleSessionName: 'gateway', DurationSeconds: String(o.durationSeconds ?? 900) };
    const { status, json } = await stsCall('AssumeRole', form, identity);
    if (status !== 200) throw new Error(`STS AssumeRole answered HTTP ${status}: ${String(json.Code)}: ${String(json.Message)}`);
    const c = json.Credentials as Record<string, string>;
    const credentials: Credentials = { accessKeyId: c.AccessKeyId!, accessKeySecret: c.AccessKeySecret!, securityToken: c.SecurityToken };
    return { credentials, expiresAt: Date.parse(c.Expiration!) };
  };
  return { clock, emulator, assume, run, stsCall };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'succeeded',
    (error: unknown) => (error instanceof CloudFlowError ? `${error.status} ${error.code}` : String(error)),
  );

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe('STS AssumeRole', () => {
  it('hands out a temporary key that StartSyncExecution accepts with its token until it expires, in both signature versions', async () => {
    const { clock, assume, run } = setup();
    const issued = await assume();
    expect(issued.credentials.accessKeyId).toMatch(/^STS\.[A-Za-z0-9]{24}$/);
    expect(issued.credentials.securityToken).toMatch(/^CAIS/);
    expect(issued.expiresAt).toBe(clock.now() + 900_000);
    expect((await run(issued.credentials)).status).toBe('Succeeded');
    expect((await run(issued.credentials, 'rpc')).status).toBe('Succeeded');

    clock.advance(900_000 - 1_000);
    expect((await run(issued.credentials)).status).toBe('Succeeded');
    clock.advance(1_000);
    expect(await codeOf(run(issued.credentials))).toBe('400 InvalidSecurityToken.Expired');
    expect(await codeOf(run(issued.credentials, 'rpc'))).toBe('400 InvalidSecurityToken.Expired');
  });

  it.each([
    ['api', '403 InvalidAccessKeyID'],
    ['pop', '400 InvalidSecurityToken.MismatchWithAccessKey'],
  ] as const)('the key needs its own token (%s vocabulary: %s)', async (errorCodes, refusal) => {
    const { assume, run } = setup({ errorCodes });
    const { credentials } = await assume();
    const other = await assume();
    expect(await codeOf(run({ ...credentials, securityToken: undefined }))).toBe(refusal);
    expect(await codeOf(run({ ...credentials, securityToken: other.credentials.securityToken }))).toBe(refusal);
  });

  it('an expired key is InvalidSecurityToken.Expired in the POP vocabulary too, where the gateway refreshes on the same code', async () => {
    const { clock, assume, run } = setup({ errorCodes: 'pop' });
    const { credentials } = await assume();
    clock.advance(900_000);
    expect(await codeOf(run(credentials))).toBe('400 InvalidSecurityToken.Expired');
    expect(await codeOf(run(credentials, 'rpc'))).toBe('400 InvalidSecurityToken.Expired');
  });

  it('stsTokenTtlMs makes every key live that long, whatever DurationSeconds asked for', async () => {
    const { clock, assume, run } = setup({ stsTokenTtlMs: 3_000 });
    const { credentials, expiresAt } = await assume({ durationSeconds: 3600 });
    expect(expiresAt).toBe(clock.now() + 3_000);
    clock.advance(2_999);
    expect((await run(credentials)).status).toBe('Succeeded');
    clock.advance(1);
    expect(await codeOf(run(credentials))).toBe('400 InvalidSecurityToken.Expired');
  });

  it('answers in the STS shape', async () => {
    const { stsCall } = setup();
    const { status, json } = await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' });
    expect(status).toBe(200);
    expect(json).toEqual({
      RequestId: expect.any(String),
      AssumedRoleUser: { Arn: 'acs:ram::1234567890123456:role/flowgate-gateway/gateway', AssumedRoleId: expect.stringMatching(/^\d+:gateway$/) },
      Credentials: {
        AccessKeyId: expect.stringMatching(/^STS\./),
        AccessKeySecret: expect.any(String),
        SecurityToken: expect.any(String),
        Expiration: '2024-01-01T13:00:00Z',
      },
    });
  });

  it('refuses what STS refuses', async () => {
    const { stsCall } = setup();
    const cases: [Record<string, string>, number, string][] = [
      [{ RoleSessionName: 'gateway' }, 400, 'MissingParameter'],
      [{ RoleArn: 'flowgate', RoleSessionName: 'gateway' }, 400, 'InvalidParameter.RoleArn'],
      [{ RoleArn: ROLE }, 400, 'MissingParameter'],
      [{ RoleArn: ROLE, RoleSessionName: 'a' }, 400, 'InvalidParameter.RoleSessionName'],
      [{ RoleArn: ROLE, RoleSessionName: 'gateway', DurationSeconds: '899' }, 400, 'InvalidParameter.DurationSeconds'],
      [{ RoleArn: ROLE, RoleSessionName: 'gateway', DurationSeconds: '43201' }, 400, 'InvalidParameter.DurationSeconds'],
      [{ RoleArn: ROLE, RoleSessionName: 'gateway', Policy: 'allow all' }, 400, 'InvalidParameter.PolicyGrammar'],
    ];
    for (const [form, status, code] of cases) {
      const answer = await stsCall('AssumeRole', form);
      expect([form, answer.status, answer.json.Code]).toEqual([form, status, code]);
    }
    // STS speaks the POP gateway's codes, whichever vocabulary the fnf side was given (here the default, api).
    const anonymous = await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' }, null);
    expect(anonymous.json.Code).toBe('IncompleteSignature');
    const wrongSecret = await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' }, { accessKeyId: 'testid', accessKeySecret: 'wrong' });
    expect([wrongSecret.status, wrongSecret.json.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    expect(wrongSecret.json.Recommend).toContain('product=Sts');
    const unknown = await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' }, { accessKeyId: 'nobody', accessKeySecret: 'x' });
    expect([unknown.status, unknown.json.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
    expect((await stsCall('GetCallerIdentity', {})).json.Code).toBe('ActionNotSupported');
  });

  it('a temporary key may assume a role in turn, and an expired one may not', async () => {
    const { clock, assume } = setup();
    const first = await assume();
    const chained = await assume({ identity: first.credentials });
    expect(chained.credentials.accessKeyId).not.toBe(first.credentials.accessKeyId);
    clock.advance(900_000);
    await expect(assume({ identity: first.credentials })).rejects.toThrow(
      'STS AssumeRole answered HTTP 400: InvalidSecurityToken.Expired: Specified SecurityToken is expired.',
    );
  });

  it('remembers at most maxTemporaryKeys keys, the oldest forgotten first', async () => {
    const { assume, run } = setup({ maxTemporaryKeys: 2 });
    const first = await assume();
    await assume();
    await assume();
    expect(await codeOf(run(first.credentials))).toMatch(/^40[34] /); // unknown, in whichever vocabulary the emulator speaks
  });
});

describe('temporary keys and keys limited to flows', () => {
  it('a key limited to flows may not assume a role: 403 NoPermission, so its limit cannot be escaped', async () => {
    for (const errorCodes of ['api', 'pop'] as const) {
      const { stsCall, run } = setup({ errorCodes });
      const refused = await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' }, LIMITED);
      expect([errorCodes, refused.status, refused.json.Code]).toEqual([errorCodes, 403, 'NoPermission']);
      expect(refused.json.Message).toContain('AccessKey limited is limited to flows');
      expect((await run(LIMITED)).status).toBe('Succeeded');
    }
  });

  it("a role's temporary key inherits no flow limit: it acts on every flow and lists them all", async () => {
    const { clock, assume, run, emulator } = setup();
    const { credentials } = await assume();
    expect((await run(credentials, 'v3', 'hello')).status).toBe('Succeeded');
    expect((await run(credentials, 'rpc', 'other')).status).toBe('Succeeded');
    const listed = await send(emulator, await signedRequest('ListFlows', {}, { key: credentials, now: clock.now() }));
    expect((listed.json.Flows as Array<{ Name: string }>).map((f) => f.Name).sort()).toEqual(['hello', 'other']);
  });

  it('sts.issue() can limit a temporary key to flows, held like a configured key until it expires', async () => {
    for (const [errorCodes, denied] of [
      ['api', '403 AccessDenied'],
      ['pop', '403 Forbidden.RAM'],
    ] as const) {
      const { clock, emulator, run, stsCall } = setup({ errorCodes });
      const key = emulator.sts.issue(900, { flows: ['hello'] });
      const credentials = { accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret, securityToken: key.securityToken };
      expect((await run(credentials)).status).toBe('Succeeded');
      expect(await codeOf(run(credentials, 'v3', 'other'))).toBe(denied);
      expect((await stsCall('AssumeRole', { RoleArn: ROLE, RoleSessionName: 'gateway' }, credentials)).json.Code).toBe('NoPermission');
      clock.advance(900_000);
      expect(await codeOf(run(credentials))).toBe('400 InvalidSecurityToken.Expired');
    }
    expect(() => setup().emulator.sts.issue(900, { flows: ['bad name'] })).toThrow(/sts\.issue\(\) flows must be a list of flow names/);
  });
});

describe('STS AssumeRoleWithOIDC (RRSA)', () => {
  const oidc = (token: string, extra: Record<string, string> = {}) => ({ OIDCProviderArn: OIDC_PROVIDER, RoleArn: ROLE, OIDCToken: token, ...extra });

  it('is anonymous: an OIDC token buys a temporary key, with what the token said', async () => {
    const { clock, stsCall, run } = setup();
    const now = clock.now() / 1000;
    const { status, json } = await stsCall(
      'AssumeRoleWithOIDC',
      oidc(
        jwt({
          iss: 'https://oidc-ack.cn-hangzhou.aliyuncs.com/c1',
          sub: 'system:serviceaccount:default:flowgate',
          aud: 'sts.aliyuncs.com',
          exp: now + 3600,
          iat: now,
        }),
      ),
      null,
    );
    expect(status).toBe(200);
    expect(json.OIDCTokenInfo).toMatchObject({ Subject: 'system:serviceaccount:default:flowgate', ClientIds: 'sts.aliyuncs.com' });
    const creds = json.Credentials as Record<string, string>;
    expect((await run({ accessKeyId: creds.AccessKeyId!, accessKeySecret: creds.AccessKeySecret!, securityToken: creds.SecurityToken })).status).toBe(
      'Succeeded',
    );
  });

  it('refuses a token that is not a JWT or has expired', async () => {
    const { clock, stsCall } = setup();
    const expired = await stsCall('AssumeRoleWithOIDC', oidc(jwt({ sub: 'x', exp: clock.now() / 1000 - 1 })), null);
    expect([expired.status, expired.json.Code]).toEqual([401, 'AuthenticationFail.OIDCToken.Expired']);
    const notJwt = await stsCall('AssumeRoleWithOIDC', oidc('not-a-jwt'), null);
    expect([notJwt.status, notJwt.json.Code]).toEqual([401, 'AuthenticationFail.OIDCToken.Invalid']);
    const badProvider = await stsCall('AssumeRoleWithOIDC', { ...oidc(jwt({ sub: 'x' })), OIDCProviderArn: 'x' }, null);
    expect(badProvider.json.Code).toBe('InvalidParameter.OIDCProviderArn');
  });
});

describe('flowgate emulator flags', () => {
  it('--sts, --sts-token-ttl and the TLS pair', async () => {
    const options = await emulatorOptionsFromArgs([
      '--sts',
      '0',
      '--sts-token-ttl',
      '5s',
      '--sts-tls-cert',
      'test/fixtures/tls/localhost.pem',
      '--sts-tls-key',
      'test/fixtures/tls/localhost-key.pem',
    ]);
    expect(options.stsTokenTtlMs).toBe(5_000);
    expect(options.sts).toMatchObject({ port: 0, tls: { cert: expect.any(Buffer), key: expect.any(Buffer) } });
  });

  it.each([
    [['--sts-token-ttl', '500ms'], /--sts-token-ttl must be a duration of 1s or more/],
    [['--sts-token-ttl', 'soon'], /--sts-token-ttl must be a duration/],
    [['--sts', '0', '--sts-tls-cert', 'test/fixtures/tls/localhost.pem'], /go together/],
    [['--sts-tls-cert', 'a', '--sts-tls-key', 'b'], /give --sts PORT too/],
    [['--sts', '0', '--sts-tls-cert', 'missing.pem', '--sts-tls-key', 'missing.pem'], /cannot read missing\.pem: ENOENT/],
  ])('%j is refused', async (args, message) => {
    await expect(emulatorOptionsFromArgs(args)).rejects.toThrow(message);
  });
});
