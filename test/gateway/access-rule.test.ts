/**
 * One access rule whatever the credential: a token whose claim names a configured caller is that
 * caller for access too, and `jwt:*` stands only for token callers that are not configured callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const MOBILE_KEY = 'mobile-key-0123456789abcdef';
const PARTNER_KEY = 'partner-key-0123456789abcdef';
const SECRET = 'hs256-secret-0123456789abcdef0123456789';
const NOW = Date.UTC(2026, 0, 1);

const base = (upstream: string) => ({
  upstream: { endpoint: upstream, credentials: TEST_CREDENTIALS },
  callers: { 'mobile-app': { apiKeys: [MOBILE_KEY] }, partner: { apiKeys: [PARTNER_KEY] } },
  auth: { jwt: { secret: SECRET } },
});

const token = (sub: string) =>
  new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(NOW / 1000)
    .setExpirationTime(NOW / 1000 + 300)
    .sign(new TextEncoder().encode(SECRET));

describe('access lists and token callers', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;

  beforeAll(async () => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        ...base(stub.url),
        flows: {
          app: { access: ['mobile-app', 'jwt:*'] },
          partners: { access: ['partner'] },
          alice: { access: ['jwt:alice'] },
          anyone: { access: 'authenticated' },
        },
      },
      { clock: manualClock(NOW) },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const run = async (flow: string, credential: { key: string } | { sub: string }) => {
    const headers: Record<string, string> = 'key' in credential ? { 'x-api-key': credential.key } : { authorization: `Bearer ${await token(credential.sub)}` };
    return (await gw.request(`/flows/${flow}/run`, { peer: '192.0.2.1', body: '{}', headers })).status;
  };

  it("a token naming a configured caller the list leaves out is refused, like that caller's API key", async () => {
    expect(await run('app', { key: PARTNER_KEY })).toBe(403);
    expect(await run('app', { sub: 'partner' })).toBe(403);
  });

  it('jwt:* lets in token callers that are not configured callers, and the listed caller by key or token', async () => {
    expect(await run('app', { sub: 'bob' })).toBe(200);
    expect(await run('app', { key: MOBILE_KEY })).toBe(200);
    expect(await run('app', { sub: 'mobile-app' })).toBe(200);
  });

  it('a list naming a configured caller lets in its token as well as its key, and no other token', async () => {
    expect(await run('partners', { key: PARTNER_KEY })).toBe(200);
    expect(await run('partners', { sub: 'partner' })).toBe(200);
    expect(await run('partners', { sub: 'bob' })).toBe(403);
    expect(await run('partners', { key: MOBILE_KEY })).toBe(403);
  });

  it('jwt:<value> names one token caller', async () => {
    expect(await run('alice', { sub: 'alice' })).toBe(200);
    expect(await run('alice', { sub: 'bob' })).toBe(403);
    expect(await run('alice', { key: PARTNER_KEY })).toBe(403);
  });

  it('authenticated lets in every identified caller', async () => {
    for (const credential of [{ key: PARTNER_KEY }, { sub: 'partner' }, { sub: 'bob' }]) expect(await run('anyone', credential)).toBe(200);
  });
});

describe('access entries that can never match are refused at load', () => {
  const issuesOf = (access: unknown, withJwt = true): string[] => {
    const raw: Record<string, unknown> = { ...base('http://127.0.0.1:9'), flows: { f: { access } } };
    if (!withJwt) raw.auth = {};
    try {
      parseConfig(raw, {});
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
  };

  it('jwt:<name of a configured caller>: such a token is that caller, so only the name matches it', () => {
    expect(issuesOf(['mobile-app', 'jwt:partner'])).toEqual([
      "flows.f.access.1: a token whose claim names a configured caller is that caller; list the caller's name instead",
    ]);
  });

  it('an empty list: no caller could ever run the flow', () => {
    expect(issuesOf([])).toEqual(['flows.f.access: an empty list lets no caller run the flow; name callers, or use "public" or "authenticated"']);
    expect(issuesOf([], false)).toHaveLength(1);
  });

  it('prefixes other than jwt:, an empty claim value, and unknown names', () => {
    expect(issuesOf(['ip:192.0.2.1', 'webhook:github', 'key:partner', 'jwt:', 'nobody'])).toEqual([
      'flows.f.access.0: not a caller name, "jwt:<claim value>" or "jwt:*"',
      'flows.f.access.1: not a caller name, "jwt:<claim value>" or "jwt:*"',
      'flows.f.access.2: not a caller name, "jwt:<claim value>" or "jwt:*"',
      'flows.f.access.3: "jwt:" needs a claim value or "*"',
      'flows.f.access.4: not a caller defined under "callers"',
    ]);
  });

  it('jwt: entries without auth.jwt', () => {
    expect(issuesOf(['jwt:*', 'jwt:alice'], false)).toEqual([
      'flows.f.access.0: "jwt:" entries match token callers, but auth.jwt is not configured',
      'flows.f.access.1: "jwt:" entries match token callers, but auth.jwt is not configured',
    ]);
  });

  it('accepts what can match: caller names (even with a colon), jwt:<value> and jwt:*', () => {
    const raw = {
      ...base('http://127.0.0.1:9'),
      callers: { 'team:ops': { apiKeys: [MOBILE_KEY] } },
      flows: { f: { access: ['team:ops', 'jwt:alice', 'jwt:*'] } },
    };
    expect(parseConfig(raw, {}).flows.f!.access).toEqual(['team:ops', 'jwt:alice', 'jwt:*']);
  });
});
