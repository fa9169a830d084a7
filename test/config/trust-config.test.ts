import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const withServer = (server: Record<string, unknown>, anonymous: Record<string, unknown> = {}) => ({
  upstream: { endpoint: 'http://127.0.0.1:9' },
  server,
  anonymous,
  flows: { f: {} },
});

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('server.trustProxy, server.forwardedHeader and anonymous.ipv6Prefix', () => {
  it('reads trustProxy as Express does: false, a hop count (true is 1), a list, or cloudflare', () => {
    const trust = (value: unknown) => parseConfig(withServer({ trustProxy: value }), env).server.trustProxy;
    expect(trust(undefined)).toBe(false);
    expect(trust(false)).toBe(false);
    expect(trust(0)).toBe(false);
    expect(trust([])).toBe(false);
    expect(trust(true)).toBe(1);
    expect(trust(3)).toBe(3);
    expect(trust('cloudflare')).toBe('cloudflare');
    expect(trust(['loopback', 'linklocal', 'uniquelocal', 'cloudflare', '10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::ffff:10.0.0.0/104'])).toHaveLength(8);
  });

  it('refuses trust settings that cannot work, naming the key path and never the value', () => {
    const expectation = 'expected false, a hop count (true is 1), a list of proxy addresses or CIDRs, or "cloudflare"';
    for (const value of [-1, 1.5, 'yes', 'loopback', 'Cloudflare', { hops: 1 }, null]) {
      expect(issuesOf(withServer({ trustProxy: value })), JSON.stringify(value)).toEqual([`server.trustProxy: ${expectation}`]);
    }
    const entry = 'expected an IP address, a CIDR such as "10.0.0.0/8", or one of loopback, linklocal, uniquelocal, cloudflare';
    expect(issuesOf(withServer({ trustProxy: ['loopback', '10.0.0.0/33', 'localhost', 7, '10.0.0.0/255.0.0.0', '01.2.3.4'] }))).toEqual(
      [1, 2, 3, 4, 5].map((i) => `server.trustProxy.${i}: ${entry}`),
    );
  });

  it('forwardedHeader picks the header the hops are read from, and only where hops are read', () => {
    expect(parseConfig(withServer({ trustProxy: 1, forwardedHeader: 'Forwarded' }), env).server.forwardedHeader).toBe('forwarded');
    expect(parseConfig(withServer({ trustProxy: ['loopback'], forwardedHeader: 'x-forwarded-for' }), env).server.forwardedHeader).toBe('x-forwarded-for');
    expect(issuesOf(withServer({ trustProxy: 1, forwardedHeader: 'x-real-ip' }))[0]).toMatch(/^server\.forwardedHeader: /);
    for (const trustProxy of [false, 'cloudflare']) {
      expect(issuesOf(withServer({ trustProxy, forwardedHeader: 'forwarded' }))).toEqual([
        'server.forwardedHeader: read only when server.trustProxy is a hop count or a list of proxies',
      ]);
    }
  });

  it('trust settings that let clients choose their own address load with a warning naming the key path', () => {
    const warnings = (trustProxy: unknown) => parseConfig(withServer({ trustProxy }), env).warnings;
    expect(warnings(['loopback', '0.0.0.0/0'])).toEqual([
      'server.trustProxy.1: "0.0.0.0/0" trusts every IPv4 address: any client in it can send the address it likes as its own',
    ]);
    expect(warnings(['::/0'])).toEqual(['server.trustProxy.0: "::/0" trusts every IPv6 address: any client in it can send the address it likes as its own']);
    // Every IPv4 address, written as a mapped IPv6 range.
    expect(warnings(['::ffff:0:0/96'])).toEqual([expect.stringContaining('trusts every IPv4 address')]);
    expect(warnings(['10.0.0.0/8', '0.0.0.0/1', '8000::/1', '2001:db8::/32'])).toEqual([
      'server.trustProxy.1: "0.0.0.0/1" trusts a /1 network, wider than any private one: any client in it can send the address it likes as its own',
      'server.trustProxy.2: "8000::/1" trusts a /1 network, wider than any private one: any client in it can send the address it likes as its own',
    ]);
    for (const hops of [6, 100, 2 ** 31]) {
      expect(warnings(hops)).toEqual([
        `server.trustProxy: ${hops} trusted hops is more proxies than usually stand in front of a server (at most 5); with fewer, a client chooses its own address by sending forwarding entries of its own`,
      ]);
    }
    // Settings a real deployment uses: no warning.
    for (const ok of [false, true, 2, 5, 'cloudflare', ['loopback', 'linklocal', 'uniquelocal', 'cloudflare'], ['10.0.0.0/8', 'fc00::/7', '192.0.2.7']]) {
      expect(warnings(ok), JSON.stringify(ok)).toEqual([]);
    }
  });

  it('ipv6Prefix defaults to 64 and must be a prefix length from 32 to 128', () => {
    expect(parseConfig(withServer({}), env).anonymous.ipv6Prefix).toBe(64);
    expect(parseConfig(withServer({}, { ipv6Prefix: 128 }), env).anonymous.ipv6Prefix).toBe(128);
    for (const ipv6Prefix of [0, 31, 129, 64.5, '64']) expect(issuesOf(withServer({}, { ipv6Prefix })).length, String(ipv6Prefix)).toBe(1);
    expect(issuesOf(withServer({}, { ipv6Prefix: 16 }))).toEqual(['anonymous.ipv6Prefix: expected a prefix length from 32 to 128']);
  });
});
