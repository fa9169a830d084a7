import { parseIp, type IpAddress } from './ip-address.js';

/** The request headers a proxy chain is read from. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/**
 * The hops a forwarding header lists, nearest first: the entry the last proxy appended comes first.
 * Each is the address it names, or undefined when the entry names none that can be believed
 * (malformed, `unknown`, an obfuscated identifier such as `_hidden`, an element without `for=`).
 *
 * The header is cut at commas from the right and only as far as the caller reads, so a long header
 * costs only the hops that are walked. Commas are not looked at inside quotes on purpose: the entries
 * on the right are written by proxies, a client's text is always to their left, and whatever a client
 * writes there (an unclosed quote, a quoted comma) cannot reach across into them.
 *
 * - `x-forwarded-for`: comma-separated addresses; also `192.0.2.1:8080` and `[2001:db8::1]:8080`,
 *   the forms some load balancers write.
 * - `forwarded` (RFC 7239 §4): the `for=` parameter of each element, a token or quoted string whose
 *   node is `IPv4[:port]`, `"[IPv6][:port]"`, `unknown` or an obfuscated identifier (§6).
 */
export function* hopsFromRight(header: string, kind: ForwardedHeader): Generator<IpAddress | undefined, void, void> {
  let end = header.length;
  while (end > 0) {
    const start = header.lastIndexOf(',', end - 1);
    const entry = header.slice(start + 1, end).trim();
    end = start === -1 ? 0 : start;
    // Empty list members are allowed and ignored (RFC 9110 §5.6.1.2).
    if (entry === '') continue;
    yield kind === 'forwarded' ? forwardedFor(entry) : node(entry, true);
  }
}

/** The `for=` node of one RFC 7239 element; a parameter given twice makes the element malformed (§4). */
function forwardedFor(element: string): IpAddress | undefined {
  let found: string | undefined;
  for (const pair of element.split(';')) {
    // Empty pairs are allowed by the element syntax.
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq === -1) return undefined;
    if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    if (found !== undefined) return undefined;
    found = pair.slice(eq + 1).trim();
  }
  if (found === undefined) return undefined;
  if (found.startsWith('"')) {
    if (found.length < 2 || !found.endsWith('"')) return undefined;
    found = found.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return node(found, false);
}

const OBFUSCATED_PORT = /^_[A-Za-z0-9._-]+$/;

/** A port number (0-65535), or an obfuscated port (RFC 7239 §6.3). */
function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) ? Number(text) <= 65535 : OBFUSCATED_PORT.test(text);
}

/**
 * One node: an IPv4 address or bracketed IPv6 address, each with an optional port. A bare IPv6
 * address is a valid X-Forwarded-For entry, but not an RFC 7239 node, where it must be bracketed.
 */
function node(text: string, bareIpv6: boolean): IpAddress | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    const rest = text.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return undefined;
    const inner = text.slice(1, close);
    return inner.includes(':') ? parseIp(inner) : undefined;
  }
  const colon = text.indexOf(':');
  if (colon === -1) return parseIp(text);
  if (text.indexOf(':', colon + 1) === -1) {
    // IPv4 with a port; one colon alone is never IPv6.
    return isPort(text.slice(colon + 1)) ? parseIp(text.slice(0, colon)) : undefined;
  }
  return bareIpv6 ? parseIp(text) : undefined;
}
