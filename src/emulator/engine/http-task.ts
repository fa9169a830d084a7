/**
 * `Action: HTTP:Request`. The FDL documentation names the action but not its parameters, so the shape is inferred and
 * kept small: `Parameters: { method?, url, headers?, body? }` (key case ignored, so `URL`/`Method` work too).
 * A map or list `body` is sent as JSON. The result (`$Output`) is `{ StatusCode, Headers, Body }`, with `Body`
 * parsed when the response is JSON. Numbers keep their exact text both ways (../json.ts); a JSON response nested
 * deeper than the execution's depth limit is kept as text. A non-2xx answer raises `HTTP.<status>` so Retry/Catch can match it; an
 * unreachable server raises `HTTP.RequestFailed`. The request always goes through the injected fetch.
 */
import { ErrorNames, StateFailure } from './errors.js';
import { isObject, toDisplayString } from './expression/values.js';
import { parseExact, stringifyExact } from './json.js';

export const HTTP_REQUEST_ACTION = 'HTTP:Request';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Keep failure details short: they end up in ErrorMessage. */
const MAX_DETAIL_CHARS = 512;

export interface HttpTaskResult {
  StatusCode: number;
  Headers: Record<string, string>;
  Body: unknown;
}

export async function runHttpRequest(parameters: unknown, fetchFn: typeof fetch, signal: AbortSignal, maxDepth: number): Promise<HttpTaskResult> {
  const p = readParameters(parameters);
  const headers = new Headers(p.headers);
  let body: string | undefined;
  if (p.body !== undefined && p.body !== null) {
    if (typeof p.body === 'string') {
      body = p.body;
    } else {
      body = stringifyExact(p.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }
  if (body !== undefined && (p.method === 'GET' || p.method === 'HEAD')) invalid(`a ${p.method} request cannot have a body`);

  let response: Response;
  try {
    response = await fetchFn(p.url, { method: p.method, headers, ...(body === undefined ? {} : { body }), signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new StateFailure(ErrorNames.HttpRequestFailed, `${p.method} ${p.url} failed: ${(error as Error).message ?? String(error)}`);
  }
  const text = await response.text();
  if (!response.ok) throw new StateFailure(`HTTP.${response.status}`, `${p.method} ${p.url} answered ${response.status}: ${text.slice(0, MAX_DETAIL_CHARS)}`);
  return { StatusCode: response.status, Headers: Object.fromEntries(response.headers), Body: parseBody(text, response.headers.get('content-type'), maxDepth) };
}

function parseBody(text: string, contentType: string | null, maxDepth: number): unknown {
  if (text === '' || !contentType || !/[/+]json\b/i.test(contentType)) return text;
  try {
    return parseExact(text, maxDepth);
  } catch {
    return text;
  }
}

function readParameters(parameters: unknown): { method: string; url: string; headers: Record<string, string>; body: unknown } {
  if (!isObject(parameters)) return invalid('Parameters must be a map with at least url');
  const byLowerKey = new Map(Object.entries(parameters).map(([k, v]) => [k.toLowerCase(), v]));
  const method = byLowerKey.get('method') ?? 'GET';
  if (typeof method !== 'string' || !METHODS.has(method.toUpperCase())) return invalid(`unsupported method ${JSON.stringify(method)}`);
  const url = byLowerKey.get('url');
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return invalid(`url must be an absolute http(s) URL, got ${JSON.stringify(url) ?? 'nothing'}`);
  const rawHeaders = byLowerKey.get('headers') ?? {};
  if (!isObject(rawHeaders)) return invalid('headers must be a map');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawHeaders)) headers[k] = toDisplayString(v);
  return { method: method.toUpperCase(), url, headers, body: byLowerKey.get('body') };
}

function invalid(message: string): never {
  throw new StateFailure(ErrorNames.RuntimeError, `HTTP:Request ${message}`);
}
