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
    expect(key('::1')).toBe('::1');
    expect(key('::')).toBe('::');
    expect(key('::2:0:0')).toBe('::/64');
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

  it('an IPv4-mapped IPv6 address is the IPv4 address', () => {
    for (const s of ['::ffff:198.51.100.7', '::FFFF:C633:6407', '0:0:0:0:0:ffff:198.51.100.7', '0000:0000:0000:0000:0000:ffff:c633:6407'])
      expect(key(s)).toBe('198.51.100.7');
    expect(parseIp('::ffff:198.51.100.7')?.kind()).toBe('ipv4');
  });

  it('an IPv6 address that carries an IPv4 address by a translation or tunnel format is keyed by that IPv4 address', () => {
    const carried: [string, string][] = [
      // IPv4-translated (RFC 2765) and IPv4-compatible (RFC 4291, deprecated), in both spellings
      ['::ffff:0:198.51.100.7', '198.51.100.7'],
      ['::ffff:0:c633:6407', '198.51.100.7'],
      ['::198.51.100.7', '198.51.100.7'],
      ['::c633:6407', '198.51.100.7'],
      // NAT64: the well-known prefix (RFC 6052 §2.4's example) and the local-use /48 (RFC 8215)
      ['64:ff9b::192.0.2.33', '192.0.2.33'],
      ['64:ff9b::c000:221', '192.0.2.33'],
      ['64:ff9b:1::198.51.100.7', '198.51.100.7'],
      ['64:ff9b:1:abcd:0:1:c633:6407', '198.51.100.7'],
      // 6to4 (RFC 3056): the site's address in bits 16-47, whatever the subnet and host
      ['2002:c633:6407::1', '198.51.100.7'],
      ['2002:c633:6407:ffff:1:2:3:4', '198.51.100.7'],
      // Teredo (RFC 4380): the client's external address, inverted in the last 32 bits (server 65.54.227.120, port 40000)
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', '192.0.2.45'],
      ['2001:0000:4136:E378:8000:63BF:3FFF:FDD2', '192.0.2.45'],
    ];
    for (const [text, ipv4] of carried) {
      for (const prefix of [32, 64, 128]) expect(key(text, prefix), `${text} /${prefix}`).toBe(ipv4);
    }
    // Two clients of one NAT64 or 6to4 prefix are two keys, not one /64.
    expect(key('64:ff9b::198.51.100.8')).not.toBe(key('64:ff9b::198.51.100.7'));
    expect(key('2002:c633:6408::1')).not.toBe(key('2002:c633:6407::1'));
    // Next to those prefixes, but not in them: keyed by network as usual.
    expect(key('64:ff9b:0:0:1::c633:6407')).toBe('64:ff9b::/64');
    expect(key('64:ff9b:2::c633:6407')).toBe('64:ff9b:2::/64');
    expect(key('2001:1::c633:6407')).toBe('2001:1::/64');
    expect(key('2001:db8::c633:6407')).toBe('2001:db8::/64');
    expect(key('2003:c633:6407::1')).toBe('2003:c633:6407::/64');
    // Loopback and unspecified are themselves, never an IPv4 address or a shared /64.
    expect(key('::1', 64)).toBe('::1');
    expect(key('0:0:0:0:0:0:0:1', 32)).toBe('::1');
    expect(key('::', 64)).toBe('::');
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

const ipv4Octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
const anyGroup = fc.integer({ min: 0, max: 0xffff });
const anyGroups = fc.array(anyGroup, { minLength: 8, maxLength: 8 });

/** The formats that carry an IPv4 address in an IPv6 one, each with the groups around it chosen at random. */
const EMBEDDINGS = {
  mapped: (hi: number, lo: number) => [0, 0, 0, 0, 0, 0xffff, hi, lo],
  translated: (hi: number, lo: number) => [0, 0, 0, 0, 0xffff, 0, hi, lo],
  compatible: (hi: number, lo: number) => [0, 0, 0, 0, 0, 0, hi, lo],
  nat64: (hi: number, lo: number) => [0x64, 0xff9b, 0, 0, 0, 0, hi, lo],
  nat64Local: (hi: number, lo: number, r: number[]) => [0x64, 0xff9b, 1, r[3]!, r[4]!, r[5]!, hi, lo],
  sixToFour: (hi: number, lo: number, r: number[]) => [0x2002, hi, lo, r[3]!, r[4]!, r[5]!, r[6]!, r[7]!],
  teredo: (hi: number, lo: number, r: number[]) => [0x2001, 0, r[2]!, r[3]!, r[4]!, r[5]!, hi ^ 0xffff, lo ^ 0xffff],
};
/** An IPv4 address (never 0.0.0.0 or 0.0.0.1, which are `::` and `::1` in the compatible form) inside an IPv6 one. */
const embedded = fc
  .tuple(fc.constantFrom(...(Object.keys(EMBEDDINGS) as (keyof typeof EMBEDDINGS)[])), ipv4Octets, anyGroups)
  .filter(([, octets]) => octets.some((o, i) => (i === 3 ? o > 1 : o !== 0)))
  .map(([format, octets, around]) => ({
    format,
    octets,
    groups: EMBEDDINGS[format]((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!, around),
  }));

/** One address as 8 groups, with zero groups common enough that compression and the embedding formats come up. */
const group = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: anyGroup });
const ipv6Groups = fc.oneof(
  { weight: 4, arbitrary: fc.array(group, { minLength: 8, maxLength: 8 }) },
  { weight: 2, arbitrary: embedded.map((e) => e.groups) },
  { weight: 1, arbitrary: fc.constantFrom<number[]>([0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1]) },
);

/**
 * The expected key, worked out without the code under test: the embedding formats by the hex digits they start
 * with, and the WHATWG URL host serializer for RFC 5952's form.
 */
function expectedKey(groups: number[], prefix: number): string {
  const hex = groups.map((g) => g.toString(16).padStart(4, '0')).join('');
  const dotted = (digits: string) => [0, 2, 4, 6].map((i) => parseInt(digits.slice(i, i + 2), 16)).join('.');
  const last32 = hex.slice(24);
  if (hex === '0'.repeat(32)) return '::';
  if (hex === `${'0'.repeat(31)}1`) return '::1';
  if (['00000000000000000000ffff', '0000000000000000ffff0000', '000000000000000000000000', '0064ff9b0000000000000000'].includes(hex.slice(0, 24)))
    return dotted(last32);
  if (hex.startsWith('0064ff9b0001')) return dotted(last32);
  if (hex.startsWith('2002')) return dotted(hex.slice(4, 12));
  if (hex.startsWith('20010000')) return dotted(((parseInt(last32, 16) ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0'));
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
  it('IPv6, as the peer or in either header, in any spelling, keys by its prefix; one carrying an IPv4 address by that address', () => {
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

  it('an IPv4 address inside an IPv6 one (mapped, translated, compatible, NAT64, 6to4, Teredo), in any spelling and place, keys as that IPv4 address', () => {
    const cases = fc
      .tuple(embedded, fc.constantFrom(32, 64, 128))
      .chain(([e, prefix]) => fc.tuple(fc.constant(e), fc.constant(prefix), spelling(e.groups).chain(placed)));
    fc.assert(
      fc.property(cases, ([{ octets }, prefix, [header, peer, headers]]) => {
        const written = octets.join('.');
        expect(resolve({ trustProxy: 1, forwardedHeader: header, ipv6Prefix: prefix }, peer, headers)).toBe(written);
        expect(resolve({ ipv6Prefix: prefix }, written)).toBe(written);
      }),
      { numRuns: 3000 },
    );
  });

  it('::1 and :: share their key with no other address, at any prefix', () => {
    const other = fc.oneof(anyGroups, ipv6Groups).filter((groups) => groups.slice(0, 7).some((g) => g !== 0) || groups[7]! > 1);
    fc.assert(
      fc.property(other, fc.constantFrom(32, 48, 64, 100, 128), (groups, prefix) => {
        const text = groups.map((g) => g.toString(16)).join(':');
        const own = resolve({ ipv6Prefix: prefix }, text);
        expect(own).not.toBe(resolve({ ipv6Prefix: prefix }, '::1'));
        expect(own).not.toBe(resolve({ ipv6Prefix: prefix }, '::'));
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
