/**
 * Temporary credentials over `fetch`, for runtimes the official Node library cannot run on (Workers): STS
 * `AssumeRole`, signed with this project's RPC signer the way the official `ram_role_arn` provider signs it
 * (common parameters in the query, the role's in the form body, HMAC-SHA1 over both), and a credentials URI
 * answered in the official `credentials_uri` format. Web-standard only.
 */
import type { Clock } from '../lib/clock.js';
import { isoSeconds } from '../lib/iso-time.js';
import { parseJsonObject } from '../lib/json.js';
import type { Random } from '../lib/random.js';
import type { CredentialSource, Credentials, IssuedCredentials } from './credentials.js';
import { webCrypto, type SigningCrypto } from './signing/digests.js';
import { encodeRfc3986, formEncode } from './signing/encoding.js';
import { signRpc } from './signing/rpc.js';

/** STS's API version (STS API reference, 2015-04-01). */
export const STS_API_VERSION = '2015-04-01';

export interface AssumeRoleOptions {
  /** `https://sts.aliyuncs.com`, a regional or VPC endpoint, or a local emulator's URL. */
  endpoint: string;
  /** The identity that assumes the role: a RAM user's AccessKey, or temporary keys with their token. */
  identity: Credentials;
  roleArn: string;
  roleSessionName: string;
  /** 900 to 43200. */
  durationSeconds: number;
  /** A JSON policy document that narrows the role's permissions. */
  policy?: string | undefined;
  externalId?: string | undefined;
  /** Read deadline, ms; with `connectTimeoutMs` (fetch has no separate one) it bounds one call. */
  timeoutMs: number;
  connectTimeoutMs: number;
  fetch: typeof fetch;
  clock: Clock;
  random: Random;
  crypto?: SigningCrypto | undefined;
}

/** `ram_role_arn` over `fetch`: each fetch is one signed `AssumeRole`. */
export function assumeRoleSource(options: AssumeRoleOptions): CredentialSource {
  const { identity, fetch: fetchFn, clock, random, crypto: digests = webCrypto } = options;
  const deadlineMs = options.timeoutMs + options.connectTimeoutMs;
  const origin = new URL(options.endpoint).origin;
  return {
    type: 'ram_role_arn',
    refreshable: true,
    maxFetchMs: deadlineMs,
    async fetch() {
      const query: Record<string, string> = {
        Version: STS_API_VERSION,
        Action: 'AssumeRole',
        Format: 'JSON',
        Timestamp: isoSeconds(clock.now()),
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: random.nonce(),
        AccessKeyId: identity.accessKeyId,
      };
      if (identity.securityToken) query.SecurityToken = identity.securityToken;
      const form: Record<string, string> = { RoleArn: options.roleArn };
      if (options.policy) form.Policy = options.policy;
      if (options.externalId) form.ExternalId = options.externalId;
      form.RoleSessionName = options.roleSessionName;
      form.DurationSeconds = String(options.durationSeconds);
      const signature = await signRpc('POST', { ...query, ...form }, identity.accessKeySecret, digests);
      let qs = '';
      for (const name in query) qs += (qs ? '&' : '') + name + '=' + encodeRfc3986(query[name]!);
      qs += '&Signature=' + encodeRfc3986(signature);
      const res = await fetchFn(`${origin}/?${qs}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: formEncode(form),
        signal: AbortSignal.timeout(deadlineMs),
      });
      const body = parseJsonObject(await res.text());
      if (res.status !== 200) throw new Error(`STS AssumeRole answered HTTP ${res.status}${describeError(body)}`);
      const creds = body?.Credentials as Record<string, unknown> | undefined;
      return issued(creds, 'STS AssumeRole', 'ram_role_arn');
    },
  };
}

export interface CredentialsUriOptions {
  uri: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  fetch: typeof fetch;
}

/**
 * `credentials_uri` over `fetch`: a GET answered with `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`
 * (the official `credentials_uri` provider's format; `Code` is not required, as there).
 */
export function credentialsUriSource(options: CredentialsUriOptions): CredentialSource {
  const deadlineMs = options.timeoutMs + options.connectTimeoutMs;
  return {
    type: 'credentials_uri',
    refreshable: true,
    maxFetchMs: deadlineMs,
    async fetch() {
      const res = await options.fetch(options.uri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(deadlineMs) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`the credentials URI answered HTTP ${res.status}`);
      const body = parseJsonObject(text);
      if (!body) throw new Error('the credentials URI answered with something that is not a JSON object');
      return issued(body, 'the credentials URI', 'credential_uri');
    },
  };
}

/** The keys of an STS or URI answer; names the fields that are missing, never a value. */
function issued(fields: Record<string, unknown> | undefined, from: string, providerName: string): IssuedCredentials {
  const missing = ['AccessKeyId', 'AccessKeySecret', 'SecurityToken'].filter((name) => typeof fields?.[name] !== 'string' || fields[name] === '');
  if (!fields || missing.length > 0) throw new Error(`${from} answered without ${missing.join(', ')}`);
  const expiration = typeof fields.Expiration === 'string' ? Date.parse(fields.Expiration) : Number.NaN;
  return {
    credentials: {
      accessKeyId: fields.AccessKeyId as string,
      accessKeySecret: fields.AccessKeySecret as string,
      securityToken: fields.SecurityToken as string,
    },
    expiresAt: Number.isNaN(expiration) ? undefined : expiration,
    providerName,
  };
}

/** `: Code: Message` of an error envelope, short; the body is never quoted whole. */
function describeError(body: Record<string, unknown> | undefined): string {
  if (!body || typeof body.Code !== 'string') return ' with a body that is not an error envelope';
  return `: ${body.Code}${typeof body.Message === 'string' ? `: ${body.Message.slice(0, 200)}` : ''}`;
}
