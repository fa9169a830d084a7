import { hopsFromRight, type ForwardedHeader } from './forwarded.js';
import { addressKey, inRanges, parseIp, parseRange, type IpAddress, type IpRange } from './ip-address.js';
import { PROXY_PRESETS } from './proxy-presets.js';

/** `server.trustProxy` after loading: `true` is already 1 and `0` false. */
export type TrustProxy = false | number | readonly string[] | 'cloudflare';

export type { ForwardedHeader };

export interface ClientAddressOptions {
  trustProxy: TrustProxy;
  /** The header the hop walk reads (`server.forwardedHeader`); `x-forwarded-for` when absent. */
  forwardedHeader?: ForwardedHeader | undefined;
  /** `anonymous.ipv6Prefix`: IPv6 clients are keyed by their network of this many bits. */
  ipv6Prefix: number;
  /**
   * The peer address is already the client's, set by the platform (Workers: `CF-Connecting-IP`,
   * which Cloudflare's edge overwrites); `trustProxy` then does not apply.
   */
  platform?: boolean | undefined;
}

/** Reads one request header by lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

/**
 * The key of a request's client address (`203.0.113.7`, `2001:db8:1:2::/64`), from the header
 * reader and the connection's peer address; `unknown` when there is no peer address to go by.
 */
export type ClientAddressResolver = (header: HeaderReader, peer: string | undefined) => string;

/** The key used when a request has no usable peer address (a Unix socket, a test without one). */
export const UNKNOWN_ADDRESS = 'unknown';

export const MIN_IPV6_PREFIX = 32;

/**
 * The ranges one `server.trustProxy` list entry stands for: an address, a CIDR, or a preset
 * (`loopback`, `linklocal`, `uniquelocal`, `cloudflare`); undefined when it is none of them.
 */
export function trustedProxyRanges(entry: string): IpRange[] | undefined {
  const preset = Object.hasOwn(PROXY_PRESETS, entry) ? PROXY_PRESETS[entry] : undefined;
  if (preset) return preset.map((cidr) => parseRange(cidr)!);
  const range = parseRange(entry);
  return range ? [range] : undefined;
}

/**
 * Builds the one function that says who a request comes from, for every use of the client address:
 * anonymous rate limits, `auth.failureLimit`, caller-scoped cache entries, Idempotency-Key records
 * and `ack` executions all key by what it returns. The trust setting is compiled here, once.
 *
 * The rules are proxy-addr's (Express `trust proxy`): the peer must be trusted before any header
 * entry is believed; then the forwarding header is walked from the right, nearest hop first, past
 * trusted hops, and the first untrusted address is the client. A hop count N trusts the peer and the
 * N-1 nearest entries. When every hop is trusted, the farthest one is the client. Unlike proxy-addr,
 * an entry that names no address (malformed, `unknown`, `_obfuscated`) is never a key: the walk stops
 * there and the client is the hop that passed it on.
 *
 * `cloudflare` believes `CF-Connecting-IP` only from a peer in Cloudflare's published ranges (a client
 * that reaches the origin directly can send the header too).
 *
 * Throws TypeError for options that cannot work (bad hop count, unknown list entry, bad prefix).
 * Sources: proxy-addr (https://github.com/jshttp/proxy-addr), RFC 7239, Cloudflare's
 * "Cloudflare HTTP headers" (CF-Connecting-IP) and https://www.cloudflare.com/ips/.
 */
export function clientAddressResolver(options: ClientAddressOptions): ClientAddressResolver {
  const { trustProxy, ipv6Prefix, platform } = options;
  const forwardedHeader = options.forwardedHeader ?? 'x-forwarded-for';
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < MIN_IPV6_PREFIX || ipv6Prefix > 128) {
    throw new TypeError(`ipv6Prefix must be an integer from ${MIN_IPV6_PREFIX} to 128`);
  }
  if (forwardedHeader !== 'x-forwarded-for' && forwardedHeader !== 'forwarded') throw new TypeError('forwardedHeader must be "x-forwarded-for" or "forwarded"');
  const key = (address: IpAddress | undefined): string => (address ? addressKey(address, ipv6Prefix) : UNKNOWN_ADDRESS);

  if (platform || trustProxy === false || trustProxy === 0) return (_header, peer) => key(peer === undefined ? undefined : parseIp(peer));

  if (trustProxy === 'cloudflare') {
    const edge = trustedProxyRanges('cloudflare')!;
    return (header, peer) => {
      const from = peer === undefined ? undefined : parseIp(peer);
      if (!from || !inRanges(from, edge)) return key(from);
      const connecting = header('cf-connecting-ip');
      return key((connecting === undefined ? undefined : parseIp(connecting.trim())) ?? from);
    };
  }

  let trusted: (address: IpAddress, hop: number) => boolean;
  if (typeof trustProxy === 'number') {
    if (!Number.isInteger(trustProxy) || trustProxy < 0) throw new TypeError('trustProxy must be false, a hop count, a list of proxies or "cloudflare"');
    trusted = (_address, hop) => hop < trustProxy;
  } else if (Array.isArray(trustProxy)) {
    const ranges: IpRange[] = [];
    trustProxy.forEach((entry: unknown, i) => {
      const parsed = typeof entry === 'string' ? trustedProxyRanges(entry) : undefined;
      if (!parsed) throw new TypeError(`trustProxy[${i}] is not an address, a CIDR or a preset (${Object.keys(PROXY_PRESETS).join(', ')})`);
      ranges.push(...parsed);
    });
    trusted = (address) => inRanges(address, ranges);
  } else {
    throw new TypeError('trustProxy must be false, a hop count, a list of proxies or "cloudflare"');
  }

  return (header, peer) => {
    let client = peer === undefined ? undefined : parseIp(peer);
    if (!client || !trusted(client, 0)) return key(client);
    const text = header(forwardedHeader);
    if (text === undefined) return key(client);
    let hop = 0;
    for (const address of hopsFromRight(text, forwardedHeader)) {
      // A hop that names no address ends the walk: the client is whoever passed it on.
      if (!address) break;
      client = address;
      if (!trusted(address, ++hop)) break;
    }
    return key(client);
  };
}

/**
 * Hop counts above this trust more proxies than stand in front of a server (a CDN, a WAF, a load balancer,
 * an ingress, a sidecar): past the real number, the entries a client writes itself are believed.
 */
export const MAX_PLAUSIBLE_HOPS = 5;

/**
 * Trust settings that load but let clients choose their own address, each as the key path below
 * `server.trustProxy` ('' or `.<index>`) and a message; empty when there are none:
 * - a hop count over MAX_PLAUSIBLE_HOPS;
 * - a list range wider than the widest private network of its family (IPv4 10.0.0.0/8, IPv6 fc00::/7,
 *   RFC 1918 and RFC 4193), such as `0.0.0.0/0`, `::/0` or `::ffff:0:0/96`: it holds the public
 *   addresses clients connect from, and any client in a trusted range can send the address it likes.
 * Expects a setting that loaded (clientAddressResolver's checks passed).
 */
export function trustProxyWarnings(trustProxy: TrustProxy): { path: string; message: string }[] {
  if (typeof trustProxy === 'number' && trustProxy > MAX_PLAUSIBLE_HOPS) {
    return [
      {
        path: '',
        message: `${trustProxy} trusted hops is more proxies than usually stand in front of a server (at most ${MAX_PLAUSIBLE_HOPS}); with fewer, a client chooses its own address by sending forwarding entries of its own`,
      },
    ];
  }
  if (!Array.isArray(trustProxy)) return [];
  const warnings: { path: string; message: string }[] = [];
  trustProxy.forEach((entry, i) => {
    for (const [address, bits] of trustedProxyRanges(entry) ?? []) {
      const v4 = address.kind() === 'ipv4';
      if (bits >= (v4 ? 8 : 7)) continue;
      const what = bits === 0 ? `every IPv${v4 ? 4 : 6} address` : `a /${bits} network, wider than any private one`;
      warnings.push({ path: `.${i}`, message: `"${entry}" trusts ${what}: any client in it can send the address it likes as its own` });
      return;
    }
  });
  return warnings;
}

/** One line for `flowgate check` and the Worker's start log: where the client address comes from. */
export function describeClientAddress(options: ClientAddressOptions): string {
  const { trustProxy, ipv6Prefix } = options;
  const header = options.forwardedHeader === 'forwarded' ? 'Forwarded (for=)' : 'X-Forwarded-For';
  let source: string;
  if (options.platform) source = 'CF-Connecting-IP, set by Cloudflare';
  else if (trustProxy === false || trustProxy === 0) source = "the connection's peer (no trusted proxy)";
  else if (trustProxy === 'cloudflare') source = "CF-Connecting-IP from Cloudflare's published addresses, else the connection's peer";
  else if (typeof trustProxy === 'number') source = `${header}, ${trustProxy} trusted hop${trustProxy === 1 ? '' : 's'}`;
  else source = `${header}, trusted proxies ${trustProxy.join(', ')}`;
  return `${source}; IPv6 keyed by /${ipv6Prefix}`;
}
