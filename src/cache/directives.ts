/** The request `Cache-Control` directives the response cache honours (RFC 9111 §5.2.1). */
export interface CacheDirectives {
  /** Neither read nor write the cache. */
  noStore: boolean;
  /** Skip the lookup, still store the fresh result. */
  noCache: boolean;
  /** The oldest entry, in seconds, the caller accepts. */
  maxAge: number | undefined;
}

const NONE: CacheDirectives = { noStore: false, noCache: false, maxAge: undefined };

/**
 * Parses a request `Cache-Control` value. Unknown directives are ignored; a malformed `max-age` is
 * ignored too rather than refused, as caches do (RFC 9111 §4.2.1 asks for the most conservative
 * reading, so a repeated `max-age` keeps the smallest).
 */
export function parseCacheControl(header: string | undefined): CacheDirectives {
  if (!header) return NONE;
  const out: CacheDirectives = { noStore: false, noCache: false, maxAge: undefined };
  for (const part of header.split(',')) {
    const [rawName = '', ...rest] = part.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (name === 'no-store') out.noStore = true;
    else if (name === 'no-cache') out.noCache = true;
    else if (name === 'max-age' && /^\d{1,10}$/.test(value)) {
      const seconds = Number(value);
      out.maxAge = out.maxAge === undefined ? seconds : Math.min(out.maxAge, seconds);
    }
  }
  return out;
}
