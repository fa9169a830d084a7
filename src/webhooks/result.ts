import type { VerifyResult } from './types.js';

export type Refusal = Extract<VerifyResult, { ok: false }>;

/** A refusal. Reasons are fixed phrases chosen here, never copied from the request, so no signature or secret can leak into logs. */
export function refuse(reason: string): Refusal {
  return { ok: false, reason };
}
