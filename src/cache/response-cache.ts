import type { Logger } from '../log.js';
import { GatewayError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { awaitHandOff, realTimer, type Timer } from '../lib/single-flight.js';
import type { SuccessOutcome } from '../cloudflow/mapping.js';
import type { StoreResult } from '../lib/store-result.js';
import type { CacheDirectives } from './directives.js';
import type { CacheEntry, CacheKey, CacheLock, CacheStore } from './types.js';

export interface ResponseCacheOptions {
  store: CacheStore;
  clock: Clock;
  /** Keeps the store write alive after the response (waitUntil on Workers). */
  defer(work: Promise<unknown>): void;
  log: Logger;
  /** How long a process waits for another process's run of the same request before running it itself. */
  lockWait: number;
  /** Injected in tests; the default is a plain timer. */
  sleep?(ms: number): Promise<void>;
  /** A follower's own timer for how long it waits on another request's run (injected in tests). */
  timer?: Timer;
}

export interface CachedRequest {
  key: CacheKey;
  ttlMs: number;
  /**
   * The longest the upstream run may take (the flow's deadline). A request that joined another's run
   * waits at most this, plus `lockWait` and a margin, before running itself: the request that started
   * the run may have been cancelled, and on Workers its run with it.
   */
  runTimeoutMs: number;
  directives: CacheDirectives;
  /**
   * This client's signal, asked for only when the request goes upstream (building the request's
   * AbortSignal costs every hit on Node). A shared run is cancelled only when every client waiting
   * on it has gone.
   */
  signal?: (() => AbortSignal | undefined) | undefined;
  /** Told how the request was served, for the access log (again if it ran itself after its run's lease ran out). */
  report?(result: CacheResult): void;
}

/** `refresh` = `no-cache`; `stale` = the entry was older than the caller's `max-age`. */
export type CacheResult = 'hit' | 'miss' | 'refresh' | 'stale' | 'collapsed' | 'bypass';

export interface CachedAnswer {
  outcome: SuccessOutcome;
  /** `Cache-Status`, and `Age` whenever the body came out of the store. */
  headers: Record<string, string>;
}

/** Runs the upstream execution; the signal is the shared run's, not one client's. */
export type Execute = (signal: AbortSignal) => Promise<SuccessOutcome>;

export interface ResponseCache {
  answer(request: CachedRequest, execute: Execute): Promise<CachedAnswer>;
  /** Runs in flight in this process (for tests and metrics). */
  readonly inFlight: number;
}

const CACHE_NAME = 'flowgate';
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;
/** Signing, store reads and mapping around the run itself. */
const LEASE_MARGIN_MS = 5_000;

/** RFC 9211 `fwd` values for the three reasons a request goes upstream. */
const FORWARD = { miss: 'miss', refresh: 'request', stale: 'stale' } as const;
type ForwardReason = keyof typeof FORWARD;

interface FlightResult {
  outcome: SuccessOutcome;
  /** Set when another process's run filled the entry while this one waited. */
  entry?: CacheEntry;
  stored: boolean;
  /** Settles when the store write and lock release are done. */
  written: Promise<void>;
}

type Outcome = { ok: true; result: FlightResult } | { ok: false; error: unknown };

/**
 * A run other requests may join. Joiners never await the leader's promise: on Workers it belongs to
 * the leader's request and never settles if that request is cancelled. The leader hands its settled
 * outcome to each follower's own promise instead, and a follower's own timer ends its wait at the
 * lease (see lib/single-flight.ts for the same rule).
 */
interface Flight {
  controller: AbortController;
  /** Clients still waiting; when the last one leaves, the run is cancelled. */
  waiters: number;
  startedAt: number;
  /** A run not settled by `startedAt + leaseMs` is presumed gone; a settled one is joinable for at most min(lease, ttl) after. */
  leaseMs: number;
  ttlMs: number;
  outcome?: Outcome;
  settledAt?: number;
  followers: Set<(outcome: Outcome | undefined) => void>;
}

/**
 * The response cache around one execution: lookup, request directives, in-process coalescing
 * (one in-flight run per key), cross-process coalescing through the store's lock, and the store
 * write. It never caches a failure: only a SuccessOutcome reaches the store.
 */
export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const { store, clock, defer, log, lockWait } = options;
  if (!store || typeof store.get !== 'function') throw new TypeError('store must be a CacheStore');
  if (!Number.isFinite(lockWait) || lockWait < 0) throw new TypeError('lockWait must be a non-negative number of milliseconds');
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timer = options.timer ?? realTimer;
  const flights = new Map<string, Flight>();

  function storeFailed(op: string, result: StoreResult<unknown>): void {
    if (result.ok) return;
    log({ level: 'warn', msg: 'cache store failed; serving without cache', store: store.kind, op, error: result.error, detail: result.detail?.slice(0, 200) });
  }

  function hitHeaders(entry: CacheEntry, now: number, collapsedFrom?: ForwardReason): Record<string, string> {
    const age = String(Math.max(0, Math.floor((now - entry.storedAt) / 1000)));
    if (collapsedFrom) return { 'cache-status': `${CACHE_NAME}; fwd=${FORWARD[collapsedFrom]}; collapsed`, age };
    const ttl = Math.max(0, Math.ceil((entry.expiresAt - now) / 1000));
    return { 'cache-status': `${CACHE_NAME}; hit; ttl=${ttl}`, age };
  }

  async function answer(request: CachedRequest, execute: Execute): Promise<CachedAnswer> {
    const { key, directives } = request;
    const report = request.report ?? (() => {});

    if (directives.noStore) {
      report('bypass');
      const status = `${CACHE_NAME}; fwd=bypass`;
      const outcome = await execute(request.signal?.() ?? new AbortController().signal).catch((error: unknown) => {
        throw withCacheStatus(error, status);
      });
      return { outcome, headers: { 'cache-status': status } };
    }

    let reason: ForwardReason = directives.noCache ? 'refresh' : 'miss';
    let generation: number | undefined;
    let passedOver: CacheEntry | undefined;
    const lookup = await store.get(key);
    if (!lookup.ok) {
      storeFailed('get', lookup);
    } else {
      generation = lookup.value.generation;
      const entry = lookup.value.entry;
      if (entry) {
        const now = clock.now();
        if (!directives.noCache && (directives.maxAge === undefined || now - entry.storedAt <= directives.maxAge * 1000)) {
          report('hit');
          return { outcome: { body: entry.body, executionName: entry.executionName }, headers: hitHeaders(entry, now) };
        }
        if (!directives.noCache) reason = 'stale';
        passedOver = entry;
      }
    }

    // The generation is part of the flight key: a request after a purge never joins a run from before it.
    const flightKey = `${key.flow}\n${key.hash}\n${generation ?? 'unknown'}`;
    const fwd = `${CACHE_NAME}; fwd=${FORWARD[reason]}`;
    const leaseMs = (store.lock ? lockWait : 0) + request.runTimeoutMs + LEASE_MARGIN_MS;
    for (;;) {
      let flight = flights.get(flightKey);
      if (flight && !joinable(flight)) {
        flights.delete(flightKey);
        flight = undefined;
      }
      if (!flight) {
        const started = startFlight(flightKey, { key, generation, ttlMs: request.ttlMs, passedOver }, leaseMs, execute);
        join(started.flight, request.signal?.());
        report(reason);
        let result: FlightResult;
        try {
          result = await started.own;
        } catch (error) {
          throw withCacheStatus(error, fwd);
        }
        if (result.entry) return { outcome: result.outcome, headers: hitHeaders(result.entry, clock.now(), reason) };
        return { outcome: result.outcome, headers: { 'cache-status': result.stored ? `${fwd}; stored` : fwd } };
      }
      join(flight, request.signal?.());
      report('collapsed');
      const outcome = await follow(flight);
      // No outcome within the lease: loop, drop the run as gone and run this request itself.
      if (!outcome) continue;
      if (!outcome.ok) throw withCacheStatus(outcome.error, `${fwd}; collapsed`);
      const result = outcome.result;
      if (result.entry) return { outcome: result.outcome, headers: hitHeaders(result.entry, clock.now(), reason) };
      return { outcome: result.outcome, headers: { 'cache-status': `${fwd}; collapsed` } };
    }
  }

  function joinable(flight: Flight): boolean {
    const now = clock.now();
    if (flight.outcome) return now - flight.settledAt! < Math.min(flight.leaseMs, flight.ttlMs);
    return now - flight.startedAt < flight.leaseMs;
  }

  /** The flight's outcome, handed to a promise of this request's own; undefined when the lease runs out first. */
  function follow(flight: Flight): Promise<Outcome | undefined> {
    if (flight.outcome) return Promise.resolve(flight.outcome);
    return awaitHandOff(flight.followers, flight.startedAt + flight.leaseMs - clock.now(), timer);
  }

  interface LeadParams {
    key: CacheKey;
    generation: number | undefined;
    ttlMs: number;
    /** An entry the lookup found but could not use; waiting for another process must not return it. */
    passedOver: CacheEntry | undefined;
  }

  function startFlight(flightKey: string, params: LeadParams, leaseMs: number, execute: Execute): { flight: Flight; own: Promise<FlightResult> } {
    const controller = new AbortController();
    const flight: Flight = { controller, waiters: 0, startedAt: clock.now(), leaseMs, ttlMs: params.ttlMs, followers: new Set() };
    const own = lead(params, () => execute(controller.signal));
    flights.set(flightKey, flight);
    const settle = (outcome: Outcome) => {
      flight.outcome = outcome;
      flight.settledAt = clock.now();
      for (const follower of flight.followers) follower(outcome);
    };
    // The flight stays joinable until its entry is written, so nobody re-runs in the gap before the write lands.
    const done = own.then(
      (result) => {
        settle({ ok: true, result });
        return result.written;
      },
      (error: unknown) => settle({ ok: false, error }),
    );
    defer(
      done.finally(() => {
        if (flights.get(flightKey) === flight) flights.delete(flightKey);
      }),
    );
    return { flight, own };
  }

  /**
   * Decision: a shared run is not cancelled because its first client disconnected; other clients
   * may be waiting on it, and a finished run still fills the cache. It is cancelled only when every
   * waiting client has gone.
   */
  function join(flight: Flight, signal: AbortSignal | undefined): void {
    flight.waiters++;
    if (!signal) return;
    const leave = () => {
      flight.waiters--;
      if (flight.waiters === 0) flight.controller.abort(signal.reason);
    };
    if (signal.aborted) leave();
    else signal.addEventListener('abort', leave, { once: true });
  }

  async function lead(params: LeadParams, run: () => Promise<SuccessOutcome>): Promise<FlightResult> {
    const { key, generation, ttlMs } = params;
    // Without a known generation (the lookup failed) nothing is stored, so there is nothing to wait for.
    const lock = generation !== undefined ? store.lock : undefined;
    let token: string | undefined;
    if (lock) {
      const claim = await claimOrWait(lock, params);
      if ('entry' in claim) {
        const { entry } = claim;
        return { outcome: { body: entry.body, executionName: entry.executionName }, entry, stored: false, written: Promise.resolve() };
      }
      token = claim.token;
    }
    const release = async () => {
      if (lock && token) storeFailed('unlock', await lock.release(key, token));
    };

    let outcome: SuccessOutcome;
    try {
      outcome = await run();
    } catch (error) {
      // Failures are never cached; freeing the claim lets a waiting process try for itself.
      defer(release());
      throw error;
    }
    const now = clock.now();
    const entry: CacheEntry = { body: outcome.body, executionName: outcome.executionName, storedAt: now, expiresAt: now + ttlMs, generation: generation ?? 0 };
    if (outcome.noStore || generation === undefined || ttlMs <= 0 || !store.fits(key, entry)) {
      return { outcome, stored: false, written: release() };
    }
    const written = store.set(key, entry).then(async (result) => {
      storeFailed('set', result);
      await release();
    });
    return { outcome, stored: true, written };
  }

  /** Takes the cross-process claim, or waits (with backoff, up to `lockWait`) for the holder's entry. */
  async function claimOrWait(lock: CacheLock, params: LeadParams): Promise<{ token: string | undefined } | { entry: CacheEntry }> {
    const { key, passedOver } = params;
    let waited = 0;
    let delay = FIRST_POLL_MS;
    for (;;) {
      const claim = await lock.acquire(key, Math.max(lockWait, 1));
      if (!claim.ok) {
        storeFailed('lock', claim);
        return { token: undefined };
      }
      if (claim.value !== undefined) {
        // A holder may have stored its entry and let go between our last read and this claim: look
        // once more, or this process would run the execution a second time. One read per miss.
        const found = await store.get(key);
        if (!found.ok) storeFailed('get', found);
        else if (found.value.entry && !sameEntry(found.value.entry, passedOver)) {
          storeFailed('unlock', await lock.release(key, claim.value));
          return { entry: found.value.entry };
        }
        return { token: claim.value };
      }
      // Bounded: past the wait, run anyway (the holder may be slow or gone).
      if (waited >= lockWait) return { token: undefined };
      const step = Math.min(delay, lockWait - waited);
      await sleep(step);
      waited += step;
      delay = Math.min(delay * 2, MAX_POLL_MS);
      const found = await store.get(key);
      if (!found.ok) {
        storeFailed('get', found);
        return { token: undefined };
      }
      const entry = found.value.entry;
      if (entry && !sameEntry(entry, passedOver)) return { entry };
    }
  }

  return {
    answer,
    get inFlight() {
      return flights.size;
    },
  };
}

function sameEntry(a: CacheEntry, b: CacheEntry | undefined): boolean {
  return b !== undefined && a.storedAt === b.storedAt && a.executionName === b.executionName;
}

/** The same refusal with a `Cache-Status` header, so failures say how the cache treated them. */
function withCacheStatus(error: unknown, status: string): unknown {
  if (!(error instanceof GatewayError)) return error;
  return new GatewayError(error.code, error.status, error.message, {
    headers: { ...error.headers, 'cache-status': status },
    extra: error.extra,
    cause: error.cause,
  });
}
