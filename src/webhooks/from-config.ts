import type { ParsedFlow } from '../config/schema.js';
import type { WebhookOptions } from './types.js';

export type WebhookConfig = NonNullable<ParsedFlow['webhook']>;

/** The verifier options of a flow's `webhook` block; keys left unset stay absent, as the factory expects. */
export function webhookOptionsFromConfig(webhook: WebhookConfig): WebhookOptions {
  const { provider, secrets, tolerance, header, algorithm, encoding, prefix, timestampHeader } = webhook;
  const options: WebhookOptions = { provider, secrets, tolerance };
  if (header !== undefined) options.header = header;
  if (algorithm !== undefined) options.algorithm = algorithm;
  if (encoding !== undefined) options.encoding = encoding;
  if (prefix !== undefined) options.prefix = prefix;
  if (timestampHeader !== undefined) options.timestampHeader = timestampHeader;
  return options;
}
