import type { HmacScheme } from './generic-hmac.js';
import { DEFAULT_TOLERANCE_MS } from './timestamp.js';
import { HMAC_ALGORITHMS, HMAC_ONLY_OPTIONS, SIGNATURE_ENCODINGS, WEBHOOK_PROVIDERS, type WebhookOptions, type WebhookProvider } from './types.js';

interface CommonOptions {
  secrets: string[];
  toleranceMs: number;
}
export type CheckedWebhookOptions =
  (CommonOptions & { provider: Exclude<WebhookProvider, 'hmac'> }) | (CommonOptions & { provider: 'hmac'; scheme: HmacScheme });

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Checks options once, at construction, so a misconfiguration stops the start instead of refusing every
 * delivery later. Messages name the option, never a secret value.
 */
export function checkWebhookOptions(options: WebhookOptions): CheckedWebhookOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('webhook options must be an object');
  const { provider, secrets, tolerance } = options;
  if (!(WEBHOOK_PROVIDERS as readonly unknown[]).includes(provider)) {
    throw new TypeError(`webhook provider must be one of ${WEBHOOK_PROVIDERS.join(', ')}`);
  }
  if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError('webhook secrets must be a non-empty list');
  secrets.forEach((secret: unknown, i) => {
    // An empty secret would let anyone sign; a stray newline from a file or variable would refuse every delivery.
    if (typeof secret !== 'string' || secret === '') throw new TypeError(`webhook secrets[${i}] must be a non-empty string`);
    if (secret.trim() !== secret) throw new TypeError(`webhook secrets[${i}] has leading or trailing whitespace`);
  });
  if (tolerance !== undefined && !(typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance > 0)) {
    throw new TypeError('webhook tolerance must be a positive number of milliseconds');
  }

  const common: CommonOptions = { secrets: [...secrets], toleranceMs: tolerance ?? DEFAULT_TOLERANCE_MS };
  if (provider !== 'hmac') {
    const [misplaced] = misplacedHmacOptions(options);
    if (misplaced) throw new TypeError(`webhook option "${misplaced}" applies only to provider "hmac"`);
    return { ...common, provider };
  }
  return { ...common, provider, scheme: checkHmacScheme(options, common.toleranceMs) };
}

/** The `hmac`-only options set on a named preset, in {@link HMAC_ONLY_OPTIONS} order; none for `hmac` itself. */
export function misplacedHmacOptions(options: Pick<WebhookOptions, 'provider' | (typeof HMAC_ONLY_OPTIONS)[number]>): (typeof HMAC_ONLY_OPTIONS)[number][] {
  return options.provider === 'hmac' ? [] : HMAC_ONLY_OPTIONS.filter((key) => options[key] !== undefined);
}

function checkHmacScheme(options: WebhookOptions, toleranceMs: number): HmacScheme {
  const { header, algorithm = 'sha256', encoding = 'hex', prefix = '', timestampHeader } = options;

  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    throw new TypeError('webhook provider "hmac" needs "header", a valid header name');
  }
  if (!(HMAC_ALGORITHMS as readonly string[]).includes(algorithm)) throw new TypeError(`webhook algorithm must be one of ${HMAC_ALGORITHMS.join(', ')}`);
  if (!(SIGNATURE_ENCODINGS as readonly string[]).includes(encoding)) throw new TypeError(`webhook encoding must be one of ${SIGNATURE_ENCODINGS.join(', ')}`);
  if (typeof prefix !== 'string') throw new TypeError('webhook prefix must be a string');
  const scheme: HmacScheme = { header, algorithm, encoding, prefix, toleranceMs };
  if (timestampHeader !== undefined) {
    if (typeof timestampHeader !== 'string' || !HEADER_NAME.test(timestampHeader)) {
      throw new TypeError('webhook timestampHeader must be a valid header name');
    }
    scheme.timestampHeader = timestampHeader;
  }
  return scheme;
}
