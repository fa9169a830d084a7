/** Engine building blocks: option checks, the virtual clock, and the synchronous digests behind hash(). */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { callBuiltin } from '../../src/emulator/engine/expression/builtins.js';
import { parseExpression } from '../../src/emulator/engine/expression/parser.js';
import { createEngine, systemSleep, virtualTime } from '../../src/emulator/engine/index.js';

describe('createEngine options', () => {
  test.each([
    [{ timeScale: 0 }, 'timeScale must be a number > 0'],
    [{ timeScale: Number.NaN }, 'timeScale must be a number > 0'],
    [{ maxDurationMs: -1 }, 'maxDurationMs must be a number > 0'],
    [{ maxStateBytes: 1.5 }, 'maxStateBytes must be a whole number > 0'],
    [{ handlers: { greet: 'hello' } }, 'handler "greet" is not a function'],
    [{ fetch: 'http://x' }, 'fetch must be a function'],
    [{ clock: {} }, 'clock must have now()'],
  ])('%j is refused at construction', (options, message) => {
    expect(() => createEngine(options as never)).toThrow(message);
  });

  test('execute() refuses an input that is not an object', async () => {
    await expect(createEngine().execute({} as never, [] as never)).rejects.toThrow('input must be a JSON object');
  });
});

describe('virtualTime', () => {
  test('sleeps resolve in due order and the clock jumps to each due time', async () => {
    const time = virtualTime(1000);
    const woke: Array<[string, number]> = [];
    await Promise.all([
      time.sleep(300).then(() => woke.push(['b', time.clock.now()])),
      time.sleep(100).then(() => woke.push(['a', time.clock.now()])),
      time.sleep(300).then(() => woke.push(['c', time.clock.now()])),
    ]);
    expect(woke).toEqual([
      ['a', 1100],
      ['b', 1300],
      ['c', 1300],
    ]);
  });

  test('an aborted sleep rejects with the reason and leaves no timer', async () => {
    const time = virtualTime();
    const controller = new AbortController();
    const sleeping = time.sleep(1000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(time.pendingTimers()).toBe(0);
  });

  test('time stands still while held work is in flight', async () => {
    const time = virtualTime();
    let release!: () => void;
    const held = time.hold(new Promise<void>((resolve) => (release = resolve)));
    let timerFired = false;
    const timer = time.sleep(5000).then(() => (timerFired = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(timerFired).toBe(false);
    release();
    await held;
    await timer;
    expect(time.clock.now()).toBe(5000);
  });

  test('systemSleep honours an already-aborted signal', async () => {
    await expect(systemSleep(10_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});

describe('digests match node:crypto across block boundaries', () => {
  const inputs = Array.from({ length: 140 }, (_, n) => 'aé✓'.repeat(n).slice(0, n));
  const env = { random: () => 0, uuid: () => '', maxDepth: 1000 };
  test.each([
    ['md5', 'MD5'],
    ['sha1', 'SHA-1'],
    ['sha256', 'SHA-256'],
    ['sha512', 'SHA-512'],
  ] as const)('%s', (algorithm, name) => {
    for (const text of inputs) expect(callBuiltin('hash', [text, name], env)).toBe(createHash(algorithm).update(text, 'utf8').digest('hex'));
  });
});

describe('expression parser', () => {
  test('records the variables an expression reads', () => {
    expect([...parseExpression('$Input.a == $Context.Current.Name && length($Global.x) > 0').variables].sort()).toEqual(['Context', 'Global', 'Input']);
  });

  test.each(['$Input.', '($Input.a', '"unterminated', '$Input.a ==', '1 2', 'format(1,)', '$Input.a = 1', '#'])('%s is a syntax error', (source) => {
    expect(() => parseExpression(source)).toThrow();
  });
});
