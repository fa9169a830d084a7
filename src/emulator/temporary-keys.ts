/**
 * The temporary keys the emulator's STS hands out: an `STS.` AccessKeyId, its secret, the SecurityToken every
 * call with it must carry, and an expiry. The fnf side accepts them until they expire and answers
 * `InvalidSecurityToken.Expired` after, so expired keys are remembered (up to `max` keys, the oldest forgotten
 * first; a forgotten key is then refused as an unknown one: `InvalidAccessKeyID`, or `InvalidAccessKeyId.NotFound`
 * in the POP vocabulary).
 *
 * A temporary key acts on every flow unless it was issued for some (`flows`): as in RAM, a role session has the
 * role's permissions, not those of the key that assumed it, and the emulator's roles allow every flow.
 */
import type { Clock } from '../lib/clock.js';
import { toBase64, toHex } from '../lib/bytes.js';
import type { AccessKey } from './verify.js';

export interface TemporaryKey {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms, on whole seconds: what `Expiration` says is when the key stops working. */
  expiresAt: number;
}

export interface TemporaryKeyStore {
  /**
   * Issues a key valid for `durationSeconds`, or for the store's fixed `ttlMs` when it has one (the emulator's
   * `--sts-token-ttl`, so expiry can be tested in seconds).
   */
  issue(durationSeconds: number, flows?: readonly string[]): TemporaryKey;
  /** The key as the verifier sees it: its secret, its one token, its expiry and the flows it is limited to, if any. */
  get(accessKeyId: string): AccessKey | undefined;
}

export interface TemporaryKeyStoreOptions {
  clock: Clock;
  /** Every key lives this long, whatever was asked for. At least 1000 (expiries are whole seconds). */
  ttlMs?: number | undefined;
  /** Most keys remembered. */
  max: number;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function random(bytes: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(bytes));
}

export function createTemporaryKeyStore(options: TemporaryKeyStoreOptions): TemporaryKeyStore {
  const { clock, ttlMs, max } = options;
  if (ttlMs !== undefined && !(Number.isInteger(ttlMs) && ttlMs >= 1000))
    throw new TypeError(`createEmulator(): stsTokenTtlMs must be a whole number ≥ 1000, got ${ttlMs}`);
  if (!(Number.isInteger(max) && max > 0)) throw new TypeError(`createEmulator(): maxTemporaryKeys must be a whole number > 0, got ${max}`);
  // Insertion order is issue order, so the first entry is the oldest.
  const keys = new Map<string, AccessKey & { expiresAt: number }>();
  return {
    issue(durationSeconds, flows) {
      const lifetime = ttlMs ?? durationSeconds * 1000;
      const key: TemporaryKey = {
        accessKeyId: 'STS.' + Array.from(random(24), (b) => BASE62[b % 62]).join(''),
        accessKeySecret: toHex(random(20)),
        securityToken: 'CAIS' + toBase64(random(96)),
        expiresAt: Math.floor((clock.now() + lifetime) / 1000) * 1000,
      };
      if (keys.size >= max) keys.delete(keys.keys().next().value!);
      keys.set(key.accessKeyId, {
        accessKeyId: key.accessKeyId,
        accessKeySecret: key.accessKeySecret,
        securityTokens: [key.securityToken],
        expiresAt: key.expiresAt,
        flows: flows === undefined ? undefined : [...flows],
      });
      return key;
    },
    get: (accessKeyId) => keys.get(accessKeyId),
  };
}
