import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from '../../src/cache/canonical-json.js';
import { cacheKey, cacheScope, type CacheKeyParts } from '../../src/cache/key.js';

/** A tiny deterministic generator so one fast-check seed drives every rendering choice. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const WHITESPACE = ['', ' ', '\n', '\t', '\r\n  '];

/** Renders a JSON value with shuffled keys, random whitespace, escaped letters and other spellings of numbers. */
function render(value: unknown, next: () => number): string {
  const ws = () => WHITESPACE[Math.floor(next() * WHITESPACE.length)]!;
  if (Array.isArray(value)) return `[${ws()}${value.map((v) => ws() + render(v, next) + ws()).join(',')}${ws()}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return `{${ws()}${entries.map(([k, v]) => `${ws()}${renderString(k, next)}${ws()}:${ws()}${render(v, next)}${ws()}`).join(',')}}`;
  }
  if (typeof value === 'string') return renderString(value, next);
  if (typeof value === 'number') {
    const pick = next();
    if (Number.isInteger(value) && Math.abs(value) < 1e15 && pick < 0.3) return `${value}.0`;
    if (pick < 0.6) return value.toExponential().replace('e+', pick < 0.45 ? 'E+' : 'e');
    return String(value);
  }
  return JSON.stringify(value);
}

function renderString(s: string, next: () => number): string {
  const plain = JSON.stringify(s);
  return next() < 0.5 ? plain : plain.replace(/[a-z]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The oracle for ordinary values: parse, sort keys recursively, serialize. */
function sortedStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const jsonObject = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 });

const base: CacheKeyParts = { flow: 'hello', flowName: 'hello_world', qualifier: '1', inputText: '{}', scope: 'caller:mobile-app' };

describe('canonical JSON', () => {
  it('equals parse → sort keys → serialize for any rendering of a value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.integer(), (value, seed) => {
        const text = render(value, rng(seed));
        expect(canonicalJson(text)).toBe(sortedStringify(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('normalizes number spellings but keeps values a double cannot hold apart', () => {
    expect(canonicalJson('{"a":1.0,"b":1e0,"c":10E-1,"d":-0,"e":0.50}')).toBe('{"a":1,"b":1,"c":1,"d":0,"e":0.5}');
    expect(canonicalJson('{"n":1e21}')).toBe(canonicalJson('{"n":1000000000000000000000}'));
    // JSON.parse would merge these; the upstream receives the text, so the key must not.
    expect(canonicalJson('{"n":12345678901234567891}')).not.toBe(canonicalJson('{"n":12345678901234567890}'));
    expect(canonicalJson('{"n":12345678901234567891}')).toBe(canonicalJson('{"n":1234567890123456789.10e1}'));
    expect(canonicalJson('[1e400]')).toBe('[1e400]');
    expect(canonicalJson('[1e400]')).not.toBe(canonicalJson('[1e401]'));
  });

  it('keeps duplicate keys, in order, so parsers that keep the first or the last never share a key', () => {
    expect(canonicalJson('{"a":1,"a":2}')).not.toBe(canonicalJson('{"a":2}'));
    expect(canonicalJson('{"a":1,"a":2}')).not.toBe(canonicalJson('{"a":2,"a":1}'));
    expect(canonicalJson('{"b":0,"a":1,"a":2}')).toBe('{"a":1,"a":2,"b":0}');
  });

  it('refuses text that is not JSON', () => {
    for (const bad of ['{', '{"a" 1}', '[1,]', 'tru', '{"a":1}x', '"\u0001"', '{"a":"b', '{"a\\":1}', '{1:2}', '["\\x"]'])
      expect(() => canonicalJson(bad), bad).toThrow(SyntaxError);
  });

  it('accepts exactly what JSON.parse accepts, for text one edit away from JSON', () => {
    const edits = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '-', '.', 'e', '0', '\u0001', '\ud800', 'u'];
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.integer(), fc.nat(), fc.nat({ max: edits.length }), (value, seed, at, pick) => {
        const text = render(value, rng(seed));
        const i = at % (text.length + 1);
        // Delete the character at i, or insert one of the edits there.
        const edited = pick === edits.length ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + edits[pick]! + text.slice(i);
        let parses = true;
        try {
          JSON.parse(edited);
        } catch {
          parses = false;
        }
        if (parses) expect(() => canonicalJson(edited), edited).not.toThrow();
        else expect(() => canonicalJson(edited), edited).toThrow(SyntaxError);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('cache key', () => {
  it('is stable under key order, whitespace, escapes and number spelling', async () => {
    await fc.assert(
      fc.asyncProperty(jsonObject, fc.integer(), fc.integer(), async (value, s1, s2) => {
        const a = await cacheKey({ ...base, inputText: render(value, rng(s1)) });
        const b = await cacheKey({ ...base, inputText: render(value, rng(s2)) });
        expect(a).toEqual(b);
        expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: 300 },
    );
  });

  it('changes with any change of the Input value', async () => {
    await fc.assert(
      fc.asyncProperty(jsonObject, jsonObject, async (x, y) => {
        fc.pre(sortedStringify(x) !== sortedStringify(y));
        const a = await cacheKey({ ...base, inputText: JSON.stringify(x) });
        const b = await cacheKey({ ...base, inputText: JSON.stringify(y) });
        expect(a.hash).not.toBe(b.hash);
      }),
      { numRuns: 300 },
    );
  });

  it('changes with one changed leaf', async () => {
    await fc.assert(
      fc.asyncProperty(jsonObject, fc.string(), fc.jsonValue({ maxDepth: 1 }), fc.jsonValue({ maxDepth: 1 }), async (rest, field, v1, v2) => {
        fc.pre(sortedStringify(v1) !== sortedStringify(v2));
        const a = await cacheKey({ ...base, inputText: JSON.stringify({ ...rest, [field]: v1 }) });
        const b = await cacheKey({ ...base, inputText: JSON.stringify({ ...rest, [field]: v2 }) });
        expect(a.hash).not.toBe(b.hash);
      }),
      { numRuns: 300 },
    );
  });

  it('changes with the flow, FlowName, qualifier or caller', async () => {
    const name = fc.string({ minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<keyof CacheKeyParts>('flow', 'flowName', 'qualifier', 'scope'), name, name, jsonObject, async (part, v1, v2, input) => {
        fc.pre(v1 !== v2);
        const inputText = JSON.stringify(input);
        const a = await cacheKey({ ...base, inputText, [part]: v1 });
        const b = await cacheKey({ ...base, inputText, [part]: v2 });
        expect(a.hash).not.toBe(b.hash);
      }),
      { numRuns: 300 },
    );
  });

  it('is unambiguous about field boundaries and an absent qualifier', async () => {
    const a = await cacheKey({ ...base, flow: 'a|b', flowName: 'c' });
    const b = await cacheKey({ ...base, flow: 'a', flowName: 'b|c' });
    expect(a.hash).not.toBe(b.hash);
    const none = await cacheKey({ ...base, qualifier: undefined });
    const nullText = await cacheKey({ ...base, qualifier: 'null' });
    const empty = await cacheKey({ ...base, qualifier: '' });
    expect(new Set([none.hash, nullText.hash, empty.hash]).size).toBe(3);
    // The Input follows the first raw newline; a newline inside a field is escaped, so it cannot move that boundary.
    const split = await cacheKey({ ...base, scope: 'shared"]\n{"a":1}', inputText: '{}' });
    const whole = await cacheKey({ ...base, scope: 'shared', inputText: '{"a":1}' });
    expect(split.hash).not.toBe(whole.hash);
  });

  it('separates callers unless the flow shares', () => {
    expect(cacheScope('caller', 'alice')).not.toBe(cacheScope('caller', 'bob'));
    expect(cacheScope('shared', 'alice')).toBe(cacheScope('shared', 'bob'));
    // A caller literally named "shared" still gets its own scope.
    expect(cacheScope('caller', 'shared')).not.toBe(cacheScope('shared', 'x'));
  });
});
