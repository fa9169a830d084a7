import { fromBase64, toHex, utf8 } from '../lib/bytes.js';
import { isFormType } from '../lib/media-type.js';
import { safeDeliveryId } from './delivery-id.js';
import { formPairs } from './form.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import type { HmacAlgorithm, WebhookVerifier, WebhookHmac } from './types.js';

const SIGNATURE_HEADER = 'X-Twilio-Signature';
const SETTINGS_HEADER = 'X-Twilio-Webhooks-Signature-Settings';

/**
 * Twilio: `X-Twilio-Signature` is the base64 HMAC of the URL Twilio requested followed by the POST
 * parameters, sorted by name, each written as name then value (a name sent several times: its distinct
 * values sorted, each with the name). The key is the account's Auth Token; HMAC-SHA1 unless
 * `X-Twilio-Webhooks-Signature-Settings` names `algorithm=HMAC_SHA256` (SharedKey webhooks). A JSON body is
 * signed through the URL instead: its `bodySHA256` query parameter is the hex SHA-256 of the body, and the
 * signature covers the URL alone. So a request without `bodySHA256` must be a form with at least one
 * parameter (Twilio always sends `AccountSid`): a JSON, text or empty body would otherwise pass under a
 * URL-only signature, captured once and valid forever, as `validateRequestWithBody` also refuses. Twilio, "Webhooks security"; the `twilio` library's `validateRequest` and
 * `validateRequestWithBody`, whose URL variants (with and without the default port, as received and
 * normalized, with the query re-encoded the legacy way) are tried the same way here.
 *
 * The URL is `publicUrl` (what the Console says Twilio posts to) followed by the request's own query string:
 * behind a proxy the gateway cannot know its public URL, and the path may differ. Twilio signs no timestamp;
 * `I-Twilio-Idempotency-Token` stays the same on Twilio's retries and is the de-duplication key. Limits of
 * Twilio's scheme that no verifier can close: each name is written next to its value with no separator, and
 * repeated values are collapsed, so a form re-split that way (`ab=c` for `a=bc`) carries the same signature.
 */
export function createTwilioVerifier(secrets: readonly string[], publicUrl: string, hmac?: WebhookHmac): WebhookVerifier {
  const keyBytes = secrets.map(utf8);
  const rings: Partial<Record<HmacAlgorithm, HmacKeyRing>> = {};
  const ring = (algorithm: HmacAlgorithm) => (rings[algorithm] ??= new HmacKeyRing(keyBytes, algorithm, hmac));
  return {
    provider: 'twilio',
    body: { form: 'fields' },
    async verify(headers, rawBody, _nowMs, requestUrl) {
      const value = headers.get(SIGNATURE_HEADER);
      if (value === null) return refuse(`missing ${SIGNATURE_HEADER} header`);
      const signature = fromBase64(value);
      if (signature === undefined || signature.length === 0) return refuse(`malformed ${SIGNATURE_HEADER} header`);
      const algorithm = signatureAlgorithm(headers.get(SETTINGS_HEADER));
      if (algorithm === undefined) return refuse(`unsupported algorithm in ${SETTINGS_HEADER} header`);

      const url = publicUrl + queryOf(requestUrl);
      let params = '';
      // As the library decides: a URL naming bodySHA256 signs the body through that parameter.
      if (url.indexOf('bodySHA256') > 0) {
        const claimed = new URL(url).searchParams.get('bodySHA256') ?? '';
        const actual = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(rawBody))));
        if (claimed.toLowerCase() !== actual) return refuse('bodySHA256 does not match the body');
      } else {
        // Without bodySHA256 only form parameters are signed: any other body (JSON, text, none at all) would
        // run unsigned under a signature over the URL alone, one that never expires. The library's
        // validateRequestWithBody refuses those too.
        const type = headers.get('content-type');
        if (type === null || !isFormType(type)) return refuse('body is not signed: a body that is not a form needs bodySHA256 in the signed URL');
        const text = decodeUtf8(rawBody);
        if (text === undefined) return refuse('form body is not UTF-8');
        const pairs = formPairs(text);
        if (pairs.length === 0) return refuse('body is not signed: a form without parameters needs bodySHA256 in the signed URL');
        params = signedParams(pairs);
      }

      const keys = ring(algorithm);
      for (const candidate of candidateUrls(url)) {
        const keyIndex = await keys.matchIndex(utf8(candidate + params), [signature]);
        if (keyIndex >= 0) {
          const deliveryId = safeDeliveryId(headers.get('I-Twilio-Idempotency-Token'));
          return deliveryId === undefined ? { ok: true, keyIndex } : { ok: true, keyIndex, deliveryId };
        }
      }
      return refuse('signature does not match');
    },
  };
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** An absent or empty settings header, or one without `algorithm=`, means the Auth Token signature, HMAC-SHA1. */
function signatureAlgorithm(settings: string | null): HmacAlgorithm | undefined {
  for (const part of (settings ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== 'algorithm') continue;
    const name = part
      .slice(eq + 1)
      .trim()
      .toUpperCase();
    if (name === '' || name === 'HMAC_SHA1') return 'sha1';
    if (name === 'HMAC_SHA256') return 'sha256';
    return undefined;
  }
  return 'sha1';
}

/** `?query` of the request URL as received (empty when there is none or no URL was given). */
function queryOf(requestUrl: string | undefined): string {
  if (requestUrl === undefined) return '';
  const start = requestUrl.indexOf('?');
  if (start < 0) return '';
  const end = requestUrl.indexOf('#', start);
  return end < 0 ? requestUrl.slice(start) : requestUrl.slice(start, end);
}

/** Names sorted by UTF-16 code units (JavaScript's default sort, as the library does), values after each name. */
function signedParams(pairs: readonly [string, string][]): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  }
  let out = '';
  for (const name of [...byName.keys()].sort()) {
    const values = byName.get(name)!;
    if (values.length === 1) out += name + values[0];
    else for (const value of [...new Set(values)].sort()) out += name + value;
  }
  return out;
}

/**
 * The URLs the library accepts a signature for, in its order: as received without and with the default
 * port, then normalized (`new URL`) without and with it, and those two with the query re-encoded as Node's
 * legacy `querystring` module writes it.
 */
function candidateUrls(url: string): string[] {
  const candidates = [removePort(url), addPort(url)];
  let normalized: string | undefined;
  try {
    normalized = new URL(url).toString();
  } catch {
    normalized = undefined;
  }
  if (normalized !== undefined) {
    const withoutPort = removePort(normalized);
    const withPort = addPort(normalized);
    candidates.push(withoutPort, withPort, legacyQuery(withoutPort), legacyQuery(withPort));
  }
  return [...new Set(candidates)];
}

/** Scheme, user info, host and port of a URL as written, without normalizing it (the library's `splitUrl`). */
function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const [prefix, scheme, authority] = match as unknown as [string, string, string];
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart < 0 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart < 0 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function removePort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

/**
 * The query as `querystring.stringify(querystring.parse(query))` writes it: fields grouped by name in the
 * order of an object's keys (array-index names first, then the others as they first appear), `+` read as a space, and every character but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
 * percent-encoded. Some of Twilio's back ends signed that form of a query value.
 */
function legacyQuery(url: string): string {
  const start = url.indexOf('?');
  if (start < 0 || start === url.length - 1) return url;
  // An object, not a Map, on purpose: Node's parse returns one, so names that are array indices come first.
  const groups = Object.create(null) as Record<string, string[]>;
  for (const field of url.slice(start + 1).split('&')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const name = unescapeQuery(eq < 0 ? field : field.slice(0, eq));
    const value = eq < 0 ? '' : unescapeQuery(field.slice(eq + 1));
    (groups[name] ??= []).push(value);
  }
  const fields: string[] = [];
  for (const name of Object.keys(groups)) for (const value of groups[name]!) fields.push(`${escapeQuery(name)}=${escapeQuery(value)}`);
  return `${url.slice(0, start)}?${fields.join('&')}`;
}

/** Node's `querystring.unescape`: `decodeURIComponent`, or for text it refuses, each valid `%XX` as a byte and the bytes read as UTF-8. */
function unescapeQuery(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    const bytes = utf8(spaced);
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const hex = bytes[i] === 0x25 && i + 2 < bytes.length ? String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!) : '';
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
      } else {
        out.push(bytes[i]!);
      }
    }
    return lenientDecoder.decode(new Uint8Array(out));
  }
}

function escapeQuery(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate cannot be written; the signature simply will not match this candidate.
    return text;
  }
}
