import { fromHex } from '../lib/bytes.js';
import { isPrimeOrderPublicKey } from './ed25519-key.js';
import type { HmacScheme } from './generic-hmac.js';
import { defaultToleranceMs, MAX_TOLERANCE_MS, MIN_TOLERANCE_MS } from './timestamp.js';
import {
  BODY_FORMATS,
  HMAC_ALGORITHMS,
  PROVIDER_ONLY_OPTIONS,
  PUBLIC_KEY_PROVIDERS,
  SIGNATURE_ENCODINGS,
  signsTimestamp,
  WEBHOOK_PROVIDERS,
  type BodyFormat,
  type ProviderOnlyOption,
  type WebhookOptions,
  type WebhookProvider,
} from './types.js';

interface CommonOptions {
  /** Empty for `discord`, which verifies with public keys. */
  secrets: string[];
  toleranceMs: number;
}
export type CheckedWebhookOptions =
  | (CommonOptions & { provider: Exclude<WebhookProvider, 'hmac' | 'twilio' | 'discord'> })
  | (CommonOptions & { provider: 'hmac'; scheme: HmacScheme; format: BodyFormat | undefined })
  | (CommonOptions & { provider: 'twilio'; publicUrl: string })
  | (CommonOptions & { provider: 'discord'; publicKeys: Uint8Array<ArrayBuffer>[] });

/** One problem with which options are present, named by its key. */
export interface OptionProblem {
  key: 'secrets' | 'header' | 'publicUrl' | 'publicKey' | 'tolerance' | ProviderOnlyOption;
  message: string;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Which options are missing or misplaced for the provider: the checks the config schema reports with their
 * key paths, and the factory throws for. Values themselves are checked by {@link checkWebhookOptions}.
 */
export function optionProblems(
  options: Pick<WebhookOptions, 'provider' | 'secrets' | 'header' | 'publicUrl' | 'publicKey' | 'tolerance' | ProviderOnlyOption>,
): OptionProblem[] {
  const { provider } = options;
  const problems: OptionProblem[] = [];
  for (const key of Object.keys(PROVIDER_ONLY_OPTIONS) as ProviderOnlyOption[]) {
    const providers: readonly WebhookProvider[] = PROVIDER_ONLY_OPTIONS[key];
    if (options[key] !== undefined && !providers.includes(provider)) {
      problems.push({ key, message: `applies only to provider ${providers.map((p) => `"${p}"`).join(', ')}, not "${provider}"` });
    }
  }
  if (PUBLIC_KEY_PROVIDERS.includes(provider)) {
    if (options.secrets !== undefined) problems.push({ key: 'secrets', message: `provider "${provider}" verifies with "publicKey"; "secrets" do not apply` });
    if (options.publicKey === undefined)
      problems.push({ key: 'publicKey', message: `provider "${provider}" needs "publicKey", the application's public key (hex)` });
  } else if (options.secrets === undefined) {
    problems.push({ key: 'secrets', message: `provider "${provider}" needs "secrets", a non-empty list` });
  }
  if (provider === 'hmac' && !options.header) problems.push({ key: 'header', message: 'provider "hmac" needs "header", the header carrying the signature' });
  if (provider === 'twilio' && options.publicUrl === undefined) {
    problems.push({ key: 'publicUrl', message: 'provider "twilio" needs "publicUrl", the URL Twilio posts to (Twilio signs it)' });
  }
  const { tolerance, header, timestampHeader } = options;
  if (tolerance !== undefined && !signsTimestamp(options)) {
    const why = provider === 'hmac' ? 'provider "hmac" without "timestampHeader"' : `provider "${provider}"`;
    problems.push({ key: 'tolerance', message: `${why} signs no timestamp, so there is no replay window to set` });
  } else if (typeof tolerance === 'number' && !(tolerance >= MIN_TOLERANCE_MS && tolerance <= MAX_TOLERANCE_MS)) {
    problems.push({ key: 'tolerance', message: 'must be from 1s to 1h' });
  }
  if (typeof header === 'string' && typeof timestampHeader === 'string' && header.toLowerCase() === timestampHeader.toLowerCase()) {
    problems.push({ key: 'timestampHeader', message: 'must be another header than "header": one header cannot carry both the signature and the timestamp' });
  }
  return problems;
}

/**
 * Checks options once, at construction, so a misconfiguration stops the start instead of refusing every
 * delivery later. Messages name the option, never a secret value. Throws TypeError.
 */
export function checkWebhookOptions(options: WebhookOptions): CheckedWebhookOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('webhook options must be an object');
  const { provider, tolerance } = options;
  if (!(WEBHOOK_PROVIDERS as readonly unknown[]).includes(provider)) {
    throw new TypeError(`webhook provider must be one of ${WEBHOOK_PROVIDERS.join(', ')}`);
  }
  const [problem] = optionProblems(options);
  if (problem) throw new TypeError(`webhook ${problem.key}: ${problem.message}`);
  if (tolerance !== undefined && !(typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance > 0)) {
    throw new TypeError('webhook tolerance must be a positive number of milliseconds');
  }
  const toleranceMs = tolerance ?? defaultToleranceMs(provider);

  if (provider === 'discord') return { provider, secrets: [], toleranceMs, publicKeys: checkPublicKeys(options.publicKey) };
  const secrets = checkSecrets(options.secrets, provider);
  switch (provider) {
    case 'hmac':
      return { provider, secrets, toleranceMs, scheme: checkHmacScheme(options, toleranceMs), format: checkBodyFormat(options.body) };
    case 'twilio':
      return { provider, secrets, toleranceMs, publicUrl: checkPublicUrl(options.publicUrl) };
    default:
      return { provider, secrets, toleranceMs };
  }
}

function checkSecrets(secrets: unknown, provider: WebhookProvider): string[] {
  if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError('webhook secrets must be a non-empty list');
  secrets.forEach((secret: unknown, i) => {
    // An empty secret would let anyone sign; a stray newline from a file or variable would refuse every delivery.
    if (typeof secret !== 'string' || secret === '') throw new TypeError(`webhook secrets[${i}] must be a non-empty string`);
    if (secret.trim() !== secret) throw new TypeError(`webhook secrets[${i}] has leading or trailing whitespace`);
    // Twitch refuses to create a subscription with any other secret, so one outside the rule is a typo.
    if (provider === 'twitch' && !/^[\x20-\x7e]{10,100}$/.test(secret))
      throw new TypeError(`webhook secrets[${i}] must be 10 to 100 ASCII characters (Twitch's rule)`);
  });
  return [...(secrets as string[])];
}

/**
 * Discord shows the key as 64 hex digits (a 32-byte Ed25519 public key). A key of small or mixed order, or
 * bytes that are no curve point, would let signatures be forged or verify nothing; they stop the start.
 */
function checkPublicKeys(publicKey: unknown): Uint8Array<ArrayBuffer>[] {
  const list: unknown[] = Array.isArray(publicKey) ? publicKey : [publicKey];
  if (list.length === 0) throw new TypeError('webhook publicKey must be a key or a non-empty list of keys');
  return list.map((key, i) => {
    const name = `webhook publicKey${Array.isArray(publicKey) ? `[${i}]` : ''}`;
    const bytes = typeof key === 'string' ? fromHex(key) : undefined;
    if (bytes === undefined || bytes.length !== 32) throw new TypeError(`${name} must be 64 hex digits (an Ed25519 public key)`);
    if (!isPrimeOrderPublicKey(bytes)) {
      throw new TypeError(`${name} is not a usable Ed25519 public key (not a curve point, or of small order: signatures for it could be forged)`);
    }
    return bytes;
  });
}

/** Twilio signs the URL it posts to; the request's own query string is appended to this one, so it has none. */
function checkPublicUrl(publicUrl: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof publicUrl === 'string' ? new URL(publicUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || publicUrl !== (publicUrl as string).trim()) {
    throw new TypeError('webhook publicUrl must be an absolute http(s) URL');
  }
  if (url.search !== '' || url.hash !== '' || (publicUrl as string).includes('?') || (publicUrl as string).includes('#')) {
    throw new TypeError("webhook publicUrl must have no query or fragment: the request's own query string is what Twilio signs after the path");
  }
  return publicUrl as string;
}

function checkBodyFormat(format: unknown): BodyFormat | undefined {
  if (format === undefined) return undefined;
  if (!(BODY_FORMATS as readonly unknown[]).includes(format)) throw new TypeError(`webhook body must be one of ${BODY_FORMATS.join(', ')}`);
  return format as BodyFormat;
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
