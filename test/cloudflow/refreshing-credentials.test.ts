/** The refresh timing of the upstream keys, on a clock moved by hand, against a source the test answers. */
import { describe, expect, it } from 'vitest';
import { staticSource, type CredentialSource, type IssuedCredentials } from '../../src/cloudflow/credentials.js';
import { CredentialsUnavailableError, refreshDueAt, refreshingCredentials } from '../../src/cloudflow/refreshing-credentials.js';
import { manualClock } from '../../src/lib/clock.js';
import type { Counters } from '../../src/lib/counters.js';
import type { LogLine } from '../../src/log.js';
import { manualTimer } from '../helpers/manual-timer.js';

const MINUTE = 60_000;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A source whose fetches the test settles; each answer is valid for `lifetimeMs` from the moment it is settled. */
function scriptedSource(clock: { now(): number }, lifetimeMs: number, maxFetchMs = 10_000) {
  const pending: { resolve: (issued?: IssuedCredentials) => void; reject: (error: Error) => void }[] = [];
  let issuedCount = 0;
  const source: CredentialSource = {
    type: 'ram_role_arn',
    refreshable: true,
    maxFetchMs,
    fetch: () =>
      new Promise<IssuedCredentials>((resolve, reject) => {
        pending.push({
          resolve: (issued) => {
            issuedCount++;
            resolve(
              issued ?? {
                credentials: { accessKeyId: `STS.key-${issuedCount}`, accessKeySecret: `secret-${issuedCount}`, securityToken: `token-${issuedCount}` },
                expiresAt: clock.now() + lifetimeMs,
                providerName: 'ram_role_arn/static_ak',
              },
            );
          },
          reject,
        });
      }),
  };
  return { source, pending };
}

function setup(lifetimeMs = 60 * MINUTE, maxFetchMs?: number) {
  const clock = manualClock();
  const { source, pending } = scriptedSource(clock, lifetimeMs, maxFetchMs);
  const logs: LogLine[] = [];
  const counters: Counters = {};
  const kept: Promise<unknown>[] = [];
  const timers = manualTimer();
  const managed = refreshingCredentials(source, {
    clock,
    log: (line) => logs.push(line),
    counters,
    keepAlive: (work) => kept.push(work),
    timer: timers.timer,
  });
  return { clock, pending, logs, counters, kept, managed, timers };
}

/** The first keys, fetched by a first call that waits for them. */
async function primed(lifetimeMs?: number) {
  const s = setup(lifetimeMs);
  const first = s.managed.get();
  expect(first).toBeInstanceOf(Promise);
  await flush();
  s.pending[0]!.resolve();
  expect((await first).accessKeyId).toBe('STS.key-1');
  return s;
}

describe('refreshDueAt: less than 5 minutes or 20% of the lifetime left, whichever comes first', () => {
  it.each([
    ['1 hour', 60 * MINUTE, 48 * MINUTE],
    ['15 minutes (the STS minimum)', 15 * MINUTE, 10 * MINUTE],
    ['12 hours', 720 * MINUTE, 576 * MINUTE],
    ['6 hours (ECS)', 360 * MINUTE, 288 * MINUTE],
    ['1 minute (a test TTL): half-way, never on every call', MINUTE, 30_000],
  ])('%s', (_, lifetime, due) => expect(refreshDueAt(0, lifetime)).toBe(due));
});

describe('refreshingCredentials', () => {
  it('keys given as values are held from the start, handed out synchronously, never fetched', () => {
    const clock = manualClock();
    const source = staticSource('access_key', { accessKeyId: 'id', accessKeySecret: 'secret' });
    let fetched = 0;
    const counted: CredentialSource = { ...source, fetch: () => (fetched++, source.fetch()) };
    const managed = refreshingCredentials(counted, { clock, log: () => {}, counters: {}, keepAlive: () => {} });
    clock.advance(365 * 24 * 60 * MINUTE);
    expect(managed.get()).toEqual({ accessKeyId: 'id', accessKeySecret: 'secret' });
    expect(fetched).toBe(0);
  });

  it('the first calls wait for one fetch together', async () => {
    const { managed, pending } = setup();
    const calls = [managed.get(), managed.get(), managed.get(), managed.get()];
    await flush();
    expect(pending).toHaveLength(1);
    pending[0]!.resolve();
    expect((await Promise.all(calls)).map((c) => c.accessKeyId)).toEqual(['STS.key-1', 'STS.key-1', 'STS.key-1', 'STS.key-1']);
  });

  it('refreshes once due, beside the calls: none waits while the held keys are valid, and only one refresh is in flight', async () => {
    const { clock, managed, pending, kept, logs, counters } = await primed();
    clock.advance(47 * MINUTE);
    expect(managed.get()).toMatchObject({ accessKeyId: 'STS.key-1' });
    expect(pending).toHaveLength(1); // not due before 48 minutes
    clock.advance(2 * MINUTE);
    // Due: each call still gets the held keys at once, as a value, and only the first starts a refresh.
    for (let i = 0; i < 20; i++) expect(managed.get()).toMatchObject({ accessKeyId: 'STS.key-1' });
    await flush();
    expect(pending).toHaveLength(2);
    expect(kept).toHaveLength(1); // the refresh is kept alive past the call that started it
    pending[1]!.resolve();
    await Promise.all(kept);
    expect(managed.get()).toMatchObject({ accessKeyId: 'STS.key-2' });
    expect(counters['credentials.refreshes']).toBe(2);
    const refreshed = logs.filter((l) => l.msg === 'credentials refreshed');
    expect(refreshed).toHaveLength(2);
    expect(refreshed[1]).toMatchObject({ level: 'info', type: 'ram_role_arn', provider: 'ram_role_arn/static_ak', lifetimeS: 3600 });
    expect(JSON.stringify(logs)).not.toMatch(/secret-|token-/);
  });

  it('a failed refresh keeps the held keys until they expire, is logged without a secret, counted, retried with a backoff, and shows in check()', async () => {
    const { clock, managed, pending, kept, logs, counters } = await primed();
    clock.advance(50 * MINUTE);
    managed.get();
    await flush();
    pending[1]!.reject(new Error('refresh failed: {"AccessKeyId":"STS.x","AccessKeySecret":"leaked-secret","SecurityToken":"leaked-token"}'));
    await Promise.all(kept);
    expect(managed.get()).toMatchObject({ accessKeyId: 'STS.key-1' });
    const failed = logs.find((l) => l.msg === 'credentials refresh failed')!;
    expect(failed).toMatchObject({ level: 'warn', type: 'ram_role_arn', failures: 1, keeping: expect.stringMatching(/^valid until /) });
    expect(JSON.stringify(logs)).not.toMatch(/leaked-|secret-1|token-1/);
    expect(counters['credentials.refresh_failures']).toBe(1);
    expect(await managed.check()).toEqual({
      ok: true,
      detail: expect.stringMatching(/^ram_role_arn, valid until [^;]*; 1 refresh failed \(the reason is in the log\)$/),
    });

    // The next try waits a second, then two, …; in between, calls go on with the held keys and start nothing.
    clock.advance(500);
    managed.get();
    await flush();
    expect(pending).toHaveLength(2);
    clock.advance(500);
    managed.get();
    await flush();
    expect(pending).toHaveLength(3);
    pending[2]!.reject(new Error('still down'));
    await Promise.all(kept);
    clock.advance(1_000);
    managed.get();
    await flush();
    expect(pending).toHaveLength(3); // 2 s after the second failure
    clock.advance(1_000);
    managed.get();
    await flush();
    expect(pending).toHaveLength(4);
    pending[3]!.reject(new Error('still down'));
    await Promise.all(kept);

    // The last try before the expiry fails too (the next one waits 8 s); past the expiry no valid keys are held,
    // which a call is told at once while the backoff lasts.
    clock.set(Date.UTC(2024, 0, 1) + 60 * MINUTE - 1_000);
    managed.get();
    await flush();
    pending[4]!.reject(new Error('still down'));
    await Promise.all(kept);
    clock.advance(1_000);
    await expect(managed.get()).rejects.toBeInstanceOf(CredentialsUnavailableError);
    expect(pending).toHaveLength(5);
    // /readyz may be public: it names the source; the reason is the log's.
    expect(await managed.check()).toEqual({ ok: false, detail: 'ram_role_arn: no valid credentials: the last refresh failed (the reason is in the log)' });
    expect(logs.filter((l) => l.msg === 'credentials refresh failed').at(-1)).toMatchObject({ reason: 'still down' });
    expect(logs.at(-1)).toMatchObject({ level: 'warn', failures: 4 });

    // Once the backoff is over, a call waits for a fetch, and the keys it brings serve again.
    clock.advance(7_000);
    const waiting = managed.get();
    await flush();
    expect(pending).toHaveLength(6);
    pending[5]!.resolve();
    expect(await waiting).toMatchObject({ accessKeyId: 'STS.key-2' });
    expect(await managed.check()).toEqual({ ok: true, detail: expect.stringMatching(/^ram_role_arn, valid until /) });
  });

  it('keys the source hands out already expired are a failed refresh', async () => {
    const { clock, managed, pending, logs } = setup();
    const call = managed.get();
    await flush();
    pending[0]!.resolve({ credentials: { accessKeyId: 'a', accessKeySecret: 'b', securityToken: 'c' }, expiresAt: clock.now() - 1 });
    await expect(call).rejects.toThrow(/already expired/);
    expect(logs.at(-1)).toMatchObject({ msg: 'credentials refresh failed', level: 'error' });
  });

  it('rejected(): the calls refused with the same keys start one refresh, wait for it, and are retried with the new keys', async () => {
    const { managed, pending, logs, counters } = await primed();
    const used = managed.get() as { accessKeyId: string };
    expect(managed.rejected(used as never)).toBe(true);
    expect(managed.rejected(used as never)).toBe(true);
    const retries = [managed.get(), managed.get(), managed.get()];
    await flush();
    expect(pending).toHaveLength(2);
    pending[1]!.resolve();
    expect((await Promise.all(retries)).map((c) => c.accessKeyId)).toEqual(['STS.key-2', 'STS.key-2', 'STS.key-2']);
    // A refusal of keys already replaced starts nothing more.
    expect(managed.rejected(used as never)).toBe(true);
    expect(managed.get()).toMatchObject({ accessKeyId: 'STS.key-2' });
    expect(pending).toHaveLength(2);
    expect(logs.filter((l) => l.msg === 'upstream refused the credentials as expired; refreshing')).toHaveLength(1);
    expect(counters['credentials.expired']).toBe(3); // every refused call
  });

  it('a static STS token refused as expired: no retry, one clear log line, /readyz says so', async () => {
    const clock = manualClock();
    const logs: LogLine[] = [];
    const managed = refreshingCredentials(staticSource('sts', { accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'static-token' }), {
      clock,
      log: (line) => logs.push(line),
      counters: {},
      keepAlive: () => {},
    });
    expect(await managed.check()).toEqual({ ok: true, detail: 'sts' });
    const used = managed.get() as never;
    expect(managed.rejected(used)).toBe(false);
    expect(managed.rejected(used)).toBe(false);
    expect(managed.get()).toMatchObject({ securityToken: 'static-token' }); // still what there is to sign with
    expect(logs).toEqual([
      {
        level: 'error',
        msg: 'upstream credentials expired',
        type: 'sts',
        detail: expect.stringContaining('Keys given as values are never refreshed: use type ram_role_arn, oidc_role_arn, ecs_ram_role or credentials_uri'),
      },
    ]);
    expect(JSON.stringify(logs)).not.toMatch(/static-token|secret/);
    expect(await managed.check()).toEqual({ ok: false, detail: 'sts: no valid credentials: the upstream refused the sts keys as expired' });
  });

  it('a call waits on a promise of its own: when the fetch another call started never settles (its request was cancelled), it fetches itself after the lease', async () => {
    const { managed, pending, timers } = setup(60 * MINUTE, 2_000);
    void managed.get(); // the cancelled request's call: its fetch never settles
    await flush();
    const other = managed.get();
    await timers.untilArmed(1);
    expect(timers.armed()).toEqual([3_000]);
    timers.fireAll();
    await flush();
    expect(pending).toHaveLength(2);
    pending[1]!.resolve();
    expect(await other).toMatchObject({ accessKeyId: 'STS.key-1' });
  });
});
