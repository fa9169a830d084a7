import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clientAddressResolver, describeClientAddress, trustedProxyRanges, type ClientAddressOptions } from '../../src/lib/client-address.js';
import { hopsFromRight } from '../../src/lib/forwarded.js';
import { addressKey, parseIp, parseRange } from '../../src/lib/ip-address.js';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway } from '../helpers/in-process.js';
import { TEST_CREDENTIALS } from '../helpers/upstream-stub.js';

const key = (text: string, prefix = 64) => {
  const parsed = parseIp(text);
  return parsed ? addressKey(parsed, prefix) : undefined;
};

const resolve = (options: Partial<ClientAddressOptions>, peer: string | undefined, headers: Record<string, string> = {}) =>
  clientAddressResolver({ trustProxy: false, ipv6Prefix: 64, ...options })((name) => headers[name], peer);

describe('parseIp and addressKey', () => {
  it('gives IPv4 in dotted decimal and IPv6 as its /64 in RFC 5952 form', () => {
    expect(key('198.51.100.7')).toBe('198.51.100.7');
    expect(key('2001:db8:1:2::a1')).toBe('2001:db8:1:2::/64');
    expect(key('2001:db8:1:2::a1', 128)).toBe('2001:db8:1:2::a1');
    expect(key('2001:db8:1:2::a1', 48)).toBe('2001:db8:1::/48');
    expect(key('2001:db8:1:2::a1', 63)).toBe('2001:db8:1:2::/63');
    expect(key('2001:db8:1:3::a1', 63)).toBe('2001:db8:1:2::/63');
    expect(key('::1')).toBe('::/64');
  });

  it('reads every RFC 4291 spelling of one IPv6 address as one', () => {
    const spellings = [
      '2001:db8::1:0:0:1',
      '2001:DB8::1:0:0:1',
      '2001:0db8:0000:0000:0001:0000:0000:0001',
      '2001:db8:0:0:1::1',
      '2001:db8::1:0:0.0.0.1',
      '2001:db8::1:0:0:1%eth0',
    ];
    expect(new Set(spellings.map((s) => key(s, 128)))).toEqual(new Set(['2001:db8::1:0:0:1']));
  });

  it('an IPv4-mapped IPv6 address is the IPv4 address; other IPv6 forms with a dotted tail are not', () => {
    for (const s of ['::ffff:198.51.100.7', '::FFFF:C633:6407', '0:0:0:0:0:ffff:198.51.100.7', '0000:0000:0000:0000:0000:ffff:c633:6407'])
      expect(key(s)).toBe('198.51.100.7');
    // The deprecated IPv4-compatible form is the IPv6 address ::c633:6407, whichever way it is written.
    expect(key('::198.51.100.7', 128)).toBe('::c633:6407');
    expect(key('::c633:6407', 128)).toBe('::c633:6407');
    expect(key('64:ff9b::198.51.100.7', 128)).toBe('64:ff9b::c633:6407');
  });

  it('refuses malformed and ambiguous spellings instead of guessing', () => {
    const bad = [
      '',
      'garbage',
      'unknown',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '127.1',
      '0x7f.0.0.1',
      '2130706433',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '2001:db8::g',
      '2001:db8:::1',
      '1:2:3:4:5:6:7:8:9',
      '00000::1',
      '::ffff:01.2.3.4',
      '::ffff:1.2.3',
      'fe80::1%',
      'fe80::1%a b',
      '[::1]',
      '1.2.3.4/32',
      'x'.repeat(100),
    ];
    for (const text of bad) expect(parseIp(text), text).toBeUndefined();
  });

  it('parseRange reads addresses, CIDRs and IPv4-mapped ranges, and refuses the rest', () => {
    expect(parseRange('10.0.0.0/8')?.[1]).toBe(8);
    expect(parseRange('10.1.2.3')?.[1]).toBe(32);
    expect(parseRange('2001:db8::/32')?.[1]).toBe(32);
    expect(parseRange('::ffff:10.0.0.0/104')).toEqual([parseIp('10.0.0.0'), 8]);
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/255.0.0.0', '10.0.0.0/ 8', '::ffff:0:0/95', 'loopback'])
      expect(parseRange(bad), bad).toBeUndefined();
    expect(trustedProxyRanges('loopback')).toHaveLength(2);
    expect(trustedProxyRanges('cloudflare')).toHaveLength(22);
    expect(trustedProxyRanges('toString')).toBeUndefined();
  });
});

describe('hopsFromRight', () => {
  const hops = (header: string, kind: 'x-forwarded-for' | 'forwarded' = 'x-forwarded-for') =>
    [...hopsFromRight(header, kind)].map((a) => (a ? addressKey(a, 128) : null));

  it('lists X-Forwarded-For nearest first, with the load-balancer port forms', () => {
    expect(hops('198.51.100.1, 203.0.113.2,10.0.0.1')).toEqual(['10.0.0.1', '203.0.113.2', '198.51.100.1']);
    expect(hops('198.51.100.1:8080, [2001:db8::1]:443, [2001:db8::2], 2001:db8::3')).toEqual(['2001:db8::3', '2001:db8::2', '2001:db8::1', '198.51.100.1']);
    expect(hops('198.51.100.1,, 10.0.0.1,')).toEqual(['10.0.0.1', '198.51.100.1']);
    expect(hops('unknown, _hidden, 1.2.3.4:65536, [1.2.3.4]:80, [2001:db8::1]x')).toEqual([null, null, null, null, null]);
  });

  it('reads the for= node of each RFC 7239 element, case-insensitively and in its quoted forms', () => {
    expect(hops('for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https, For=198.51.100.17;by=203.0.113.60', 'forwarded')).toEqual([
      '198.51.100.17',
      '2001:db8:cafe::17',
      '192.0.2.43',
    ]);
    expect(hops('proto=https;for="192.0.2.43:_port";;', 'forwarded')).toEqual(['192.0.2.43']);
    expect(hops('for="\\1\\9\\2.0.2.43"', 'forwarded')).toEqual(['192.0.2.43']);
  });

  it('an element it cannot believe names no address: unknown, obfuscated, unbracketed IPv6, no for=, for= twice, an unclosed quote', () => {
    const elements = [
      'for=unknown',
      'for=_hidden',
      'for="_gazonk"',
      'for=2001:db8::1',
      'for="2001:db8::1"',
      'proto=https',
      'for=192.0.2.1;for=192.0.2.2',
      'for="192.0.2.1',
      'for',
      'for="[192.0.2.1]"',
    ];
    for (const element of elements) expect(hops(element, 'forwarded'), element).toEqual([null]);
  });

  it("a client's unclosed quote or quoted comma cannot swallow the elements proxies appended after it", () => {
    expect(hops('for="10.9.9.1, for=198.51.100.9', 'forwarded')).toEqual(['198.51.100.9', null]);
    expect(hops('for="a,b", for=198.51.100.9', 'forwarded')).toEqual(['198.51.100.9', null, null]);
  });

  it('walks a long header from the right', () => {
    const walk = hopsFromRight(`${'1.1.1.1, '.repeat(10_000)}198.51.100.9`, 'x-forwarded-for');
    expect(addressKey(walk.next().value!, 128)).toBe('198.51.100.9');
    expect(addressKey(walk.next().value!, 128)).toBe('1.1.1.1');
  });
});

describe('clientAddressResolver', () => {
  it('follows proxy-addr: the peer must be trusted before any header entry is believed', () => {
    const headers = { 'x-forwarded-for': '198.51.100.9' };
    expect(resolve({ trustProxy: ['10.0.0.0/8'] }, '192.0.2.1', headers)).toBe('192.0.2.1');
    expect(resolve({ trustProxy: ['10.0.0.0/8'] }, '10.1.1.1', headers)).toBe('198.51.100.9');
    expect(resolve({ trustProxy: 1 }, '192.0.2.1', headers)).toBe('198.51.100.9');
    expect(resolve({ trustProxy: 1 }, '192.0.2.1', {})).toBe('192.0.2.1');
  });

  it('gives "unknown" for a missing or unreadable peer, never a header value', () => {
    expect(resolve({ trustProxy: 1 }, undefined, { 'x-forwarded-for': '198.51.100.9' })).toBe('unknown');
    expect(resolve({ trustProxy: 1 }, 'garbage', { 'x-forwarded-for': '198.51.100.9' })).toBe('unknown');
    expect(resolve({ trustProxy: 'cloudflare' }, undefined, { 'cf-connecting-ip': '198.51.100.9' })).toBe('unknown');
  });

  it('on the platform (Workers) the peer it gives is the client, whatever trustProxy says', () => {
    expect(resolve({ trustProxy: 1, platform: true }, '2001:DB8:1:2::5', { 'x-forwarded-for': '198.51.100.9' })).toBe('2001:db8:1:2::/64');
  });

  it('matches trusted IPv6 proxies and IPv4-mapped peers against IPv4 ranges', () => {
    expect(resolve({ trustProxy: ['2001:db8:ff::/48'] }, '2001:db8:ff:1::1', { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9');
    expect(resolve({ trustProxy: ['10.0.0.0/8'] }, '::ffff:10.0.0.9', { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9');
    expect(resolve({ trustProxy: ['::ffff:10.0.0.0/104'] }, '10.0.0.9', { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9');
    expect(resolve({ trustProxy: ['linklocal', 'uniquelocal'] }, 'fe80::1%eth0', { 'x-forwarded-for': '198.51.100.9, fd00::1, 169.254.0.1' })).toBe(
      '198.51.100.9',
    );
  });

  it('refuses options that cannot work', () => {
    expect(() => clientAddressResolver({ trustProxy: ['10.0.0.0/33'], ipv6Prefix: 64 })).toThrow(/trustProxy\[0\]/);
    expect(() => clientAddressResolver({ trustProxy: -1, ipv6Prefix: 64 })).toThrow(TypeError);
    expect(() => clientAddressResolver({ trustProxy: 'proxy' as never, ipv6Prefix: 64 })).toThrow(TypeError);
    expect(() => clientAddressResolver({ trustProxy: false, ipv6Prefix: 16 })).toThrow(/ipv6Prefix/);
    expect(() => clientAddressResolver({ trustProxy: false, ipv6Prefix: 64, forwardedHeader: 'x-real-ip' as never })).toThrow(/forwardedHeader/);
  });

  it('describes each trust mode in one line', () => {
    expect(describeClientAddress({ trustProxy: false, ipv6Prefix: 64 })).toBe("the connection's peer (no trusted proxy); IPv6 keyed by /64");
    expect(describeClientAddress({ trustProxy: 1, ipv6Prefix: 64 })).toBe('X-Forwarded-For, 1 trusted hop; IPv6 keyed by /64');
    expect(describeClientAddress({ trustProxy: 2, forwardedHeader: 'forwarded', ipv6Prefix: 56 })).toBe('Forwarded (for=), 2 trusted hops; IPv6 keyed by /56');
    expect(describeClientAddress({ trustProxy: ['loopback', '10.0.0.0/8'], ipv6Prefix: 64 })).toBe(
      'X-Forwarded-For, trusted proxies loopback, 10.0.0.0/8; IPv6 keyed by /64',
    );
    expect(describeClientAddress({ trustProxy: 'cloudflare', ipv6Prefix: 64 })).toContain("CF-Connecting-IP from Cloudflare's published addresses");
    expect(describeClientAddress({ trustProxy: 1, ipv6Prefix: 64, platform: true })).toBe('CF-Connecting-IP, set by Cloudflare; IPv6 keyed by /64');
  });
});

/** One address as 8 groups, with zero groups common enough that compression and mapped forms come up. */
const group = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
const ipv6Groups = fc.oneof(
  { weight: 4, arbitrary: fc.array(group, { minLength: 8, maxLength: 8 }) },
  // The forms with an IPv4 address inside: IPv4-compatible (::a.b.c.d, deprecated) and IPv4-mapped.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 0xffff), group, group).map(([g5, g6, g7]) => [0, 0, 0, 0, 0, g5, g6, g7]) },
);
const ipv4Octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });

/** The expected key, worked out without the code under test: the WHATWG URL host serializer is RFC 5952's form. */
function expectedKey(groups: number[], prefix: number): string {
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  const masked = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
  const host = new URL(`http://[${masked.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
  return prefix === 128 ? host : `${host}/${prefix}`;
}

/** A valid RFC 4291 spelling of the groups: any case, any zero padding, any one zero run compressed, maybe a dotted tail. */
const spelling = (groups: number[]) =>
  fc
    .record({
      pad: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 8, maxLength: 8 }),
      upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      compress: fc.nat(),
      dotted: fc.boolean(),
    })
    .map(({ pad, upper, compress, dotted }) => {
      const texts = groups.map((g, i) => {
        const hex = g.toString(16).padStart(pad[i]!, '0');
        return upper[i] ? hex.toUpperCase() : hex;
      });
      let tail: string[] = [];
      let head = texts;
      if (dotted) {
        head = texts.slice(0, 6);
        tail = [[groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.')];
      }
      // Zero runs within the head that may be written as "::".
      const runs: [number, number][] = [];
      for (let i = 0; i < head.length; i++) {
        if (groups[i] !== 0) continue;
        for (let j = i; j < head.length && groups[j] === 0; j++) runs.push([i, j + 1]);
      }
      const choice = runs.length ? compress % (runs.length + 1) : 0;
      if (choice === 0) return [...head, ...tail].join(':');
      const [from, to] = runs[choice - 1]!;
      const left = head.slice(0, from).join(':');
      const right = [...head.slice(to), ...tail].join(':');
      return `${left}::${right}`;
    });

/** Where the address reaches the gateway: the socket peer, an X-Forwarded-For entry, or a Forwarded node. */
type Placement = [header: 'x-forwarded-for' | 'forwarded', peer: string | undefined, headers: Record<string, string>];
const withPort = (text: string, port: number) => (text.includes(':') ? `[${text}]:${port}` : `${text}:${port}`);
const placements = (text: string): Placement[] => [
  ['x-forwarded-for', text, {}],
  ['x-forwarded-for', '10.0.0.2', { 'x-forwarded-for': `203.0.113.9, ${text}` }],
  ['x-forwarded-for', '10.0.0.2', { 'x-forwarded-for': withPort(text, 8443) }],
  ['forwarded', '10.0.0.2', { forwarded: `for=203.0.113.9, for="${withPort(text, 4711)}";proto=https` }],
];
const placed = (text: string) => fc.constantFrom(...placements(text));

describe('every valid spelling of an address gives the same rate-limit key (property)', () => {
  it('IPv6, as the peer or in either header, in any spelling, keys by its prefix; IPv4-mapped ones by the IPv4 address', () => {
    const cases = fc
      .tuple(ipv6Groups, fc.constantFrom(32, 48, 56, 64, 100, 128))
      .chain(([groups, prefix]) => fc.tuple(fc.constant(groups), fc.constant(prefix), spelling(groups).chain(placed)));
    fc.assert(
      fc.property(cases, ([groups, prefix, [header, peer, headers]]) => {
        expect(resolve({ trustProxy: 1, forwardedHeader: header, ipv6Prefix: prefix }, peer, headers)).toBe(expectedKey(groups, prefix));
      }),
      { numRuns: 3000 },
    );
  });

  it('IPv4, dotted or IPv4-mapped in any spelling, keys by the dotted address', () => {
    const cases = ipv4Octets.chain((octets) => {
      const mapped = [0, 0, 0, 0, 0, 0xffff, (octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
      return fc.tuple(fc.constant(octets), fc.oneof(fc.constant(octets.join('.')), spelling(mapped)).chain(placed));
    });
    fc.assert(
      fc.property(cases, ([octets, [header, peer, headers]]) => {
        expect(resolve({ trustProxy: 1, forwardedHeader: header }, peer, headers)).toBe(octets.join('.'));
      }),
      { numRuns: 3000 },
    );
  });

  it('through the gateway: four spellings of one IPv6 address spend one anonymous rate-limit bucket', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const gw = inProcessGateway(
      {
        upstream: { endpoint: 'http://127.0.0.1:9', credentials: TEST_CREDENTIALS },
        server: { trustProxy: true },
        anonymous: { rateLimit: { rate: '1/h', burst: 4 } },
        flows: { open: {} },
      },
      { clock },
    );
    // Peer and X-Forwarded-For placements: this gateway reads X-Forwarded-For.
    const viaGateway = (text: string) => fc.constantFrom(...placements(text).filter(([header]) => header === 'x-forwarded-for'));
    const cases = ipv6Groups.chain((groups) => fc.array(spelling(groups).chain(viaGateway), { minLength: 4, maxLength: 4 }));
    try {
      await fc.assert(
        fc.asyncProperty(cases, async (requests) => {
          clock.advance(5 * 3_600_000); // every earlier bucket is full again
          const remaining: string[] = [];
          for (const [, peer, headers] of requests) {
            // A body that is not JSON: refused with 400 after the limit was charged, so no upstream is needed.
            const answer = await gw.request('/flows/open/run', { peer, body: '{', headers });
            expect(answer.status).toBe(400);
            remaining.push(/"caller";r=(\d+)/.exec(answer.headers.get('ratelimit') ?? '')?.[1] ?? 'none');
          }
          expect(remaining).toEqual(['3', '2', '1', '0']);
        }),
        { numRuns: 100 },
      );
    } finally {
      await gw.close();
    }
  });
});
