import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseConfigText } from '../../src/config/load.js';
import { parseDuration, parseRate, parseSize } from '../../src/config/units.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };

function issuesOf(raw: unknown, e: Record<string, string> = env): string[] {
  try {
    parseConfig(raw, e);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('units', () => {
  it.each([
    ['60s', 60_000],
    ['5m', 300_000],
    ['1d', 86_400_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    [1500, 1500],
  ] as const)('duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'soon', '-1s', '5 weeks', '1y'])('rejects duration %s', (text) => expect(parseDuration(text)).toBeUndefined());
  it.each([
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['10kb', 10_000],
    ['512', 512],
    [2048, 2048],
  ] as const)('size %s', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['1 TiB', 'big', '-5', '1.5.5KiB'])('rejects size %s', (text) => expect(parseSize(text)).toBeUndefined());
  it('rates', () => {
    expect(parseRate('20/s')).toEqual({ count: 20, periodMs: 1000 });
    expect(parseRate('100/1m')).toEqual({ count: 100, periodMs: 60_000 });
    expect(parseRate('10000/d')).toEqual({ count: 10_000, periodMs: 86_400_000 });
    expect(parseRate('0/s')).toBeUndefined();
    expect(parseRate('fast')).toBeUndefined();
  });
});

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig({ upstream: { region: 'cn-hangzhou' }, flows: { hello: {} } }, env);
    expect(config.upstream).toMatchObject({ endpoint: 'https://cn-hangzhou.fnf.aliyuncs.com', signatureVersion: 'v3', timeout: 300_000 });
    expect(config.upstream.credentials).toEqual({ type: 'access_key', origin: 'environment', accessKeyId: 'testid', accessKeySecret: 'testsecret' });
    expect(config.server).toMatchObject({ port: 8787, maxBodySize: 1_048_576, maxJsonDepth: 64, trustProxy: false, cors: false });
    expect(config.store).toBe('memory');
    expect(config.cache.maxSize).toBe(64 * 1024 * 1024);
    expect(config.flows.hello).toMatchObject({
      name: 'hello',
      flowName: 'hello',
      maxInputSize: 65_536,
      access: 'public',
      mode: 'sync',
      errors: {},
      qualifiers: [],
    });
  });

  it('reads the full example config as YAML with ${ENV} interpolation', () => {
    const yaml = `
upstream:
  region: cn-hangzhou
  endpoint: http://127.0.0.1:9400
  signatureVersion: v3
  timeout: 5m
  credentials:
    accessKeyId: \${ALIBABA_CLOUD_ACCESS_KEY_ID}
    accessKeySecret: \${ALIBABA_CLOUD_ACCESS_KEY_SECRET}
server:
  port: 8787
  maxBodySize: 1MiB
  trustProxy: false
store: memory
callers:
  mobile-app:
    apiKeys: ["\${MOBILE_APP_KEY}"]
    rateLimit: { rate: 20/s, burst: 40 }
flows:
  hello:
    flowName: hello_world
    qualifier: "1"
    maxInputSize: 64KiB
    access: [mobile-app]
    rateLimit: { rate: 5/s, burst: 10 }
    cache: { ttl: 60s, scope: caller }
    errors: { OrderNotFound: 404, InvalidOrder: 422 }
  github-push:
    webhook: { provider: github, secrets: ["\${GH_HOOK_SECRET}"] }
    mode: ack
  create-order:
    idempotency: { ttl: 24h, required: true }
`;
    const config = parseConfigText(yaml, { ...env, MOBILE_APP_KEY: 'mobile-app-key-0123456789', GH_HOOK_SECRET: 'gh-secret' });
    expect(config.upstream.endpoint).toBe('http://127.0.0.1:9400');
    expect(config.callers['mobile-app']!.apiKeys).toEqual(['mobile-app-key-0123456789']);
    expect(config.callers['mobile-app']!.rateLimit).toEqual({ rate: { count: 20, periodMs: 1000 }, burst: 40, quota: undefined });
    expect(config.flows.hello).toMatchObject({ flowName: 'hello_world', qualifier: '1', access: ['mobile-app'], cache: { ttl: 60_000, scope: 'caller' } });
    expect(config.flows['github-push']).toMatchObject({ mode: 'ack', access: 'public', webhook: { provider: 'github', secrets: ['gh-secret'] } });
    // With callers configured, a flow without an access list needs a known caller.
    expect(config.flows['create-order']).toMatchObject({ access: 'authenticated', idempotency: { ttl: 86_400_000, required: true } });
  });

  it('names the key path of every problem', () => {
    const issues = issuesOf({
      upstream: { region: 'cn-hangzhou', timeout: 'forever', signatureVersion: 'v4' },
      server: { maxBodySize: 'huge', port: 70000 },
      store: 'mongodb://x',
      flows: { hello: { flowName: '9bad', errors: { X: 200 }, cache: { ttl: '1 fortnight' }, access: ['ghost'] }, 'bad name!': {} },
      extra: true,
    });
    const text = issues.join('\n');
    expect(text).toContain('upstream.timeout: expected a duration');
    expect(text).toContain('upstream.signatureVersion:');
    expect(text).toContain('server.maxBodySize: expected a size');
    expect(text).toContain('server.port:');
    expect(text).toContain('store: must be one of memory, redis://');
    expect(text).toContain('flows.hello.flowName: must follow the CloudFlow naming rule');
    expect(text).toContain('flows.hello.errors.X:');
    expect(text).toContain('flows.hello.cache.ttl: expected a duration');
    expect(text).toContain('(root): unknown key(s) "extra"');
    expect(text).toMatch(/flows\.bad name!/);
  });

  it('refuses unknown callers in access lists and weak or shared API keys', () => {
    expect(issuesOf({ upstream: { region: 'r' }, flows: { a: { access: ['ghost'] } } })).toEqual(['flows.a.access.0: not a caller defined under "callers"']);
    const issues = issuesOf({
      upstream: { region: 'r' },
      callers: { a: { apiKeys: ['short'] }, b: { apiKeys: ['shared-key-0123456789'] }, c: { apiKeys: ['shared-key-0123456789'] } },
      flows: { x: {} },
    });
    expect(issues).toContain('callers.a.apiKeys.0: API keys must be at least 16 characters');
    expect(issues).toContain('callers.c.apiKeys.0: the same key is also given to "b"');
    expect(issues.join()).not.toContain('shared-key-0123456789');
  });

  it('never echoes a value found in the wrong key, which may be a secret', () => {
    const secret = 'sk_live_abcdefghijklmnop';
    const schemaIssues = issuesOf({
      upstream: { region: 'r', timeout: secret },
      server: { maxBodySize: secret },
      callers: { app: { apiKeys: ['app-key-0123456789abcdef'], rateLimit: { rate: secret } } },
      flows: { a: {} },
    });
    const crossIssues = issuesOf({ upstream: { region: 'r' }, flows: { a: { access: [secret], qualifiers: [secret + '!'] } } });
    expect(schemaIssues).toHaveLength(3);
    expect(crossIssues).toHaveLength(2);
    expect([...schemaIssues, ...crossIssues].join('\n')).not.toContain('abcdefghijklmnop');
  });

  it('a missing environment variable names the key path, never a value', () => {
    const issues = issuesOf({ upstream: { region: 'r' }, callers: { app: { apiKeys: ['${APP_KEY}'] } }, flows: { x: {} } });
    expect(issues).toEqual(['callers.app.apiKeys.0: environment variable APP_KEY is not set']);
    const withDefault = parseConfig({ upstream: { region: 'r', endpoint: '${UP:-http://127.0.0.1:9400}' }, flows: { x: {} } }, env);
    expect(withDefault.upstream.endpoint).toBe('http://127.0.0.1:9400');
  });

  it('without credentials in the config or the environment, leaves the rest of the default chain to the runtime', () => {
    expect(parseConfig({ upstream: { region: 'r' }, flows: { x: {} } }, {}).upstream.credentials).toEqual({
      type: 'default',
      origin: 'environment',
      credentialsURI: undefined,
    });
  });

  it('requires a region or an endpoint, and flows', () => {
    expect(issuesOf({ upstream: {}, flows: {} }).join()).toContain('upstream: set "region" or "endpoint"');
    expect(issuesOf({ upstream: { region: 'r' } }).join()).toContain('flows:');
    expect(issuesOf('nope' as unknown)).toEqual(['(root): expected a mapping with "upstream" and "flows"']);
    expect(() => parseConfigText('a: [unclosed', env)).toThrow(/not valid YAML or JSON/);
  });
});
