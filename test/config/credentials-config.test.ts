import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { describeCredentials, type CredentialsSpec } from '../../src/config/credentials.js';
import { nodeCredentialIssues } from '../../src/platform/node/credentials.js';
import { workersCredentialIssues } from '../../src/platform/workers/credentials.js';

const ROLE = 'acs:ram::1234567890123456:role/flowgate';
const OIDC_PROVIDER = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa';
const SECRET = 'sk-secret-value-0123456789';

function spec(credentials: unknown, env: Record<string, string> = {}): CredentialsSpec {
  return parseConfig({ upstream: { region: 'cn-hangzhou', credentials }, flows: { x: {} } }, env).upstream.credentials;
}

function issues(credentials: unknown, env: Record<string, string> = {}): string[] {
  try {
    spec(credentials, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('upstream.credentials: the official types with the official option names', () => {
  it('keeps the form without a type: access_key, or sts with a securityToken', () => {
    expect(spec({ accessKeyId: 'id', accessKeySecret: SECRET })).toEqual({ type: 'access_key', origin: 'config', accessKeyId: 'id', accessKeySecret: SECRET });
    expect(spec({ accessKeyId: 'id', accessKeySecret: SECRET, securityToken: 'tok' })).toMatchObject({ type: 'sts', securityToken: 'tok' });
    expect(spec({ accessKeyId: 'id', accessKeySecret: SECRET, securityToken: '' })).toMatchObject({ type: 'access_key' });
  });

  it('access_key and sts', () => {
    expect(spec({ type: 'access_key', accessKeyId: 'id', accessKeySecret: SECRET })).toMatchObject({ type: 'access_key' });
    expect(spec({ type: 'sts', accessKeyId: 'id', accessKeySecret: SECRET, securityToken: 'tok' })).toMatchObject({ type: 'sts' });
  });

  it('ram_role_arn: AssumeRole with roleArn, roleSessionName, durationSeconds, policy, and the STS endpoint rule', () => {
    const s = spec({
      type: 'ram_role_arn',
      accessKeyId: 'id',
      accessKeySecret: SECRET,
      roleArn: ROLE,
      roleSessionName: 'gateway-1',
      durationSeconds: 1800,
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'fnf:StartSyncExecution', Resource: '*' }] },
      externalId: 'abcd-1234',
      stsRegionId: 'cn-shanghai',
    });
    expect(s).toMatchObject({
      type: 'ram_role_arn',
      roleArn: ROLE,
      roleSessionName: 'gateway-1',
      durationSeconds: 1800,
      externalId: 'abcd-1234',
      stsEndpoint: 'https://sts.cn-shanghai.aliyuncs.com',
      timeoutMs: 10_000,
      connectTimeoutMs: 5_000,
    });
    expect(JSON.parse((s as { policy: string }).policy)).toMatchObject({ Version: '1' });
    // The official builders' defaults: 3600 s, sts.aliyuncs.com; VPC endpoints with enableVpc.
    const defaults = spec({ type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE });
    expect(defaults).toMatchObject({ durationSeconds: 3600, stsEndpoint: 'https://sts.aliyuncs.com', roleSessionName: 'flowgate' });
    expect(spec({ type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, stsRegionId: 'cn-beijing', enableVpc: true })).toMatchObject(
      {
        stsEndpoint: 'https://sts-vpc.cn-beijing.aliyuncs.com',
      },
    );
    expect(
      spec({ type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, stsEndpoint: '127.0.0.1:9401', timeout: '2s' }),
    ).toMatchObject({
      stsEndpoint: 'https://127.0.0.1:9401',
      timeoutMs: 2_000,
    });
  });

  it('ram_role_arn takes its identity and role from the environment, as the official builders do', () => {
    const env = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
      ALIBABA_CLOUD_ROLE_ARN: ROLE,
      ALIBABA_CLOUD_ROLE_SESSION_NAME: 'ci-job-42',
      ALIBABA_CLOUD_STS_REGION: 'cn-hangzhou',
    };
    expect(spec({ type: 'ram_role_arn' }, env)).toMatchObject({
      accessKeyId: 'env-id',
      roleArn: ROLE,
      roleSessionName: 'ci-job-42',
      stsEndpoint: 'https://sts.cn-hangzhou.aliyuncs.com',
    });
  });

  it('oidc_role_arn: RRSA from the three ALIBABA_CLOUD_* variables, or from the config', () => {
    const env = {
      ALIBABA_CLOUD_ROLE_ARN: ROLE,
      ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_PROVIDER,
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/tokens/oidc-token',
    };
    expect(spec({ type: 'oidc_role_arn' }, env)).toMatchObject({
      type: 'oidc_role_arn',
      origin: 'config',
      roleArn: ROLE,
      oidcProviderArn: OIDC_PROVIDER,
      oidcTokenFilePath: '/var/run/secrets/tokens/oidc-token',
      durationSeconds: 3600,
    });
    expect(spec({ type: 'oidc_role_arn', roleArn: ROLE, oidcProviderArn: OIDC_PROVIDER, oidcTokenFilePath: '/t' })).toMatchObject({ oidcTokenFilePath: '/t' });
  });

  it('ecs_ram_role: the metadata service, with the hardened (token-only) mode', () => {
    expect(spec({ type: 'ecs_ram_role' })).toEqual({
      type: 'ecs_ram_role',
      origin: 'config',
      roleName: undefined,
      disableIMDSv1: false,
      timeoutMs: undefined,
      connectTimeoutMs: undefined,
    });
    expect(spec({ type: 'ecs_ram_role', roleName: 'gateway-role', disableIMDSv1: true })).toMatchObject({ roleName: 'gateway-role', disableIMDSv1: true });
    expect(spec({ type: 'ecs_ram_role' }, { ALIBABA_CLOUD_ECS_METADATA: 'from-env', ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' })).toMatchObject({
      roleName: 'from-env',
      disableIMDSv1: true,
    });
  });

  it('credentials_uri: credentialsURI, or ALIBABA_CLOUD_CREDENTIALS_URI', () => {
    expect(spec({ type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:8080/credentials' })).toMatchObject({
      credentialsURI: 'http://127.0.0.1:8080/credentials',
    });
    expect(spec({ type: 'credentials_uri' }, { ALIBABA_CLOUD_CREDENTIALS_URI: 'http://sidecar/creds' })).toMatchObject({
      credentialsURI: 'http://sidecar/creds',
    });
  });
});

describe('no upstream.credentials: the official default chain', () => {
  it('1. the environment AccessKey (with its STS token)', () => {
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET, ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' };
    expect(spec(undefined, env)).toMatchObject({ type: 'sts', origin: 'environment' });
  });

  it('2. RRSA, only when all three variables are set', () => {
    const env = { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_PROVIDER, ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/t' };
    expect(spec(undefined, env)).toMatchObject({ type: 'oidc_role_arn', origin: 'environment' });
    expect(spec(undefined, { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/t' })).toMatchObject({ type: 'default' });
  });

  it('3. the rest (profile file, ECS role, URI) is tried by the runtime at start', () => {
    expect(spec(undefined, { ALIBABA_CLOUD_CREDENTIALS_URI: 'http://sidecar/creds' })).toEqual({
      type: 'default',
      origin: 'environment',
      credentialsURI: 'http://sidecar/creds',
    });
  });
});

describe('combinations that cannot work are refused at load, with key paths and never a value', () => {
  it.each([
    [{ type: 'access_key', accessKeyId: 'id' }, ['upstream.credentials.accessKeySecret: required for type access_key']],
    [{ type: 'sts', accessKeyId: 'id', accessKeySecret: SECRET }, ['upstream.credentials.securityToken: required for type sts']],
    [
      { type: 'access_key', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE },
      ['upstream.credentials.roleArn: applies to type ram_role_arn or oidc_role_arn, not access_key'],
    ],
    [{ type: 'ecs_ram_role', credentialsURI: 'http://x/' }, ['upstream.credentials.credentialsURI: applies to type credentials_uri, not ecs_ram_role']],
    [
      { type: 'oidc_role_arn', roleArn: ROLE, oidcProviderArn: OIDC_PROVIDER, oidcTokenFilePath: '/t', accessKeySecret: SECRET },
      ['upstream.credentials.accessKeySecret: applies to type access_key or sts or ram_role_arn, not oidc_role_arn'],
    ],
    [
      { accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE },
      ['upstream.credentials.type: required with roleArn; one of access_key, sts, ram_role_arn, oidc_role_arn, ecs_ram_role, credentials_uri'],
    ],
    [
      { type: 'ram_role_arn', roleArn: ROLE },
      [
        'upstream.credentials.accessKeyId: type ram_role_arn needs accessKeyId and accessKeySecret of the identity that assumes the role (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)',
      ],
    ],
    [{ type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET }, ['upstream.credentials.roleArn: required (or ALIBABA_CLOUD_ROLE_ARN)']],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: 'flowgate' },
      ['upstream.credentials.roleArn: expected acs:ram::<account id>:role/<name>'],
    ],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, durationSeconds: 600 },
      ['upstream.credentials.durationSeconds: STS issues tokens for 900 to 43200 seconds'],
    ],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, roleSessionName: 'a b' },
      ['upstream.credentials.roleSessionName: 2 to 64 letters, digits and . @ - _'],
    ],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, policy: 'Allow everything' },
      ['upstream.credentials.policy: expected a JSON policy document (an object)'],
    ],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, enableVpc: true },
      ['upstream.credentials.enableVpc: the VPC endpoint is regional; set stsRegionId (or ALIBABA_CLOUD_STS_REGION)'],
    ],
    [
      { type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, stsEndpoint: 'https://sts.aliyuncs.com/path' },
      ['upstream.credentials.stsEndpoint: expected a host such as sts.cn-hangzhou.aliyuncs.com, or an http(s) URL without a path'],
    ],
    [
      { type: 'oidc_role_arn', roleArn: ROLE },
      [
        'upstream.credentials.oidcProviderArn: required (or ALIBABA_CLOUD_OIDC_PROVIDER_ARN)',
        'upstream.credentials.oidcTokenFilePath: required (or ALIBABA_CLOUD_OIDC_TOKEN_FILE)',
      ],
    ],
    [{ type: 'credentials_uri' }, ['upstream.credentials.credentialsURI: required (or ALIBABA_CLOUD_CREDENTIALS_URI)']],
    [{ type: 'credentials_uri', credentialsURI: 'file:///etc/creds' }, ['upstream.credentials.credentialsURI: expected an http(s) URL']],
    [{ type: 'ecs_ram_role', timeout: '0s' }, ['upstream.credentials.timeout: expected a duration longer than 0, such as "5s" or milliseconds']],
    [{ type: 'bearer' }, ['upstream.credentials.type: expected one of access_key, sts, ram_role_arn, oidc_role_arn, ecs_ram_role, credentials_uri']],
  ])('%j', (credentials, expected) => {
    const found = issues(credentials);
    expect(found).toEqual(expected);
    expect(found.join('\n')).not.toContain(SECRET);
  });
});

describe('what each runtime can use', () => {
  const ramRole = (stsEndpoint: string) => spec({ type: 'ram_role_arn', accessKeyId: 'id', accessKeySecret: SECRET, roleArn: ROLE, stsEndpoint });

  it('on Node, the official library calls STS over HTTPS only', () => {
    expect(nodeCredentialIssues(ramRole('127.0.0.1:9401'))).toEqual([]);
    expect(nodeCredentialIssues(ramRole('http://127.0.0.1:9401'))).toEqual([expect.stringMatching(/^upstream\.credentials\.stsEndpoint: .*HTTPS only/)]);
  });

  it('on Workers: no metadata service, no RRSA token file; the default chain is the bindings', () => {
    expect(workersCredentialIssues(ramRole('http://127.0.0.1:9401'))).toEqual([]);
    expect(workersCredentialIssues(spec({ type: 'ecs_ram_role' }))).toEqual([
      expect.stringMatching(/^upstream\.credentials\.type: ecs_ram_role is not available on Workers/),
    ]);
    expect(workersCredentialIssues(spec({ type: 'oidc_role_arn', roleArn: ROLE, oidcProviderArn: OIDC_PROVIDER, oidcTokenFilePath: '/t' }))).toHaveLength(1);
    expect(workersCredentialIssues(spec(undefined))).toEqual([expect.stringMatching(/^upstream\.credentials: no credentials/)]);
    expect(workersCredentialIssues(spec(undefined, { ALIBABA_CLOUD_CREDENTIALS_URI: 'https://sidecar/creds' }))).toEqual([]);
  });
});

describe('describeCredentials (flowgate check, the start line)', () => {
  it('names the type and where it came from, never a value', () => {
    const cases: [unknown, Record<string, string>, string][] = [
      [{ accessKeyId: 'LTAI-visible-id', accessKeySecret: SECRET }, {}, 'access_key'],
      [undefined, { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-visible-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET }, 'access_key (from ALIBABA_CLOUD_ACCESS_KEY_ID)'],
      [{ type: 'ram_role_arn', accessKeyId: 'LTAI-visible-id', accessKeySecret: SECRET, roleArn: ROLE }, {}, 'ram_role_arn'],
      [{ type: 'ecs_ram_role', disableIMDSv1: true }, {}, 'ecs_ram_role (metadata service, hardened mode: token required)'],
      [undefined, {}, 'default chain: profile file, ECS instance role, credentials URI (tried in that order at start)'],
    ];
    for (const [credentials, env, expected] of cases) {
      const line = describeCredentials(spec(credentials, env));
      expect(line).toBe(expected);
      expect(line).not.toMatch(/LTAI-visible-id|sk-secret|acs:ram/);
    }
  });
});
