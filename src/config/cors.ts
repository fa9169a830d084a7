import * as z from 'zod';
import { visit, type RouteConfig } from './routes.js';

/** `server.cors` once parsed: `true` means every origin, without credentials. */
export interface CorsOptions {
  /** `"*"`, or the exact origins a browser sends in `Origin` (`https://app.example`). */
  origins: '*' | readonly string[];
  /** Request headers a preflight allows; default {@link DEFAULT_ALLOW_HEADERS}. */
  allowHeaders?: readonly string[] | undefined;
  /** Response headers scripts may read; default {@link DEFAULT_EXPOSE_HEADERS}. */
  exposeHeaders?: readonly string[] | undefined;
  /** `Access-Control-Max-Age`, in seconds. */
  maxAge?: number | undefined;
  /** Cookies and HTTP authentication (`credentials: "include"`); flowgate's own keys are headers and need none. */
  credentials: boolean;
}

/** A request header some configured feature needs a browser to send, and why. */
export interface CorsNeed {
  /** Any one of these names satisfies the need (an API key travels in either header). */
  headers: readonly string[];
  why: string;
}

/** One problem with a key path relative to `server.cors` (`origins.1`, `allowHeaders`). */
export interface CorsProblem {
  path: string;
  message: string;
}

export const DEFAULT_ALLOW_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-API-Key',
  'X-Request-Id',
  'X-Execution-Name',
  'Idempotency-Key',
  'Cache-Control',
] as const;
export const DEFAULT_EXPOSE_HEADERS = [
  'X-Request-Id',
  'X-Execution-Name',
  'Location',
  'Idempotent-Replayed',
  'Cache-Status',
  'Age',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'Server-Timing',
] as const;
/** Firefox caches a preflight for at most 24 h and Chromium for 2 h; a larger value cannot take effect. */
export const MAX_PREFLIGHT_AGE_S = 86_400;

/** RFC 9110 §5.6.2 token: what a header name is, and what the Access-Control-* lists must hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Schemes whose origin is a (scheme, host, port) tuple in the URL Standard; their serialization is exact. */
const SPECIAL = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);

/**
 * The CORS settings that cannot work in a browser, by the Fetch standard's rules (CORS check, CORS-preflight
 * fetch, `Access-Control-Expose-Headers`), and the request headers in `needs` that a preflight would refuse.
 * Messages never repeat a configured value. Merely unusual settings (duplicates, `null` without credentials,
 * app schemes such as `capacitor://localhost`) pass.
 *
 * - With credentials, `Access-Control-Allow-Origin: *` fails every request, and `*` in the header lists is a
 *   literal name rather than a wildcard (https://fetch.spec.whatwg.org/#cors-check, #cors-preflight-fetch).
 * - `*` in `Access-Control-Allow-Headers` never covers `Authorization`.
 * - A browser sends `Origin` as the serialized origin: lower-case scheme and host, no default port, no path and
 *   no trailing slash (https://html.spec.whatwg.org/#ascii-serialisation-of-an-origin). Matching is exact, so any
 *   other spelling never matches.
 */
export function corsProblems(options: CorsOptions, needs: readonly CorsNeed[] = []): CorsProblem[] {
  const problems: CorsProblem[] = [];
  const { origins, credentials } = options;
  if (origins === '*') {
    if (credentials)
      problems.push({ path: 'credentials', message: 'needs a list of origins: browsers refuse "Access-Control-Allow-Origin: *" on credentialed requests' });
  } else {
    if (origins.length === 0) problems.push({ path: 'origins', message: 'an empty list allows no origin; set server.cors to false to turn CORS off' });
    origins.forEach((origin, i) => {
      const message = originProblem(origin, credentials);
      if (message) problems.push({ path: `origins.${i}`, message });
    });
  }
  problems.push(...headerListProblems('allowHeaders', options.allowHeaders, credentials));
  problems.push(...headerListProblems('exposeHeaders', options.exposeHeaders, credentials));
  if (options.maxAge !== undefined && options.maxAge > MAX_PREFLIGHT_AGE_S) {
    problems.push({ path: 'maxAge', message: `is in seconds, and browsers keep a preflight at most ${MAX_PREFLIGHT_AGE_S} (Firefox) or 7200 (Chromium)` });
  }
  const allowed = new Set((options.allowHeaders ?? DEFAULT_ALLOW_HEADERS).map((name) => name.toLowerCase()));
  const wildcard = !credentials && allowed.has('*');
  const covers = (name: string) => allowed.has(name.toLowerCase()) || (wildcard && name.toLowerCase() !== 'authorization');
  for (const need of needs) {
    if (need.headers.some(covers)) continue;
    const names = need.headers.join(' or ');
    const note = wildcard && need.headers.some((h) => h.toLowerCase() === 'authorization') ? '; "*" never covers Authorization' : '';
    problems.push({ path: 'allowHeaders', message: `missing ${names}: ${need.why}${note}` });
  }
  return problems;
}

function originProblem(origin: string, credentials: boolean): string | undefined {
  if (origin.includes('*')) return '"*" allows every origin only as the whole value (origins: "*"); patterns are not supported, list each origin';
  if (origin === 'null') {
    // Sandboxed iframes and file: pages of any site send `Origin: null`.
    return credentials ? '"null" with credentials would give every sandboxed page on the web credentialed access' : undefined;
  }
  return isSerializedOrigin(origin)
    ? undefined
    : 'not an origin as browsers send it: scheme://host[:port] in lower case, without a default port, path or trailing slash';
}

function isSerializedOrigin(origin: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#\s@]+)$/.exec(origin);
  if (!match) return false;
  if (!SPECIAL.has(match[1]!)) return true; // app schemes (capacitor://localhost): no serialization rule to apply
  try {
    return new URL(origin).origin === origin;
  } catch {
    return false;
  }
}

function headerListProblems(key: 'allowHeaders' | 'exposeHeaders', names: readonly string[] | undefined, credentials: boolean): CorsProblem[] {
  const problems: CorsProblem[] = [];
  names?.forEach((name, i) => {
    if (!TOKEN.test(name)) problems.push({ path: `${key}.${i}`, message: 'not a header name (an RFC 9110 token)' });
    else if (name === '*' && credentials)
      problems.push({ path: `${key}.${i}`, message: 'with credentials, "*" is a literal header name, not a wildcard: list the headers' });
  });
  return problems;
}

/**
 * `server.cors`: `false` (the default), `true` (every origin, no credentials) or the full form. Parsed to
 * `false | CorsOptions`; what cannot work in a browser is judged in `corsProblems` with the rest of the config.
 */
export const corsSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      origins: z.union([z.literal('*'), z.array(z.string().min(1))]).default('*'),
      allowHeaders: z.array(z.string()).optional(),
      exposeHeaders: z.array(z.string()).optional(),
      maxAge: z.number().int().nonnegative().optional(),
      credentials: z.boolean().default(false),
    }),
  ])
  .transform((value): false | CorsOptions => (value === true ? { origins: '*', credentials: false } : value));

/** The slice of the config that decides which request headers browsers must be allowed to send. */
interface CorsNeedsSource {
  callers: Record<string, { apiKeys: readonly string[] }>;
  auth: { jwt?: unknown };
  flows: Record<string, { webhook?: unknown; idempotency?: unknown }>;
  routes?: readonly Pick<RouteConfig, 'input' | 'key'>[];
}

/** Request headers a page may send without a preflight allowing them (Fetch, "CORS-safelisted request-header"). */
const SAFELISTED_REQUEST_HEADERS = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'range']);

/**
 * The request headers the configured features need a browser to send. Webhook flows are called by their
 * senders' servers, never from a page, so they need none. Optional headers a client may choose to send
 * (`X-Request-Id`, `X-Execution-Name`, `Cache-Control`) are the operator's call and are not required.
 */
export function corsNeeds(config: CorsNeedsSource): CorsNeed[] {
  const needs: CorsNeed[] = [];
  const browserFlows = Object.entries(config.flows).filter(([, flow]) => !flow.webhook);
  if (browserFlows.length)
    needs.push({ headers: ['Content-Type'], why: 'runs send application/json, which browsers send only after a preflight allows Content-Type' });
  if (config.auth.jwt) needs.push({ headers: ['Authorization'], why: 'auth.jwt tokens arrive as Authorization: Bearer' });
  if (Object.values(config.callers).some((caller) => caller.apiKeys.length)) {
    needs.push({ headers: ['X-API-Key', 'Authorization'], why: "callers' API keys arrive as X-API-Key or Authorization: Bearer" });
  }
  const idempotent = browserFlows.filter(([, flow]) => flow.idempotency).map(([name]) => `flows.${name}.idempotency`);
  if (idempotent.length) needs.push({ headers: ['Idempotency-Key'], why: `${idempotent.join(', ')} reads it` });
  const readers = new Map<string, string[]>();
  for (const route of config.routes ?? []) {
    visit(route.input, (node) => {
      if (node.kind !== 'ref' || node.source !== 'headers' || SAFELISTED_REQUEST_HEADERS.has(node.name)) return;
      const keys = readers.get(node.name) ?? [];
      if (!keys.includes(route.key)) keys.push(route.key);
      readers.set(node.name, keys);
    });
  }
  for (const [name, keys] of readers) needs.push({ headers: [name], why: `${keys.join(', ')} reads it into the Input` });
  return needs;
}
