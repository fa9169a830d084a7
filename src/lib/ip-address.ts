import ipaddr from 'ipaddr.js';

/** A parsed address: ipaddr.js's IPv4 or IPv6 object. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** An address range: a network address and its prefix length in bits. */
export type IpRange = [IpAddress, number];

/**
 * Parses one address as written in a socket, a header or a config, and gives the one object every
 * spelling of it maps to:
 * - IPv4 in dotted-decimal form only (RFC 3986 `IPv4address`). The inet_aton spellings ipaddr.js also
 *   reads (`127.1`, `0x7f.0.0.1`, `2130706433`, zero-padded octets, which some readers take as octal)
 *   are refused: no proxy writes them, and they are ambiguous.
 * - IPv6 in any RFC 4291 §2.2 text form: either case, zero-padded or compressed groups, a dotted-decimal
 *   tail, a zone index (`%eth0`, dropped: it names an interface of the writer, not an address).
 * - An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) is that IPv4 address.
 * Returns undefined for anything else; never throws.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  if (!text.includes(':')) return parseIpv4(text);
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (zone !== -1 && !/^%[0-9A-Za-z._~-]+$/.test(text.slice(zone))) return undefined;
  const dotted = bare.includes('.') ? bare.slice(bare.lastIndexOf(':') + 1) : undefined;
  // ipaddr.js reads a dotted tail with inet_aton rules and turns the deprecated `::a.b.c.d` into `::ffff:a.b.c.d`;
  // both would give one address two keys, so the tail must be four plain decimals and is placed here.
  const tail = dotted === undefined ? undefined : parseIpv4(dotted);
  if (dotted !== undefined && !tail) return undefined;
  let address: ipaddr.IPv6;
  try {
    address = ipaddr.IPv6.parse(tail ? `${bare.slice(0, bare.length - dotted!.length)}0:0` : bare);
  } catch {
    return undefined;
  }
  if (tail) {
    const [a, b, c, d] = tail.octets as [number, number, number, number];
    const parts = address.parts.slice();
    parts[6] = (a << 8) | b;
    parts[7] = (c << 8) | d;
    address = new ipaddr.IPv6(parts);
  }
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

const DEC_OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${DEC_OCTET}\\.${DEC_OCTET}\\.${DEC_OCTET}\\.${DEC_OCTET}$`);

/** Dotted decimal only (RFC 3986 dec-octet: 0-255, no leading zeros). */
function parseIpv4(text: string): ipaddr.IPv4 | undefined {
  const m = IPV4.exec(text);
  return m ? new ipaddr.IPv4([Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]) : undefined;
}

/**
 * The one key of an address: IPv4 as dotted decimal; IPv6 as its network of `ipv6Prefix` bits in
 * RFC 5952 form (`2001:db8:1:2::/64`), or the bare RFC 5952 address when the prefix is 128. One
 * IPv6 host usually holds a whole /64 (RFC 4291 §2.5.4, SLAAC privacy addresses, RFC 8981), so
 * keying by the full address would give it 2^64 rate-limit buckets.
 *
 * Two kinds of IPv6 address are not keyed by network: one that carries an IPv4 address (see
 * embeddedIpv4) is keyed by that IPv4 address, since whole IPv4 populations sit in one /64 of those
 * prefixes; and `::1` and `::`, which lie in the /64 of the IPv4-compatible addresses, are keyed by
 * themselves.
 */
export function addressKey(address: IpAddress, ipv6Prefix: number): string {
  if (address.kind() === 'ipv4') return address.toString();
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  if (embedded) return embedded.toString();
  if (ipv6Prefix >= 128 || isUnspecifiedOrLoopback(v6.parts)) return v6.toRFC5952String();
  const parts = v6.parts.map((part, i) => {
    const bits = ipv6Prefix - i * 16;
    return bits >= 16 ? part : bits <= 0 ? 0 : part & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${new ipaddr.IPv6(parts).toRFC5952String()}/${ipv6Prefix}`;
}

/**
 * The IPv4 address an IPv6 address stands for, by the address formats that carry one in fixed bits; undefined
 * for any other address:
 * - IPv4-mapped `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2) and IPv4-translated `::ffff:0:a.b.c.d` (RFC 2765 §2.1):
 *   the last 32 bits;
 * - IPv4-compatible `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated): the last 32 bits, except `::` and `::1`;
 * - NAT64: the well-known prefix `64:ff9b::/96` (RFC 6052 §2.1) and the local-use `64:ff9b:1::/48` (RFC 8215),
 *   the last 32 bits: a /96 translation prefix, the usual one (RFC 6052 §2.2 also allows shorter ones, whose
 *   IPv4 bits sit elsewhere and cannot be told apart from the address alone);
 * - 6to4 `2002:AABB:CCDD::/48` (RFC 3056 §2): the site's IPv4 address, bits 16-47;
 * - Teredo `2001:0::/32` (RFC 4380 §4): the client's external IPv4 address, the last 32 bits inverted.
 */
export function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = p;
  let high: number;
  let low: number;
  if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && ((p4 === 0 && (p5 === 0 || p5 === 0xffff)) || (p4 === 0xffff && p5 === 0))) {
    if (isUnspecifiedOrLoopback(p)) return undefined;
    [high, low] = [p6, p7];
  } else if (p0 === 0x64 && p1 === 0xff9b && (p2 === 1 || (p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0))) {
    [high, low] = [p6, p7];
  } else if (p0 === 0x2002) {
    [high, low] = [p1, p2];
  } else if (p0 === 0x2001 && p1 === 0) {
    [high, low] = [p6 ^ 0xffff, p7 ^ 0xffff];
  } else {
    return undefined;
  }
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** `::` (unspecified) or `::1` (loopback), RFC 4291 §2.5.2-3. */
function isUnspecifiedOrLoopback(parts: readonly number[]): boolean {
  for (let i = 0; i < 7; i++) if (parts[i] !== 0) return false;
  return parts[7]! <= 1;
}

/**
 * Parses an address or CIDR (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`) into a range, with the
 * same spellings as parseIp. An IPv4-mapped IPv6 range is the IPv4 range it covers (as proxy-addr
 * reads it), so it matches the IPv4 addresses parseIp gives. Returns undefined when it is neither.
 */
export function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const isMapped = text.includes(':') && address.kind() === 'ipv4';
  const max = address.kind() === 'ipv4' && !isMapped ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const digits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(digits)) return undefined;
    bits = Number(digits);
    if (bits > max) return undefined;
  }
  if (isMapped) {
    // ::ffff:0:0/96 and longer cover IPv4 addresses only; shorter ones are not ranges of mapped addresses.
    if (bits < 96) return undefined;
    bits -= 96;
  }
  return [address, bits];
}

/** Whether the address lies in any of the ranges; an IPv4 address never matches an IPv6 range, nor the reverse. */
export function inRanges(address: IpAddress, ranges: readonly IpRange[]): boolean {
  const kind = address.kind();
  for (const range of ranges) {
    if (range[0].kind() === kind && address.match(range)) return true;
  }
  return false;
}
