/** The public shapes of webhook signature verification. Everything here is runtime-neutral. */

export const WEBHOOK_PROVIDERS = [
  'github',
  'gitlab',
  'stripe',
  'slack',
  'shopify',
  'twilio',
  'discord',
  'zoom',
  'twitch',
  'linear',
  'standard-webhooks',
  'hmac',
] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

/**
 * A synchronous HMAC (`key` and `content` as bytes, the digest as bytes), injected where the runtime has one:
 * node:crypto on Node, where Web Crypto's `sign` runs as a thread-pool job whose dispatch and copy of the body
 * cost more than the HMAC itself on a large delivery (docs/benchmarks.md, "Large Inputs"). Absent, verifiers use
 * Web Crypto, as on Workers.
 */
export type WebhookHmac = (algorithm: HmacAlgorithm, key: Uint8Array, content: Uint8Array) => Uint8Array;
export const SIGNATURE_ENCODINGS = ['hex', 'base64'] as const;
export type SignatureEncoding = (typeof SIGNATURE_ENCODINGS)[number];
/** `hmac` only: how every body of the flow is read, whatever its `Content-Type` says. */
export const BODY_FORMATS = ['json', 'form', 'text'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

/**
 * The options that only some providers read. Setting one on another provider is a mistake (a typo, or a
 * block copied from another flow), so the config refuses it rather than ignore it.
 */
export const PROVIDER_ONLY_OPTIONS = {
  header: ['hmac'],
  algorithm: ['hmac'],
  encoding: ['hmac'],
  prefix: ['hmac'],
  timestampHeader: ['hmac'],
  body: ['hmac'],
  publicUrl: ['twilio'],
  publicKey: ['discord'],
} as const satisfies Record<string, readonly WebhookProvider[]>;
export type ProviderOnlyOption = keyof typeof PROVIDER_ONLY_OPTIONS;

/**
 * The providers that sign a timestamp, so that `tolerance` applies; `hmac` too when `timestampHeader` is set.
 * GitHub, GitLab, Shopify and Twilio sign none.
 */
export const TIMESTAMP_PROVIDERS: readonly WebhookProvider[] = ['stripe', 'slack', 'discord', 'zoom', 'twitch', 'linear', 'standard-webhooks'];

/** Whether the flow's sender signs a timestamp, which `tolerance` bounds. */
export function signsTimestamp(options: { provider: WebhookProvider; timestampHeader?: unknown }): boolean {
  return TIMESTAMP_PROVIDERS.includes(options.provider) || (options.provider === 'hmac' && options.timestampHeader !== undefined);
}

/** Discord signs with a key pair: it is configured with `publicKey`, and `secrets` do not apply. */
export const PUBLIC_KEY_PROVIDERS: readonly WebhookProvider[] = ['discord'];

export interface WebhookOptions {
  provider: WebhookProvider;
  /**
   * Every secret currently valid; any one matching passes, so a new secret can be added before the old one
   * is removed. Required by every provider but `discord`.
   */
  secrets?: string[];
  /**
   * Allowed distance between the signed timestamp and now, in ms, in both directions: 1 s to 1 hour. Default
   * 5 minutes; `twitch` 10 minutes and `linear` 60 seconds, as those providers document. Refused for the
   * providers that sign no timestamp (`github`, `gitlab`, `shopify`, `twilio`, `hmac` without
   * `timestampHeader`): it would promise a replay window that does not exist.
   */
  tolerance?: number;
  /** `hmac` only: the header carrying the signature. */
  header?: string;
  /** `hmac` only. Default `sha256`. */
  algorithm?: HmacAlgorithm;
  /** `hmac` only: how the digest is written in the header. Default `hex`. */
  encoding?: SignatureEncoding;
  /** `hmac` only: text before the digest, such as `sha256=`. Default none. */
  prefix?: string;
  /** `hmac` only: a header carrying unix seconds. When set, the signed content becomes `${timestamp}.${rawBody}` and the tolerance applies. */
  timestampHeader?: string;
  /** `hmac` only: read every body as JSON, form fields or text. Default: by `Content-Type` (JSON or form; anything else 415). */
  body?: BodyFormat;
  /** `twilio` only: the URL Twilio posts to, as configured in the Console (scheme, host, path; no query). */
  publicUrl?: string;
  /** `discord` only: the application's public key (hex), or several while one is replaced. */
  publicKey?: string | string[];
}

export type VerifyResult =
  | {
      ok: true;
      /**
       * The sender's delivery id, when the scheme carries one in a header (GitHub `X-GitHub-Delivery`,
       * Standard Webhooks `webhook-id`, …). Ids inside the body are read after decoding: `deliveryIdFromBody`.
       */
      deliveryId?: string;
      /** Slack only: `X-Slack-Retry-Num`, present when Slack resends a request it considers unacknowledged. */
      retryNum?: number;
      /** Slack only: `X-Slack-Retry-Reason`, such as `http_timeout`. */
      retryReason?: string;
      /** Which of the secrets matched (its index), for a handshake that must answer with the same secret (Zoom). */
      keyIndex?: number;
    }
  | {
      ok: false;
      /** For logs only. Never contains a secret or a signature value. */
      reason: string;
    };

export type Verified = Extract<VerifyResult, { ok: true }>;

/**
 * How a verified body becomes the execution Input, per provider. JSON bodies (`application/json`,
 * `application/*+json`) are always read as JSON; a form body (`application/x-www-form-urlencoded`) as:
 * - `fields`: an object of its fields;
 * - `payload`: the JSON in its `payload` field (GitHub);
 * - `payload-or-fields`: the JSON in `payload` when there is one, its fields otherwise (Slack);
 * and refused (415) when `form` is unset. `format` (generic `hmac`) reads every body one way instead.
 */
export interface BodyRule {
  form?: 'fields' | 'payload' | 'payload-or-fields';
  format?: BodyFormat;
}

/** The answer to a sender's handshake: the sender is checking the endpoint, and no flow runs. */
export interface HandshakeAnswer {
  status: 200 | 204;
  /** Absent for an empty answer (204, or Slack's empty 200 to ssl_check). */
  body?: string;
  contentType?: 'application/json' | 'text/plain; charset=utf-8';
  /** What was answered, for the access log (`url_verification`, `ping`, …). */
  name: string;
}

export interface WebhookVerifier {
  readonly provider: WebhookProvider;
  /** How this sender's bodies become the Input. */
  readonly body: BodyRule;
  /**
   * Verifies over the exact raw body bytes, before any parse. `url` is the request URL (Twilio signs its
   * query string). Never throws; bad input gives `{ ok: false }`.
   */
  verify(headers: Headers, rawBody: Uint8Array, nowMs: number, url?: string): Promise<VerifyResult>;
  /**
   * Called after `verify` passed and the body was decoded: the answer to the sender's handshake when the
   * delivery is one (Slack `url_verification` and `ssl_check`, Discord PING, Zoom `endpoint.url_validation`,
   * Twitch `webhook_callback_verification`), undefined for a delivery to run.
   */
  handshake?(input: Record<string, unknown>, headers: Headers, verified: Verified): HandshakeAnswer | undefined | Promise<HandshakeAnswer | undefined>;
}

/** What a verified delivery tells the rest of the request path. */
export interface WebhookDelivery {
  provider: WebhookProvider;
  /** From a header or from the decoded body: the key redeliveries are recognised by. */
  deliveryId: string | undefined;
  /** Slack's `X-Slack-Retry-Num`, when Slack resends. */
  retryNum: number | undefined;
}
