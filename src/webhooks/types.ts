/** The public shapes of webhook signature verification. Everything here is runtime-neutral. */

export const WEBHOOK_PROVIDERS = ['github', 'stripe', 'slack', 'standard-webhooks', 'hmac'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export const SIGNATURE_ENCODINGS = ['hex', 'base64'] as const;
export type SignatureEncoding = (typeof SIGNATURE_ENCODINGS)[number];

/** The options only the generic `hmac` provider reads; the named presets fix them, so setting one there is a mistake. */
export const HMAC_ONLY_OPTIONS = ['header', 'algorithm', 'encoding', 'prefix', 'timestampHeader'] as const;

export interface WebhookOptions {
  provider: WebhookProvider;
  /** Every secret currently valid; any one matching passes, so a new secret can be added before the old one is removed. */
  secrets: string[];
  /** Allowed distance between the signed timestamp and now, in ms, in both directions. Default 5 minutes. Ignored by `github`, which signs no timestamp. */
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
}

export type VerifyResult =
  | {
      ok: true;
      /** The sender's delivery id, when the scheme carries one in a header (GitHub `X-GitHub-Delivery`, Standard Webhooks `webhook-id`). */
      deliveryId?: string;
      /** Slack only: `X-Slack-Retry-Num`, present when Slack resends a request it considers unacknowledged. */
      retryNum?: number;
      /** Slack only: `X-Slack-Retry-Reason`, such as `http_timeout`. */
      retryReason?: string;
    }
  | {
      ok: false;
      /** For logs only. Never contains a secret or a signature value. */
      reason: string;
    };

export interface WebhookVerifier {
  readonly provider: WebhookProvider;
  /** Verifies over the exact raw body bytes, before any JSON parse. Never throws; bad input gives `{ ok: false }`. */
  verify(headers: Headers, rawBody: Uint8Array, nowMs: number): Promise<VerifyResult>;
}

/** What a verified delivery tells the rest of the request path. */
export interface WebhookDelivery {
  provider: WebhookProvider;
  /** From a header (`X-GitHub-Delivery`, `webhook-id`); body ids (Stripe, Slack) are read after parsing. */
  deliveryId: string | undefined;
  /** Slack's `X-Slack-Retry-Num`, when Slack resends. */
  retryNum: number | undefined;
}
