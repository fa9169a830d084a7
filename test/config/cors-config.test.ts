/** `server.cors` settings that cannot work in a browser stop the load, naming the key path. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { createNodeRuntime } from '../../src/platform/node/runtime.js';
import { spawnCli } from '../helpers/spawn.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const KEY = 'app-key-0123456789abcdef';

function configWith(cors: unknown, extra: Record<string, unknown> = {}) {
  return { upstream: { endpoint: 'http://127.0.0.1:9' }, server: { cors }, flows: { hello: {} }, ...extra };
}

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const corsIssues = (cors: unknown, extra?: Record<string, unknown>) => issuesOf(configWith(cors, extra)).filter((issue) => issue.startsWith('server.cors'));

describe('server.cors: credentials', () => {
  it('credentials with every origin is refused: browsers reject "*" on credentialed requests', () => {
    expect(corsIssues({ credentials: true })).toEqual([
      'server.cors.credentials: needs a list of origins: browsers refuse "Access-Control-Allow-Origin: *" on credentialed requests',
    ]);
    expect(corsIssues({ origins: '*', credentials: true })).toHaveLength(1);
    expect(corsIssues({ origins: ['https://app.example'], credentials: true })).toEqual([]);
  });

  it('`cors: true` means every origin without credentials, which works', () => {
    expect(corsIssues(true)).toEqual([]);
    expect(parseConfig(configWith(true), env).server.cors).toEqual({ origins: '*', credentials: false });
    expect(parseConfig(configWith(false), env).server.cors).toBe(false);
  });

  it('with credentials "*" is a literal name in allowHeaders and exposeHeaders, so it is refused there', () => {
    const origins = ['https://app.example'];
    expect(corsIssues({ origins, credentials: true, allowHeaders: ['Content-Type', '*'] })).toEqual([
      'server.cors.allowHeaders.1: with credentials, "*" is a literal header name, not a wildcard: list the headers',
    ]);
    expect(corsIssues({ origins, credentials: true, exposeHeaders: ['*'] })).toEqual([
      'server.cors.exposeHeaders.0: with credentials, "*" is a literal header name, not a wildcard: list the headers',
    ]);
    // Without credentials both are real wildcards.
    expect(corsIssues({ origins, exposeHeaders: ['*'], allowHeaders: ['*'] })).toEqual([]);
  });
});

describe('server.cors.allowHeaders: the headers configured features need', () => {
  const callers = { callers: { app: { apiKeys: [KEY] } } };
  const jwt = { auth: { jwt: { secret: 's'.repeat(32) } } };

  it('Content-Type is always needed: every run posts application/json', () => {
    expect(corsIssues({ allowHeaders: ['X-Request-Id'] })).toEqual([
      'server.cors.allowHeaders: missing Content-Type: runs send application/json, which browsers send only after a preflight allows Content-Type',
    ]);
  });

  it('API keys need X-API-Key or Authorization; either one is enough', () => {
    expect(corsIssues({ allowHeaders: ['Content-Type'] }, callers)).toEqual([
      "server.cors.allowHeaders: missing X-API-Key or Authorization: callers' API keys arrive as X-API-Key or Authorization: Bearer",
    ]);
    expect(corsIssues({ allowHeaders: ['Content-Type', 'X-API-Key'] }, callers)).toEqual([]);
    expect(corsIssues({ allowHeaders: ['Content-Type', 'Authorization'] }, callers)).toEqual([]);
  });

  it('auth.jwt needs Authorization, and "*" never covers it', () => {
    expect(corsIssues({ allowHeaders: ['Content-Type', 'X-API-Key'] }, jwt)).toEqual([
      'server.cors.allowHeaders: missing Authorization: auth.jwt tokens arrive as Authorization: Bearer',
    ]);
    expect(corsIssues({ allowHeaders: ['*'] }, jwt)).toEqual([
      'server.cors.allowHeaders: missing Authorization: auth.jwt tokens arrive as Authorization: Bearer; "*" never covers Authorization',
    ]);
    expect(corsIssues({ allowHeaders: ['*', 'Authorization'] }, jwt)).toEqual([]);
    // "*" does cover X-API-Key and Content-Type without credentials.
    expect(corsIssues({ allowHeaders: ['*'] }, callers)).toEqual([]);
  });

  it('a flow with idempotency needs Idempotency-Key', () => {
    const flows = { flows: { hello: {}, orders: { idempotency: { ttl: '1h' } } } };
    expect(corsIssues({ allowHeaders: ['Content-Type'] }, flows)).toEqual([
      'server.cors.allowHeaders: missing Idempotency-Key: flows.orders.idempotency reads it',
    ]);
  });

  it('names are compared without regard to case', () => {
    const extra = { ...callers, ...jwt, flows: { orders: { idempotency: {} } } };
    expect(corsIssues({ allowHeaders: ['content-type', 'AUTHORIZATION', 'x-api-key', 'idempotency-KEY'] }, extra)).toEqual([]);
  });

  it('webhook flows are called server to server and need nothing from a browser', () => {
    const flows = { flows: { hook: { webhook: { provider: 'github', secrets: ['s3cret'] }, idempotency: {} } } };
    expect(corsIssues({ allowHeaders: ['X-Request-Id'] }, flows)).toEqual([]);
  });

  it('lists every missing header at once', () => {
    const extra = { ...callers, ...jwt, flows: { orders: { idempotency: {} } } };
    expect(corsIssues({ allowHeaders: ['X-Request-Id'] }, extra).map((issue) => issue.split(':')[1])).toEqual([
      ' missing Content-Type',
      ' missing Authorization',
      ' missing X-API-Key or Authorization',
      ' missing Idempotency-Key',
    ]);
  });

  it('the default list allows everything the features need', () => {
    expect(corsIssues({ credentials: true, origins: ['https://app.example'] }, { ...callers, ...jwt, flows: { orders: { idempotency: {} } } })).toEqual([]);
  });

  it('entries that are not header names are refused: browsers drop a list that does not parse', () => {
    expect(corsIssues({ allowHeaders: ['Content-Type', 'X-API-Key, Authorization'], exposeHeaders: ['X Request Id'] })).toEqual([
      'server.cors.allowHeaders.1: not a header name (an RFC 9110 token)',
      'server.cors.exposeHeaders.0: not a header name (an RFC 9110 token)',
    ]);
  });
});

describe('server.cors.origins: only what a browser sends in Origin can match', () => {
  const NOT_AN_ORIGIN = 'not an origin as browsers send it: scheme://host[:port] in lower case, without a default port, path or trailing slash';

  it.each([
    ['a trailing slash', 'https://app.example/'],
    ['a path', 'https://app.example/app'],
    ['no scheme', 'app.example'],
    ['an upper-case host', 'https://App.Example'],
    ['an upper-case scheme', 'HTTPS://app.example'],
    ['the default port', 'https://app.example:443'],
    ['a query', 'https://app.example?x=1'],
    ['user info', 'https://user@app.example'],
    ['a Unicode host (browsers send punycode)', 'https://bücher.example'],
    ['surrounding space', ' https://app.example'],
    ['a file URL (file pages send null)', 'file:///index.html'],
    ['an IPv6 address not in its shortest form', 'http://[0:0::1]:8080'],
  ])('refuses %s', (_what, origin) => {
    expect(corsIssues({ origins: ['https://ok.example', origin] })).toEqual([`server.cors.origins.1: ${NOT_AN_ORIGIN}`]);
  });

  it.each([
    ['https://app.example'],
    ['http://localhost:5173'],
    ['http://[::1]:8080'],
    ['https://xn--bcher-kva.example'],
    ['capacitor://localhost'],
    ['chrome-extension://abcdefghijklmnop'],
  ])('keeps %s', (origin) => {
    expect(corsIssues({ origins: [origin], credentials: true })).toEqual([]);
  });

  it('"*" inside a list or a pattern never matches: refused', () => {
    const message = '"*" allows every origin only as the whole value (origins: "*"); patterns are not supported, list each origin';
    expect(corsIssues({ origins: ['*'] })).toEqual([`server.cors.origins.0: ${message}`]);
    expect(corsIssues({ origins: ['https://*.app.example'] })).toEqual([`server.cors.origins.0: ${message}`]);
  });

  it('an empty list allows nothing: refused', () => {
    expect(corsIssues({ origins: [] })).toEqual(['server.cors.origins: an empty list allows no origin; set server.cors to false to turn CORS off']);
  });

  it('"null" is refused with credentials (any sandboxed page sends it) and kept without', () => {
    expect(corsIssues({ origins: ['null'], credentials: true })).toEqual([
      'server.cors.origins.0: "null" with credentials would give every sandboxed page on the web credentialed access',
    ]);
    expect(corsIssues({ origins: ['null'] })).toEqual([]);
  });

  it('never repeats the configured value in a message', () => {
    const secretish = 'https://Secret-Token-Value.example/';
    const issues = corsIssues({ origins: [secretish], allowHeaders: ['Secret Token Value'] });
    expect(issues).toHaveLength(3);
    expect(issues.join('\n').toLowerCase()).not.toContain('secret');
  });
});

describe('server.cors.maxAge', () => {
  it('is in seconds; beyond what any browser keeps (86400 s) is refused', () => {
    expect(corsIssues({ maxAge: 86_400 })).toEqual([]);
    expect(corsIssues({ maxAge: 600 })).toEqual([]);
    expect(corsIssues({ maxAge: 600_000 })).toEqual([
      'server.cors.maxAge: is in seconds, and browsers keep a preflight at most 86400 (Firefox) or 7200 (Chromium)',
    ]);
    expect(corsIssues({ maxAge: -1 })[0]).toMatch(/^server\.cors\.maxAge: /);
  });
});

describe('where the rules apply', () => {
  it('createApp refuses options that slipped past the loader', () => {
    const config = parseConfig(configWith({ origins: ['https://app.example'] }), env);
    const runtime = createNodeRuntime({ ...config, server: { ...config.server, cors: { origins: ['https://app.example/'], credentials: false } } });
    expect(() => createApp(runtime.deps)).toThrow(/^server\.cors\.origins\.0: not an origin as browsers send it/);
  });

  it('flowgate check and serve exit 2 and name the key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-cors-'));
    const file = join(dir, 'cors.yaml');
    writeFileSync(file, 'upstream: { endpoint: "http://127.0.0.1:9" }\nserver: { cors: { credentials: true } }\nflows:\n  hello: {}\n');
    for (const command of ['check', 'serve']) {
      const cli = await spawnCli([command, '--config', file], { env });
      expect(await cli.exit()).toBe(2);
      expect(cli.stderr()).toContain('server.cors.credentials: needs a list of origins');
    }
  });
});
