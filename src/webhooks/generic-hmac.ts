import { fromBase64, fromHex, prefixedBytes, utf8 } from '../lib/bytes.js';
import { HmacKeyRing } from './hmac.js';
import { refuse } from './result.js';
import { checkTimestamp } from './timestamp.js';
import type { BodyFormat, HmacAlgorithm, SignatureEncoding, WebhookVerifier, WebhookHmac } from './types.js';

export interface HmacScheme {
  header: string;
  algorithm: HmacAlgorithm;
  encoding: SignatureEncoding;
  prefix: string;
  /** When set, the timestamp is part of the signed content (`${timestamp}.${rawBody}`): an unsigned timestamp could simply be rewritten by a replayer. */
  timestampHeader?: string;
  toleranceMs: number;
}

/**
 * One signature header holding `${prefix}${digest}` of the raw body, the shape many senders use (GitHub among
 * them). Bodies are read by their content type (JSON, or a form's fields) unless `format` says how to read
 * every body (`json`, `form`, `text`).
 */
export function createHmacVerifier(secrets: readonly string[], scheme: HmacScheme, format?: BodyFormat, hmac?: WebhookHmac): WebhookVerifier {
  const keys = new HmacKeyRing(secrets.map(utf8), scheme.algorithm, hmac);
  const decode = scheme.encoding === 'hex' ? fromHex : fromBase64;
  return {
    provider: 'hmac',
    body: format === undefined ? { form: 'fields' } : { form: 'fields', format },
    async verify(headers, rawBody, nowMs) {
      const value = headers.get(scheme.header);
      if (value === null) return refuse(`missing ${scheme.header} header`);
      const signature = value.startsWith(scheme.prefix) ? decode(value.slice(scheme.prefix.length)) : undefined;
      if (signature === undefined) return refuse(`malformed ${scheme.header} header`);

      let contentPrefix = '';
      if (scheme.timestampHeader !== undefined) {
        const timestamp = headers.get(scheme.timestampHeader);
        const stale = checkTimestamp(timestamp, `${scheme.timestampHeader} header`, nowMs, scheme.toleranceMs);
        if (stale) return stale;
        contentPrefix = `${timestamp}.`;
      }

      if (!(await keys.matchesAny(prefixedBytes(contentPrefix, rawBody), [signature]))) return refuse('signature does not match');
      return { ok: true };
    },
  };
}
