/**
 * What a browser decides about a cross-origin fetch, by the Fetch standard's algorithms, so tests judge
 * the gateway's answers the way Chromium, Firefox and Safari do:
 * - whether a preflight is sent (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names),
 * - the CORS check on every answer (#cors-check),
 * - the preflight's method and header checks (#cors-preflight-fetch, steps 7.3–7.8),
 * - which response headers a script may read (#cors-safelisted-response-header-name, expose headers).
 */

export interface BrowserFetch {
  origin: string;
  method: string;
  /** Headers the script sets (names as written). */
  headers: Record<string, string>;
  /** `credentials: "include"`: cookies and HTTP authentication go along. */
  credentials: boolean;
}

const SAFELISTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const SAFELISTED_REQUEST = ['accept', 'accept-language', 'content-language'];
const SAFELISTED_RESPONSE = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];

/** Header lists are comma-separated tokens; a value that does not parse is a failure (null). */
function list(value: string | null): string[] | null {
  if (value === null) return [];
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items.every((item) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(item)) ? items : null;
}

/** The CORS-unsafe request-header names, lower-cased. */
export function unsafeHeaderNames(request: BrowserFetch): string[] {
  return Object.entries(request.headers)
    .filter(([name, value]) => {
      const lower = name.toLowerCase();
      if (SAFELISTED_REQUEST.includes(lower)) return false;
      if (lower === 'content-type') return !SAFELISTED_CONTENT_TYPES.includes(value.split(';')[0]!.trim().toLowerCase());
      return true;
    })
    .map(([name]) => name.toLowerCase())
    .sort();
}

export function needsPreflight(request: BrowserFetch): boolean {
  return !['GET', 'HEAD', 'POST'].includes(request.method) || unsafeHeaderNames(request).length > 0;
}

/** #cors-check: the answer may be handed to the script. Returns why not, or undefined when it passes. */
export function corsCheckFailure(response: Response, request: BrowserFetch): string | undefined {
  const origin = response.headers.get('access-control-allow-origin');
  if (origin === null) return 'no Access-Control-Allow-Origin';
  if (!request.credentials && origin === '*') return undefined;
  if (origin !== request.origin) return `Access-Control-Allow-Origin is ${origin}, not the page's origin`;
  if (!request.credentials) return undefined;
  if (response.headers.get('access-control-allow-credentials') !== 'true') return 'credentials without Access-Control-Allow-Credentials: true';
  return undefined;
}

/** #cors-preflight-fetch: whether the preflight's answer lets the actual request go. */
export function preflightFailure(response: Response, request: BrowserFetch): string | undefined {
  if (response.status < 200 || response.status > 299) return `preflight status ${response.status}`;
  const check = corsCheckFailure(response, request);
  if (check) return check;
  const methods = list(response.headers.get('access-control-allow-methods'));
  const headerNames = list(response.headers.get('access-control-allow-headers'));
  if (methods === null || headerNames === null) return 'an Access-Control-Allow-* list does not parse';
  const safelistedMethod = ['GET', 'HEAD', 'POST'].includes(request.method);
  if (!methods.includes(request.method) && !safelistedMethod && (request.credentials || !methods.includes('*'))) return `method ${request.method} not allowed`;
  const allowed = headerNames.map((name) => name.toLowerCase());
  for (const name of unsafeHeaderNames(request)) {
    // Authorization is a CORS non-wildcard request-header name: only its own name allows it.
    if (name === 'authorization' && !allowed.includes('authorization')) return 'Authorization not allowed ("*" never covers it)';
    if (!allowed.includes(name) && (request.credentials || !allowed.includes('*'))) return `header ${name} not allowed`;
  }
  return undefined;
}

/** The response header names a script can read after the CORS check passed. */
export function readableHeaders(response: Response, request: BrowserFetch): (name: string) => boolean {
  const exposed = (list(response.headers.get('access-control-expose-headers')) ?? []).map((name) => name.toLowerCase());
  const wildcard = !request.credentials && exposed.includes('*');
  return (name) => {
    const lower = name.toLowerCase();
    if (lower === 'set-cookie' || lower === 'set-cookie2') return false;
    return SAFELISTED_RESPONSE.includes(lower) || exposed.includes(lower) || wildcard;
  };
}

/**
 * Sends what a browser would: the preflight when one is needed (and stops if it fails), then the
 * actual request with `Origin`. Returns the failure a browser would report, or the readable answer.
 */
export async function browserFetch(
  url: string,
  request: BrowserFetch,
  body?: string,
  /** The network: global `fetch`, or an in-process gateway's. */
  fetch: (url: string, init: RequestInit) => Promise<Response> = globalThis.fetch,
): Promise<
  | { failure: string; response?: Response; preflight?: Response }
  | { failure?: undefined; response: Response; preflight?: Response; readable: (name: string) => boolean }
> {
  let preflight: Response | undefined;
  if (needsPreflight(request)) {
    const unsafe = unsafeHeaderNames(request);
    preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: request.origin,
        'access-control-request-method': request.method,
        ...(unsafe.length ? { 'access-control-request-headers': unsafe.join(',') } : {}),
      },
    });
    await preflight.arrayBuffer();
    const failure = preflightFailure(preflight, request);
    if (failure) return { failure: `preflight: ${failure}`, preflight };
  }
  const response = await fetch(url, { method: request.method, headers: { ...request.headers, origin: request.origin }, body });
  const failure = corsCheckFailure(response, request);
  if (failure) return { failure, response, preflight };
  return { response, preflight, readable: readableHeaders(response, request) };
}
