import { gatewayError } from '../errors.js';
import { parseJson } from '../lib/json.js';

/**
 * `response: proxy`: an Output `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` is the whole HTTP
 * answer, as with API Gateway's Lambda proxy integration
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html, "Output
 * format of a Lambda function for proxy integration").
 */

/** The answer a proxy Output asks for, once its headers went through the allow-list. */
export interface ProxyAnswer {
  status: number;
  /** Allowed headers, lower-case names; a name may repeat (`set-cookie`). */
  headers: [string, string][];
  body: string | Uint8Array<ArrayBuffer> | null;
  /** Names of the headers that were dropped, for the access log (never their values). */
  refused: string[];
  /** False when the answer must not be cached: a 5xx, or the flow's own `Cache-Control: no-store` or `private`. */
  storable: boolean;
}

/** Connection-specific fields (RFC 9110 §7.6.1) and framing, which belong to each hop and the gateway. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);
/** Headers flowgate itself sets on answers: the flow may not overwrite or forge them. */
const GATEWAY_HEADERS = new Set([
  'x-request-id',
  'x-execution-name',
  'cache-status',
  'age',
  'server-timing',
  'idempotent-replayed',
  'traceparent',
  'tracestate',
]);
const GATEWAY_PREFIXES = ['ratelimit', 'access-control-'];
const PROXY_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value: visible characters, spaces and tabs, obs-text; never CR, LF or NUL (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Statuses whose answers carry no body (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * The answer a flow's Output asks for, or undefined when the Output is not a proxy answer (no `statusCode` key: it is
 * the body, as with `response: body`). Throws 502 `UpstreamError` for an Output that has `statusCode` but is not a
 * well-formed proxy answer (a status outside 200–599, an unknown key, a header value that is not a string, number or
 * boolean, a base64 body that is not base64): API Gateway answers such an Output with 502 too, and a flow bug must not
 * pass as a 200.
 *
 * Headers: `headers` and `multiValueHeaders` are merged, and where both name a header the multi-value list wins
 * (API Gateway's rule). Dropped: hop-by-hop headers and Content-Length, flowgate's own headers (X-Request-Id,
 * X-Execution-Name, RateLimit*, Cache-Status, Age, Server-Timing, Idempotent-Replayed, traceparent, tracestate,
 * Access-Control-*), `Set-Cookie` unless `allowSetCookie`, and names or values that are not valid HTTP.
 * Body: a string is sent as it is, anything else as its JSON text; `isBase64Encoded` sends the decoded bytes.
 * Content-Type defaults to application/json, as on API Gateway.
 */
export function proxyAnswer(outputText: string, allowSetCookie: boolean): ProxyAnswer | undefined {
  const output = parseJson(outputText);
  if (output === null || typeof output !== 'object' || Array.isArray(output) || !Object.hasOwn(output, 'statusCode')) return undefined;
  const o = output as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!PROXY_KEYS.has(key)) return malformed(`the proxy answer has an unknown key`);
  const status = o.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) return malformed('the proxy answer statusCode is not 200-599');
  if (o.isBase64Encoded !== undefined && typeof o.isBase64Encoded !== 'boolean') return malformed('the proxy answer isBase64Encoded is not a boolean');

  const single = o.headers ?? {};
  const multi = o.multiValueHeaders ?? {};
  if (!isObject(single) || !isObject(multi)) return malformed('the proxy answer headers are not an object');
  const values = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of Object.entries(single)) {
    if (!isScalar(value)) return malformed('the proxy answer has a header value is not a string, number or boolean');
    values.set(name.toLowerCase(), { name, values: [String(value)] });
  }
  for (const [name, list] of Object.entries(multi)) {
    if (!Array.isArray(list) || !list.every(isScalar)) return malformed('the proxy answer has a multiValueHeaders value is not a list of strings');
    values.set(name.toLowerCase(), { name, values: list.map(String) });
  }

  const headers: [string, string][] = [];
  const refused: string[] = [];
  let contentType = false;
  let storable = status < 500;
  for (const [lower, { name, values: list }] of values) {
    if (!TOKEN.test(name) || !allowedHeader(lower, allowSetCookie) || !list.every((v) => FIELD_VALUE.test(v))) {
      refused.push(TOKEN.test(name) ? lower : '(invalid name)');
      continue;
    }
    if (lower === 'content-type') contentType = true;
    if (lower === 'cache-control' && list.some((v) => /(?:^|,)\s*(?:no-store|private)\b/i.test(v))) storable = false;
    for (const value of list) headers.push([lower, value]);
  }

  let body: ProxyAnswer['body'] = null;
  if (!NULL_BODY.has(status) && o.body !== undefined && o.body !== null) {
    if (o.isBase64Encoded) {
      if (typeof o.body !== 'string' || !BASE64.test(o.body) || o.body.length % 4 === 1) return malformed('the proxy answer body is not base64');
      body = decodeBase64(o.body);
    } else body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  if (body !== null && !contentType) headers.push(['content-type', 'application/json']);
  return { status, headers, body, refused, storable };
}

function allowedHeader(lower: string, allowSetCookie: boolean): boolean {
  if (HOP_BY_HOP.has(lower) || GATEWAY_HEADERS.has(lower)) return false;
  if (GATEWAY_PREFIXES.some((prefix) => lower.startsWith(prefix))) return false;
  return lower !== 'set-cookie' || allowSetCookie;
}

function malformed(why: string): never {
  throw gatewayError('UpstreamError', undefined, { cause: why });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
