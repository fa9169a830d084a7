/**
 * Verifies a call the way CloudFlow's gateway does (Alibaba Cloud's V3 and RPC signature documents): a known AccessKeyId, a date
 * within the window, the signature (V3 over whatever SignedHeaders lists, or RPC HMAC-SHA1 over every
 * parameter), `x-acs-content-sha256` against the body, a nonce never used inside the window, and the STS token
 * when the key has tokens configured, and the expiry of a temporary key. Signatures are compared in constant time.
 * Throws an EmulatorError.
 *
 * Order: shape → key → date → signature → STS token → expiry → nonce. The nonce is claimed last, so a forged request
 * cannot burn a nonce that a genuine one is about to use.
 */
import { sha256Hex } from '../cloudflow/signing/digests.js';
import { signRpc } from '../cloudflow/signing/rpc.js';
import { canonicalRequestV3, parseAuthorizationV3, signatureV3, stringToSignV3, V3_ALGORITHM } from '../cloudflow/signing/v3.js';
import type { Clock } from '../lib/clock.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import { emulatorError } from './errors.js';
import type { NonceCache } from './nonce-cache.js';
import { rpcSignature, type RpcCall } from './request.js';

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  /** When non-empty, every call with this key must carry one of these STS tokens. */
  securityTokens?: readonly string[] | undefined;
  /**
   * When given, the only flows this key may act on (a RAM policy on those flow resources): a call naming another
   * flow is 403 AccessDenied, and ListFlows shows only these. Such a key holds no other permission: STS refuses
   * it AssumeRole.
   */
  flows?: readonly string[] | undefined;
  /** A temporary key (issued by the emulator's STS) is refused with `InvalidSecurityToken.Expired` from this epoch ms on. */
  expiresAt?: number | undefined;
}

export interface VerifyContext {
  /** The key with this AccessKeyId, if the emulator accepts one: a configured key, or a temporary one STS issued. */
  findKey(accessKeyId: string): AccessKey | undefined;
  clock: Clock;
  windowMs: number;
  nonces: NonceCache;
}

/**
 * Headers a V3 signature must cover, because the emulator acts on them. A client may sign more (the official one
 * also signs x-acs-credentials-provider); it may not sign less, or a proxy could change what was meant.
 */
const V3_REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];
const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

export async function verifyCall(call: RpcCall, ctx: VerifyContext): Promise<AccessKey> {
  if (call.style === 'rpc') return verifyRpc(call, ctx);
  if (call.style === 'v3') return verifyV3(call, ctx);
  throw emulatorError('MissingRequiredHeader', 'Authorization (or an RPC Signature parameter)', {
    pop: 'IncompleteSignature',
    popDetail: 'The request carries neither an Authorization header nor a Signature parameter.',
  });
}

async function verifyV3(call: RpcCall, ctx: VerifyContext): Promise<AccessKey> {
  const token = call.headers['x-acs-security-token'];
  const required = [...V3_REQUIRED_SIGNED, ...(call.headers['content-type'] !== undefined ? ['content-type'] : [])];
  const absent = required.filter((name) => call.headers[name] === undefined);
  if (absent.length > 0) {
    throw emulatorError('MissingRequiredHeader', absent.join(', '), {
      pop: 'IncompleteSignature',
      popDetail: `These headers must be present and listed in SignedHeaders: ${absent.join(', ')}.`,
    });
  }
  const auth = parseAuthorizationV3(call.headers.authorization);
  if (!auth) throw incomplete(`Authorization must be "${V3_ALGORITHM} Credential=…,SignedHeaders=…,Signature=…".`);
  const unsigned = [...required, ...(token !== undefined ? ['x-acs-security-token'] : [])].filter((name) => !auth.signedHeaders.includes(name));
  if (unsigned.length > 0) throw incomplete(`These headers must be present and listed in SignedHeaders: ${unsigned.join(', ')}.`);

  const key = knownKey(ctx, auth.accessKeyId);
  checkDate(call.headers['x-acs-date']!, ctx);

  const payloadHash = await sha256Hex(call.body);
  const declaredHash = call.headers['x-acs-content-sha256']!.toLowerCase();
  const { canonicalRequest } = canonicalRequestV3(
    { method: call.method, path: '/', query: call.query, headers: call.headers, body: call.body },
    payloadHash,
    auth.signedHeaders,
  );
  const expected = await signatureV3(key.accessKeySecret, await stringToSignV3(canonicalRequest));
  if (!constantTimeEqual(declaredHash, payloadHash)) throw mismatch('The x-acs-content-sha256 header does not match the request body.');
  if (!constantTimeEqual(auth.signature.toLowerCase(), expected)) throw mismatch();

  checkToken(key, token);
  checkExpiry(key, ctx);
  claimNonce(ctx, key, call.headers['x-acs-signature-nonce']!);
  return key;
}

async function verifyRpc(call: RpcCall, ctx: VerifyContext): Promise<AccessKey> {
  const p = call.params;
  const missing = ['AccessKeyId', 'SignatureMethod', 'SignatureNonce', 'Timestamp'].filter((name) => !p[name]);
  if (missing.length > 0)
    throw emulatorError('MissingRequiredParams', missing.join(', '), { pop: 'IncompleteSignature', popDetail: `Missing parameters: ${missing.join(', ')}.` });
  if (p.SignatureMethod !== 'HMAC-SHA1') throw invalidSigning('SignatureMethod must be HMAC-SHA1.');
  if (p.SignatureVersion !== undefined && p.SignatureVersion !== '1.0') throw invalidSigning('SignatureVersion must be 1.0.');

  const key = knownKey(ctx, p.AccessKeyId!);
  checkDate(p.Timestamp!, ctx);

  const expected = await signRpc(call.method, p, key.accessKeySecret);
  if (!constantTimeEqual(rpcSignature(call) ?? '', expected)) throw mismatch();

  checkToken(key, p.SecurityToken);
  checkExpiry(key, ctx);
  claimNonce(ctx, key, p.SignatureNonce!);
  return key;
}

function knownKey(ctx: VerifyContext, accessKeyId: string): AccessKey {
  const key = ctx.findKey(accessKeyId);
  if (!key) throw emulatorError('InvalidAccessKeyID', `The AccessKey ID ${accessKeyId.slice(0, 64)} is not known.`, { pop: 'InvalidAccessKeyId.NotFound' });
  return key;
}

function checkDate(value: string, ctx: VerifyContext): void {
  const at = DATE_SHAPE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) {
    throw emulatorError('InvalidArgument', `The request date ${JSON.stringify(value.slice(0, 40))} is not yyyy-MM-ddTHH:mm:ssZ.`, {
      pop: 'InvalidTimeStamp.Format',
    });
  }
  if (Math.abs(ctx.clock.now() - at) > ctx.windowMs) {
    const window = `It must be within ${ctx.windowMs / 60_000} minutes of the server time.`;
    throw emulatorError('RequestTimeTooSkewed', `The request date ${value} is too far from the server time. ${window}`, {
      pop: 'InvalidTimeStamp.Expired',
      popDetail: window,
    });
  }
}

function checkToken(key: AccessKey, token: string | undefined): void {
  const accepted = key.securityTokens ?? [];
  if (accepted.length === 0) return;
  // Every accepted token is compared, so timing tells nothing about which one came close.
  let ok = false;
  for (const candidate of accepted) ok = constantTimeEqual(token ?? '', candidate) || ok;
  if (!ok || token === undefined) {
    const detail = token === undefined ? 'This AccessKey requires a SecurityToken.' : 'The SecurityToken does not belong to this AccessKey.';
    throw emulatorError('InvalidAccessKeyID', detail, { pop: 'InvalidSecurityToken.MismatchWithAccessKey' });
  }
}

function checkExpiry(key: AccessKey, ctx: VerifyContext): void {
  if (key.expiresAt !== undefined && ctx.clock.now() >= key.expiresAt) throw emulatorError('InvalidSecurityToken.Expired');
}

function claimNonce(ctx: VerifyContext, key: AccessKey, nonce: string): void {
  if (!ctx.nonces.claim(key.accessKeyId, nonce)) {
    throw emulatorError('InvalidArgument', 'The signature nonce was used already within the date window.', { pop: 'SignatureNonceUsed' });
  }
}

/** A signature that cannot be checked as sent (malformed, or not covering what it must). */
function incomplete(detail: string) {
  return emulatorError('SignatureNotMatch', detail, { pop: 'IncompleteSignature' });
}

function invalidSigning(detail: string) {
  return emulatorError('InvalidArgument', detail, { pop: 'IncompleteSignature' });
}

function mismatch(detail?: string) {
  return emulatorError('SignatureNotMatch', detail ?? 'The signature was not calculated from this request and the key secret.', {
    pop: 'SignatureDoesNotMatch',
    popDetail: detail,
  });
}
