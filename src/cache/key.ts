import { sha256Hex } from '../cloudflow/signing/digests.js';
import { canonicalJson } from './canonical-json.js';
import type { CacheKey } from './types.js';

export interface CacheKeyParts {
  /** The exposed flow name (`/flows/{name}/run`). */
  flow: string;
  /** The CloudFlow FlowName it runs. */
  flowName: string;
  qualifier: string | undefined;
  /** The Input text as sent upstream (valid JSON). */
  inputText: string;
  /** `caller:<id>` (the default) or `shared`. */
  scope: string;
}

/** Bump when the key layout changes, so old entries are simply never found. */
const KEY_VERSION = 'flowgate-cache-v2';

/**
 * SHA-256 over the flow, FlowName, qualifier, scope and canonical Input: the first five as a JSON
 * array of strings, then a newline, then the canonical Input. That is unambiguous: `["a|b","c"]` and
 * `["a","b|c"]` differ, an absent qualifier (`null`) differs from any string, and a JSON array holds
 * no raw newline, so the Input starts at the first one. The Input is appended as it is rather than
 * quoted inside the array, which would copy and escape it once more. `digest` is the runtime's
 * SHA-256 (Web Crypto's async dispatch was the top cost of the hit path on Node, which injects node:crypto).
 */
export async function cacheKey(parts: CacheKeyParts, digest: (text: string) => string | Promise<string> = sha256Hex): Promise<CacheKey> {
  const head = JSON.stringify([KEY_VERSION, parts.flow, parts.flowName, parts.qualifier ?? null, parts.scope]);
  return { flow: parts.flow, hash: await digest(head + '\n' + canonicalJson(parts.inputText)) };
}

/** The scope part of the key: one caller's own entries unless the flow opted into `shared`. */
export function cacheScope(scope: 'caller' | 'shared', callerId: string): string {
  return scope === 'shared' ? 'shared' : `caller:${callerId}`;
}
