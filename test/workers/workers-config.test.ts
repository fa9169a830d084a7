import { describe, expect, it } from 'vitest';
import { configFromEnv, stringBindings, withoutValues } from '../../src/platform/workers/config.js';

const SECRET = 'sk-live-0123456789-never-print';
const base = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-id',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-access-key-secret',
};

const outcome = (config: unknown, env: Record<string, unknown> = {}) =>
  configFromEnv({ FLOWGATE_CONFIG: typeof config === 'string' ? config : JSON.stringify(config), ...base, ...env });

describe('configFromEnv (Workers bindings → Config)', () => {
  it('builds the config from FLOWGATE_CONFIG YAML, filling ${VAR} and credentials from secrets', () => {
    const result = outcome('upstream:\n  region: cn-hangzhou\ncallers:\n  app:\n    apiKeys: ["${APP_KEY}"]\nflows:\n  hello: {}\n', { APP_KEY: SECRET });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.upstream.endpoint).toBe('https://cn-hangzhou.fnf.aliyuncs.com');
    expect(result.config.upstream.credentials).toEqual({
      type: 'access_key',
      origin: 'environment',
      accessKeyId: 'LTAI-test-id',
      accessKeySecret: 'test-access-key-secret',
    });
    expect(result.config.callers.app!.apiKeys).toEqual([SECRET]);
  });

  it('refuses server.metrics.port: a Worker has one listener', () => {
    const result = outcome({ upstream: { region: 'cn-hangzhou' }, server: { metrics: { port: 9464 } }, flows: { hello: {} } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toEqual([expect.stringMatching(/^server\.metrics\.port: a Worker serves one listener/)]);
  });

  it('ignores bindings that are not strings (Durable Objects, KV, services)', () => {
    const env = { A: 'x', RATE_LIMITER: { idFromName() {} }, N: 3 };
    expect(stringBindings(env)).toEqual({ A: 'x' });
  });

  it('names FLOWGATE_CONFIG when it is missing or blank', () => {
    for (const env of [{ ...base }, { ...base, FLOWGATE_CONFIG: '  ' }, { ...base, FLOWGATE_CONFIG: { not: 'text' } }]) {
      const result = configFromEnv(env);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^invalid configuration: FLOWGATE_CONFIG: not set/);
    }
  });

  it('names missing credentials without showing any', () => {
    const result = configFromEnv({ FLOWGATE_CONFIG: '{"upstream":{"region":"cn-hangzhou"},"flows":{"a":{}}}' });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid configuration: upstream\.credentials: no credentials/) });
    // The default chain on Workers is the bindings: the AccessKey ones, then a credentials URI.
    expect(
      configFromEnv({
        FLOWGATE_CONFIG: '{"upstream":{"region":"cn-hangzhou"},"flows":{"a":{}}}',
        ALIBABA_CLOUD_CREDENTIALS_URI: 'https://sidecar.internal/creds',
      }),
    ).toMatchObject({
      ok: true,
      config: { upstream: { credentials: { type: 'default', credentialsURI: 'https://sidecar.internal/creds' } } },
    });
  });

  it('refuses the types a Worker has no means for, by key path', () => {
    const config = (credentials: unknown) => JSON.stringify({ upstream: { region: 'cn-hangzhou', credentials }, flows: { a: {} } });
    expect(configFromEnv({ FLOWGATE_CONFIG: config({ type: 'ecs_ram_role' }) })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^invalid configuration: upstream\.credentials\.type: ecs_ram_role is not available on Workers/),
    });
  });

  it('never shows a value: bad durations, sizes, rates, qualifiers and caller references keep only the key path and the rule', () => {
    const result = outcome(
      {
        upstream: { region: 'cn-hangzhou', timeout: '${LEAK}' },
        anonymous: { rateLimit: { rate: '${LEAK}' } },
        callers: { app: { apiKeys: ['${LEAK}'] } },
        flows: { a: { maxInputSize: '${LEAK}', qualifiers: ['${LEAK} x'], access: ['${LEAK}'] } },
      },
      { LEAK: SECRET },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).not.toContain(SECRET);
    expect(result.message).not.toContain('sk-live');
    expect(result.issues.join('\n')).not.toContain(SECRET);
    expect(result.message).toContain('upstream.timeout: expected a duration');
    expect(result.message).toContain('anonymous.rateLimit.rate: expected a rate');
    expect(result.message).toContain('flows.a.maxInputSize: expected a size');
  });

  it('lists the second-stage problems (qualifiers, caller references) without their values', () => {
    const result = outcome(
      { upstream: { region: 'cn-hangzhou' }, callers: { app: {} }, flows: { a: { qualifiers: ['${LEAK} x'], access: ['${LEAK}'] } } },
      { LEAK: SECRET },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toBe(
      'invalid configuration: flows.a.access.0: not a caller defined under "callers"; flows.a.qualifiers.0: not a valid qualifier (letters, digits, _ . -)',
    );
  });

  it('masks any bound value that still appears, and caps the list', () => {
    expect(withoutValues(`x.y: something mentions ${SECRET} here`, { S: SECRET })).toBe('x.y: something mentions *** here');
    const many = outcome({
      upstream: { region: 'cn-hangzhou' },
      flows: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, { timeout: 'soon' }])),
    });
    expect(many.ok).toBe(false);
    if (!many.ok) expect(many.message).toMatch(/; flows\.f4\.timeout: expected a duration[^;]* \(and 3 more\)$/);
  });

  it('reports YAML that does not parse, by line and column', () => {
    const result = outcome('upstream: [\n  region: x');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^invalid configuration: \(file\): not valid YAML or JSON: .*line \d+, column \d+/);
  });
});
