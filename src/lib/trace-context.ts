/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/, Level 1): the `traceparent` header a caller sends is
 * kept when valid, a new trace is started otherwise, and the upstream call carries the trace with the gateway's
 * own span as its parent. Randomness is injected.
 */
import type { Random } from './random.js';

export interface TraceContext {
  /** 32 lowercase hex characters, not all zero. */
  traceId: string;
  /** The gateway's own span for this request: 16 lowercase hex characters, not all zero. */
  spanId: string;
  /** The caller's span (the incoming parent-id), when the trace came in with the request. */
  parentId: string | undefined;
  /** Trace flags, 2 hex characters (`01`: sampled). A started trace is `01`; an incoming one keeps its own. */
  flags: string;
  /** The incoming `tracestate`, passed on unchanged (§3.3: a vendor that adds nothing forwards it as is). */
  tracestate: string | undefined;
}

const HEX = /^[0-9a-f]+$/;
const ZEROS = /^0+$/;
/** §3.3: at most 512 characters are propagated; a longer list may be dropped. */
const MAX_TRACESTATE = 512;

/**
 * Parses a `traceparent` value per §3.2: `version-traceid-parentid-flags`, lowercase hex; version `ff` is invalid;
 * version `00` is exactly 55 characters; a later version may append fields after a `-` (§3.2.4, parsed as 00).
 * All-zero trace or parent ids are invalid. Returns undefined for anything invalid.
 */
export function parseTraceparent(value: string | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text.length < 55) return undefined;
  const version = text.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' ? text.length !== 55 : text.length > 55 && text[55] !== '-') return undefined;
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return undefined;
  const traceId = text.slice(3, 35);
  const parentId = text.slice(36, 52);
  const flags = text.slice(53, 55);
  if (!HEX.test(traceId) || ZEROS.test(traceId) || !HEX.test(parentId) || ZEROS.test(parentId) || !HEX.test(flags)) return undefined;
  return { traceId, parentId, flags };
}

/** 16 random hex characters: the random part of a v4 UUID's hex, without its version nibble. */
function spanId(random: Random): string {
  const hex = random.nonce();
  const id = hex.slice(0, 12) + hex.slice(13, 17);
  return ZEROS.test(id) ? '0000000000000001' : id;
}

/** The request's trace: the caller's when its `traceparent` is valid, a new sampled one otherwise. */
export function traceFor(traceparent: string | undefined, tracestate: string | undefined, random: Random): TraceContext {
  const incoming = parseTraceparent(traceparent);
  if (incoming) {
    const state = tracestate !== undefined && tracestate.length <= MAX_TRACESTATE ? tracestate : undefined;
    return { traceId: incoming.traceId, spanId: spanId(random), parentId: incoming.parentId, flags: incoming.flags, tracestate: state };
  }
  const traceId = random.nonce();
  return {
    traceId: ZEROS.test(traceId) ? '00000000000000000000000000000001' : traceId,
    spanId: spanId(random),
    parentId: undefined,
    flags: '01',
    tracestate: undefined,
  };
}

/** The `traceparent` the gateway sends on: version 00, this trace, the gateway's span as the parent. */
export function outgoingTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}
