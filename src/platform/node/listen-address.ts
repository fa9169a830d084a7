/**
 * How the address a server listens on is shown: a URL that works from this machine (`url`), and a phrase
 * saying where it listens (`where`). A wildcard host (`0.0.0.0`, `::`) listens on every interface; its URL
 * uses the loopback address, which a wildcard listener also answers on (`::` is dual-stack on Node by
 * default). An IPv6 host is bracketed in a URL (RFC 3986 §3.2.2).
 */
export function listenAddress(host: string, port: number): { url: string; where: string } {
  const ipv6 = host.includes(':');
  const wildcard = host === '0.0.0.0' || (ipv6 && /^[0:]+$/.test(host));
  const url = `http://${wildcard ? '127.0.0.1' : ipv6 ? `[${host}]` : host}:${port}`;
  const where = wildcard ? `all interfaces (${ipv6 ? `[${host}]` : host}:${port}); from this machine ${url}` : url;
  return { url, where };
}
