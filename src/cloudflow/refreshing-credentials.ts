import type { Clock } from '../lib/clock.js';
import { bump, type Counters } from '../lib/counters.js';
import { singleFlight, type Timer } from '../lib/single-flight.js';
import type { Logger } from '../log.js';
import { EXPIRED_TOKEN_CODE } from './types.js';
import { credentialErrorReason, type CredentialSource, type Credentials, type CredentialsProvider, type IssuedCredentials } from './credentials.js';

/** Refresh once less than this remains, or {@link REFRESH_FRACTION} of the lifetime, whichever comes first. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
export const REFRESH_FRACTION = 0.2;
/** After a failed refresh, the next one waits 1 s, then 2, 4, … up to this. */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * When keys obtained at `obtainedAt` and valid until `expiresAt` are due for a refresh: when less than 5 minutes
 * or 20% of their lifetime remains, whichever comes first (a 1-hour token at 48 minutes, a 15-minute one at 10),
 * but never later than half-way, so a token shorter than 10 minutes (only a test's, STS issues 15 minutes at
 * least) still lives half its life between refreshes instead of being refreshed on every call.
 */
export function refreshDueAt(obtainedAt: number, expiresAt: number): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  return expiresAt - Math.min(Math.max(REFRESH_MARGIN_MS, lifetime * REFRESH_FRACTION), lifetime / 2);
}

/** Full ISO time; not lib/iso-time.ts, whose once-per-second cache belongs to the access log and the signer. */
const iso = (ms: number) => new Date(ms).toISOString();

/** No valid credentials could be had; the message says why, without a secret. */
export class CredentialsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsUnavailableError';
  }
}

export interface CredentialStatus {
  type: string;
  /** Valid keys are held. */
  valid: boolean;
  expiresAt?: number | undefined;
  /** Consecutive failed refreshes (0 after a success). */
  failures: number;
  lastError?: string | undefined;
}

export interface ManagedCredentials {
  /** The signers' provider: the held keys at once while they are valid; waits for new ones only when none are. */
  get: CredentialsProvider;
  /**
   * The upstream refused `used` as expired. Returns true when newer keys may be had: the caller then signs and
   * sends the call once more, and its `get()` waits for the refresh this starts (one for all the calls that
   * were refused with the same keys). False for keys given as values, which is logged once as a setup error.
   */
  rejected(used: Credentials): boolean;
  /**
   * For `/readyz`, which may be public: ok while valid keys are held; fetches them first when none are held
   * yet. The detail names the credential type and the state only; why a refresh failed (a URL, a file path,
   * the STS's answer) is in the `credentials refresh failed` log line.
   */
  check(): Promise<{ ok: boolean; detail?: string }>;
  status(): CredentialStatus;
}

export interface RefreshingCredentialsOptions {
  clock: Clock;
  /** Never given a secret: type, provider, times and reasons only. */
  log: Logger;
  counters: Counters;
  /** Keeps a refresh that a call started without waiting for it alive past that call (`waitUntil` on Workers). */
  keepAlive(work: Promise<unknown>): void;
  /** The waiting call's own timer (tests inject one). */
  timer?: Timer;
}

interface Held {
  issued: IssuedCredentials;
  obtainedAt: number;
  /** When a refresh starts, without anyone waiting for it; undefined: never. */
  dueAt: number | undefined;
  /** The upstream refused these keys as expired. */
  refused: boolean;
  /** The refusal of keys that cannot be refreshed was logged. */
  reported: boolean;
  /** When the fetch that produced them started: an older, slower fetch never replaces newer keys. */
  fetchStartedAt: number;
}

/**
 * Credentials refreshed before they expire, on the injected clock and without a timer: freshness is looked at
 * when a call asks for keys.
 * - A refresh starts when less than 5 minutes or 20% of the lifetime remains ({@link refreshDueAt}); the call
 *   that notices goes on with the held keys and the refresh runs beside it (`keepAlive`).
 * - At most one refresh is in flight. A call waits only when no valid keys are held, and then on a promise of
 *   its own that the refreshing call settles (lib/single-flight.ts: on Workers a call never awaits another
 *   call's I/O), for at most the source's `maxFetchMs`, after which it fetches itself.
 * - A failed refresh keeps the held keys until they expire, is logged (never with a secret), counted
 *   (`credentials.refresh_failures`) and shown by `check()`; the next try waits 1 s, 2 s, … up to 30 s.
 * - `rejected()` (the upstream said `InvalidSecurityToken.Expired`) drops the keys, so the next call waits
 *   for a refresh.
 */
export function refreshingCredentials(source: CredentialSource, options: RefreshingCredentialsOptions): ManagedCredentials {
  const { clock, log, counters, keepAlive } = options;
  const flight = singleFlight<IssuedCredentials>({ clock, leaseMs: source.maxFetchMs + 1_000, ...(options.timer ? { timer: options.timer } : {}) });
  let held: Held | undefined = source.initial ? hold(source.initial, clock.now(), clock.now()) : undefined;
  let inFlightSince: number | undefined;
  let failures = 0;
  let lastError: string | undefined;
  let nextTryAt = -Infinity;

  function hold(issued: IssuedCredentials, obtainedAt: number, fetchStartedAt: number): Held {
    const { expiresAt } = issued;
    const dueAt =
      expiresAt !== undefined
        ? refreshDueAt(obtainedAt, expiresAt)
        : source.refreshable && source.recheckMs !== undefined
          ? obtainedAt + source.recheckMs
          : undefined;
    return { issued, obtainedAt, dueAt, refused: false, reported: false, fetchStartedAt };
  }

  function validAt(h: Held | undefined, now: number): boolean {
    return h !== undefined && !(h.refused && source.refreshable) && (h.issued.expiresAt === undefined || now < h.issued.expiresAt);
  }

  async function load(): Promise<IssuedCredentials> {
    const startedAt = clock.now();
    inFlightSince = startedAt;
    try {
      const issued = await source.fetch();
      const now = clock.now();
      if (!issued.credentials.accessKeyId || !issued.credentials.accessKeySecret)
        throw new CredentialsUnavailableError('the answer has no AccessKeyId or AccessKeySecret');
      if (issued.expiresAt !== undefined && !(issued.expiresAt > now)) {
        throw new CredentialsUnavailableError(`the keys it handed out had already expired (at ${iso(issued.expiresAt)})`);
      }
      if (!held || startedAt >= held.fetchStartedAt) held = hold(issued, now, startedAt);
      failures = 0;
      lastError = undefined;
      nextTryAt = -Infinity;
      bump(counters, 'credentials.refreshes');
      log({
        level: 'info',
        msg: 'credentials refreshed',
        type: source.type,
        provider: issued.providerName,
        expiresAt: issued.expiresAt !== undefined ? iso(issued.expiresAt) : undefined,
        lifetimeS: issued.expiresAt !== undefined ? Math.round((issued.expiresAt - now) / 1000) : undefined,
        refreshAt: held.dueAt !== undefined ? iso(held.dueAt) : undefined,
      });
      return issued;
    } catch (error) {
      const now = clock.now();
      failures++;
      lastError = credentialErrorReason(error);
      nextTryAt = now + Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** (failures - 1));
      bump(counters, 'credentials.refresh_failures');
      const stillValid = validAt(held, now);
      log({
        level: stillValid ? 'warn' : 'error',
        msg: 'credentials refresh failed',
        type: source.type,
        reason: lastError,
        failures,
        // Keeping the held keys is the point of refreshing early: say how long they still serve.
        keeping: stillValid ? (held!.issued.expiresAt !== undefined ? `valid until ${iso(held!.issued.expiresAt)}` : 'valid') : 'none valid',
        nextTry: iso(nextTryAt),
      });
      throw new CredentialsUnavailableError(`${source.type}: ${lastError}`);
    } finally {
      inFlightSince = undefined;
    }
  }

  /** Starts a refresh beside the call that noticed it is due, unless one is in flight or the last failed too recently. */
  function refreshInBackground(now: number): void {
    if (inFlightSince !== undefined && now - inFlightSince < source.maxFetchMs + 1_000) return;
    if (now < nextTryAt) return;
    // The failure is logged and counted in load(); nobody waits for this one.
    keepAlive(flight.run('credentials', load).catch(() => undefined));
  }

  async function refreshNow(now: number): Promise<Credentials> {
    if (now < nextTryAt && inFlightSince === undefined) {
      throw new CredentialsUnavailableError(
        `${source.type}: no valid credentials; the last refresh failed (${lastError ?? 'unknown'}); next try at ${iso(nextTryAt)}`,
      );
    }
    return (await flight.run('credentials', load)).credentials;
  }

  function status(): CredentialStatus {
    const h = held;
    const valid = h !== undefined && validAt(h, clock.now()) && !h.refused;
    return { type: source.type, valid, expiresAt: h?.issued.expiresAt, failures, lastError };
  }

  return {
    get() {
      const now = clock.now();
      const h = held;
      if (h && validAt(h, now)) {
        if (h.dueAt !== undefined && now >= h.dueAt && source.refreshable) refreshInBackground(now);
        return h.issued.credentials;
      }
      // Keys given as values cannot be fetched anew: they are used as they are, and the upstream judges them.
      if (h && !source.refreshable) return h.issued.credentials;
      return refreshNow(now);
    },
    rejected(used) {
      // Every call refused, whether or not its keys are still the held ones.
      bump(counters, 'credentials.expired');
      const h = held;
      if (!h || h.issued.credentials !== used) return source.refreshable; // newer keys are held already
      if (!source.refreshable) {
        h.refused = true;
        if (!h.reported) {
          h.reported = true;
          log({
            level: 'error',
            msg: 'upstream credentials expired',
            type: source.type,
            detail: `CloudFlow refused the ${source.type === 'sts' ? 'STS token' : 'keys'} of upstream.credentials as expired (${EXPIRED_TOKEN_CODE}). Keys given as values are never refreshed: use type ram_role_arn, oidc_role_arn, ecs_ram_role or credentials_uri, or replace the token and restart.`,
          });
        }
        return false;
      }
      if (!h.refused) {
        h.refused = true;
        log({ level: 'warn', msg: 'upstream refused the credentials as expired; refreshing', type: source.type, provider: h.issued.providerName });
      }
      return true;
    },
    async check() {
      const now = clock.now();
      if (!validAt(held, now) && source.refreshable) {
        try {
          await refreshNow(now);
        } catch {
          // Reported below from the state the attempt left.
        }
      }
      const state = status();
      if (!state.valid) {
        const why = held?.refused
          ? `the upstream refused the ${source.type} keys as expired`
          : lastError !== undefined
            ? 'the last refresh failed (the reason is in the log)'
            : 'none obtained yet';
        return { ok: false, detail: `${source.type}: no valid credentials: ${why}` };
      }
      const until = state.expiresAt !== undefined ? `, valid until ${iso(state.expiresAt)}` : '';
      const failed = state.failures > 0 ? `; ${state.failures} refresh${state.failures === 1 ? '' : 'es'} failed (the reason is in the log)` : '';
      return { ok: true, detail: `${source.type}${until}${failed}` };
    },
    status,
  };
}
