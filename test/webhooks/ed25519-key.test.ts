/**
 * Ed25519 public keys a verifier may trust: small-order and mixed-order points, non-canonical encodings and
 * bytes that are no point are refused when the options are checked; keys Node's own OpenSSL generates pass.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPrimeOrderPublicKey } from '../../src/webhooks/ed25519-key.js';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, NOW_SEC, utf8 } from './support.js';

const P = 2n ** 255n - 19n;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

/** The small-order encodings libsodium refuses (ed25519_ref10.c, `blocklist`): y = 0, 1, the two order-8 y values, p-1, p, p+1. */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];
/** The same y with the sign bit of x set. */
const withSignBit = (key: string) => key.slice(0, 62) + (parseInt(key.slice(62), 16) | 0x80).toString(16).padStart(2, '0');

/** A fresh public key from OpenSSL (raw 32 bytes). */
function generatedKey(): Uint8Array {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(12));
}

/**
 * P + (0, -1): adding the point of order 2 negates both coordinates, so this is a point of order 2L. Its
 * encoding: y' = p - y, and the sign bit flipped (x ≠ 0, so -x has the other parity).
 */
function mixedOrder(key: Uint8Array): Uint8Array {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(key[i]!);
  const sign = y >> 255n;
  y = P - (y & ((1n << 255n) - 1n));
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn);
  out[31]! |= Number(sign ^ 1n) << 7;
  return out;
}

describe('Ed25519 public keys', () => {
  it('refuses at construction the identity key, under which a signature forged without any private key verifies', async () => {
    const identity = SMALL_ORDER[1]!;
    // S = 0 and R = the identity: [0]B = R + [k]A holds for every message when A is the identity.
    const forged = `01${'00'.repeat(31)}${'00'.repeat(32)}`;
    const key = await crypto.subtle.importKey('raw', bytesOf(identity), 'Ed25519', false, ['verify']);
    expect(await crypto.subtle.verify('Ed25519', key, bytesOf(forged), new TextEncoder().encode(`${NOW_SEC}${BODY}`))).toBe(true);
    expect(() => createWebhookVerifier({ provider: 'discord', publicKey: identity })).toThrow(
      /^webhook publicKey is not a usable Ed25519 public key \(not a curve point, or of small order/,
    );
  });

  it('refuses every small-order encoding, with either sign bit, alone or in a list', () => {
    for (const key of SMALL_ORDER.flatMap((k) => [k, withSignBit(k)])) {
      expect(isPrimeOrderPublicKey(bytesOf(key)), key).toBe(false);
      expect(() => createWebhookVerifier({ provider: 'discord', publicKey: [hex(generatedKey()), key] }), key).toThrow(
        /^webhook publicKey\[1\] is not a usable/,
      );
    }
  });

  it('accepts keys OpenSSL generates, and refuses each with a small-order component added', () => {
    for (let i = 0; i < 40; i++) {
      const key = generatedKey();
      expect(isPrimeOrderPublicKey(key), hex(key)).toBe(true);
      const mixed = mixedOrder(key);
      expect(isPrimeOrderPublicKey(mixed), hex(mixed)).toBe(false);
    }
  });

  it('refuses encodings that are not canonical or not on the curve', () => {
    // y = p + 2 (canonically 2), and y = 2^255 - 1: both at least p.
    expect(isPrimeOrderPublicKey(bytesOf(`ef${'ff'.repeat(30)}7f`))).toBe(false);
    expect(isPrimeOrderPublicKey(bytesOf('ff'.repeat(32)))).toBe(false);
    // x = 0 written with its sign bit set (RFC 8032 §5.1.3 step 4).
    expect(isPrimeOrderPublicKey(bytesOf(`01${'00'.repeat(30)}80`))).toBe(false);
    // y = 2 has no x on the curve: (y² - 1) / (d·y² + 1) is not a square mod p.
    expect(isPrimeOrderPublicKey(bytesOf(`02${'00'.repeat(31)}`))).toBe(false);
  });

  it('still verifies a real Discord signature with a checked key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = hex(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)));
    const { sign } = await import('node:crypto');
    const signature = sign(null, Buffer.from(`${NOW_SEC}${BODY}`), privateKey).toString('hex');
    const verifier = createWebhookVerifier({ provider: 'discord', publicKey: raw });
    const headers = new Headers({ 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': String(NOW_SEC) });
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toMatchObject({ ok: true });
  });
});
