/**
 * Which 32-byte strings are Ed25519 public keys a verifier may trust. Web Crypto imports any 32 bytes, and
 * a key of small order (the identity, `01 00…00`; all zeros; the other points of order 2, 4 or 8) lets
 * anyone forge signatures for it without a private key, as does a key with a small-order component. So a
 * key is accepted only when it decodes to a curve point (RFC 8032 §5.1.3, canonical encoding) that lies in
 * the prime-order subgroup and is not the identity: [L]P = O, P ≠ O.
 *
 * Plain BigInt arithmetic, run once per key when the config loads (a few milliseconds), never per request;
 * no curve library is a dependency, and Web Crypto offers no point operations.
 */

const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => ((a % P) + P) % P;

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

const inverse = (a: bigint) => pow(a, P - 2n);
const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** Extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint];
const IDENTITY: Point = [0n, 1n, 1n, 0n];

/** Complete addition for a = -1 (Hisil–Wong–Carter–Dawson 2008, "add-2008-hwcd-3"); also doubles. */
function add([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * D * t1 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(point: Point, scalar: bigint): Point {
  let result = IDENTITY;
  let addend = point;
  for (let k = scalar; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const isIdentity = ([x, y, z]: Point) => x === 0n && mod(y - z) === 0n;

/** RFC 8032 §5.1.3 point decoding; undefined when the bytes are not the canonical encoding of a curve point. */
function decodePoint(bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 32) return undefined;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]!);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return undefined;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return undefined;
  if (x === 0n && sign === 1n) return undefined;
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}

/**
 * True when `bytes` (32 bytes) is the canonical encoding of an Ed25519 point of order L, the only keys for
 * which a verified signature proves the holder of the private key signed. Sources: RFC 8032 §5.1.3; the
 * small-order list libsodium refuses (`crypto_sign_verify_detached`); "Taming the many EdDSAs" (2020).
 */
export function isPrimeOrderPublicKey(bytes: Uint8Array): boolean {
  const point = decodePoint(bytes);
  return point !== undefined && !isIdentity(point) && isIdentity(multiply(point, L));
}
