import type { ParsedFlow } from '../config/schema.js';
import { createWebhookVerifier } from './index.js';
import type { WebhookHmac, WebhookOptions, WebhookVerifier } from './types.js';

export type WebhookConfig = NonNullable<ParsedFlow['webhook']>;

/** The verifier options of a flow's `webhook` block; keys left unset stay absent, as the factory expects. */
export function webhookOptionsFromConfig(webhook: WebhookConfig): WebhookOptions {
  const { provider, tolerance, secrets, header, algorithm, encoding, prefix, timestampHeader, body, publicUrl, publicKey } = webhook;
  const options: WebhookOptions = { provider };
  if (tolerance !== undefined) options.tolerance = tolerance;
  if (secrets !== undefined) options.secrets = secrets;
  if (header !== undefined) options.header = header;
  if (algorithm !== undefined) options.algorithm = algorithm;
  if (encoding !== undefined) options.encoding = encoding;
  if (prefix !== undefined) options.prefix = prefix;
  if (timestampHeader !== undefined) options.timestampHeader = timestampHeader;
  if (body !== undefined) options.body = body;
  if (publicUrl !== undefined) options.publicUrl = publicUrl;
  if (publicKey !== undefined) options.publicKey = publicKey;
  return options;
}

/**
 * The verifier of flow `flowName`'s `webhook` block. The config loader calls it so that the factory's own
 * checks (secret whitespace, header syntax, key and URL formats) stop the start, and the webhook middleware
 * to build the verifier it uses. Throws TypeError naming the key path (`flows.<name>.webhook: …`), never a secret.
 */
export function flowWebhookVerifier(flowName: string, webhook: WebhookConfig, hmac?: WebhookHmac): WebhookVerifier {
  try {
    return createWebhookVerifier(webhookOptionsFromConfig(webhook), hmac);
  } catch (error) {
    throw new TypeError(`flows.${flowName}.webhook: ${(error as Error).message}`, { cause: error });
  }
}
