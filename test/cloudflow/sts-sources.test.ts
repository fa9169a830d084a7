/**
 * The Workers credential sources (Web-standard, over `fetch`): AssumeRole as the official `ram_role_arn` provider
 * sends it, its signature checked by the official `@alicloud/openapi-util`; and a credentials URI, whose bad
 * answers are refused without quoting a secret.
 */
import * as openApiUtilModule from '@alicloud/openapi-util';
import { describe, expect, it } from 'vitest';
import { assumeRoleSource, credentialsUriSource } from '../../src/cloudflow/sts.js';
import { manualClock } from '../../src/lib/clock.js';
import { sequenceRandom } from '../../src/lib/random.js';

const OpenApiUtil = ((m: unknown) => ((m as { getRPCSignature?: unknown }).getRPCSignature ? m : (m as { default: unknown }).default))(
  openApiUtilModule.default,
) as { getRPCSignature(params: Record<string, string>, method: string, secret: string): string };

const ROLE = 'acs:ram::1234567890123456:role/flowgate';

/** A fetch that records the request and answers as told. */
function capturing(status: number, body: unknown) {
  const seen: { url: URL; method: string; headers: Headers; body: string }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    seen.push({ url: new URL(request.url), method: request.method, headers: request.headers, body: await request.text() });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { seen, fetchFn };
}

const GOOD = { Credentials: { AccessKeyId: 'STS.abc', AccessKeySecret: 'temp-secret', SecurityToken: 'CAIS-token', Expiration: '2024-01-01T01:00:00Z' } };

describe('assumeRoleSource', () => {
  it('sends AssumeRole the way the official provider does, with a signature the official library agrees with', async () => {
    const { seen, fetchFn } = capturing(200, GOOD);
    const source = assumeRoleSource({
      endpoint: 'https://sts.cn-hangzhou.aliyuncs.com',
      identity: { accessKeyId: 'ci-user', accessKeySecret: "secret with * and ' and (", securityToken: 'chained-token' },
      roleArn: ROLE,
      roleSessionName: 'ci.job@42',
      durationSeconds: 1800,
      policy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"fnf:*","Resource":"*"}]}',
      externalId: 'ext-1',
      timeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      fetch: fetchFn,
      clock: manualClock(Date.UTC(2024, 0, 1)),
      random: sequenceRandom(7),
    });
    const issued = await source.fetch();
    expect(issued).toEqual({
      credentials: { accessKeyId: 'STS.abc', accessKeySecret: 'temp-secret', securityToken: 'CAIS-token' },
      expiresAt: Date.UTC(2024, 0, 1, 1),
      providerName: 'ram_role_arn',
    });
    const [call] = seen;
    expect(call!.method).toBe('POST');
    expect(call!.url.origin).toBe('https://sts.cn-hangzhou.aliyuncs.com');
    const query = Object.fromEntries(call!.url.searchParams);
    const form = Object.fromEntries(new URLSearchParams(call!.body));
    expect(query).toMatchObject({
      Version: '2015-04-01',
      Action: 'AssumeRole',
      Format: 'JSON',
      Timestamp: '2024-01-01T00:00:00Z',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      AccessKeyId: 'ci-user',
      SecurityToken: 'chained-token',
    });
    expect(form).toEqual({
      RoleArn: ROLE,
      Policy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"fnf:*","Resource":"*"}]}',
      ExternalId: 'ext-1',
      RoleSessionName: 'ci.job@42',
      DurationSeconds: '1800',
    });
    const { Signature, ...signed } = query;
    expect(Signature).toBe(OpenApiUtil.getRPCSignature({ ...signed, ...form }, 'POST', "secret with * and ' and ("));
  });

  it.each([
    [
      403,
      { Code: 'NoPermission', Message: 'You are not authorized to do this action.' },
      'STS AssumeRole answered HTTP 403: NoPermission: You are not authorized to do this action.',
    ],
    [502, '<html>bad gateway</html>', 'STS AssumeRole answered HTTP 502 with a body that is not an error envelope'],
    [200, { Credentials: { AccessKeyId: 'STS.abc', AccessKeySecret: 'leaked-secret' } }, 'STS AssumeRole answered without SecurityToken'],
  ])('refuses HTTP %i without quoting a secret', async (status, body, message) => {
    const { fetchFn } = capturing(status, body);
    const source = assumeRoleSource({
      endpoint: 'http://127.0.0.1:9',
      identity: { accessKeyId: 'id', accessKeySecret: 'secret' },
      roleArn: ROLE,
      roleSessionName: 'gateway',
      durationSeconds: 900,
      timeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      fetch: fetchFn,
      clock: manualClock(),
      random: sequenceRandom(),
    });
    await expect(source.fetch()).rejects.toThrow(message);
  });
});

describe('credentialsUriSource', () => {
  const source = (status: number, body: unknown) =>
    credentialsUriSource({ uri: 'http://sidecar/creds', timeoutMs: 1_000, connectTimeoutMs: 1_000, fetch: capturing(status, body).fetchFn });

  it('takes the official format', async () => {
    expect(await source(200, { Code: 'Success', ...GOOD.Credentials }).fetch()).toMatchObject({
      credentials: { accessKeyId: 'STS.abc' },
      expiresAt: Date.UTC(2024, 0, 1, 1),
    });
    expect((await source(200, { ...GOOD.Credentials, Expiration: undefined }).fetch()).expiresAt).toBeUndefined();
  });

  it.each([
    [503, 'down', 'the credentials URI answered HTTP 503'],
    [200, 'not json', 'the credentials URI answered with something that is not a JSON object'],
    [200, { AccessKeyId: 'a', AccessKeySecret: 'leaked-secret' }, 'the credentials URI answered without SecurityToken'],
  ])('refuses HTTP %i %j', async (status, body, message) => {
    const error = await source(status, body)
      .fetch()
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.message).toBe(message);
  });
});
