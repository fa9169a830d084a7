import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkJsonObject } from '../../src/lib/json-check.js';
import { jsonDepthExceeds } from '../../src/lib/json-depth.js';

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

/** What checkJsonObject must say, with JSON.parse as the oracle for validity and type. */
function oracle(text: string, limit: number): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'syntax';
  }
  if (depthOf(value) > limit) return 'depth';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'ok' : typeof value;
}

const jsonValue = fc.jsonValue({ maxDepth: 5 });
// Pieces that break JSON in the ways a scanner can get wrong: escapes, control characters, number edges, literals.
const piece = fc.constantFrom(
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u',
  '\\u00e9',
  '\\x',
  '\\n',
  '\u0001',
  '\n',
  ' ',
  '\t',
  '\u00a0',
  '\r',
  '-',
  '0',
  '01',
  '1.',
  '.5',
  '1e',
  '1e+',
  '2E-3',
  'true',
  'tru',
  'false',
  'null',
  'nul',
  'NaN',
  'Infinity',
  'a',
  'é',
  '😀',
  '\ud800',
);

describe('checkJsonObject', () => {
  it('agrees with JSON.parse on any JSON value, pretty-printed or not', () => {
    fc.assert(
      fc.property(jsonValue, fc.integer({ min: 0, max: 6 }), fc.boolean(), (v, limit, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(checkJsonObject(text, limit)).toBe(oracle(text, limit));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with JSON.parse on JSON cut, spliced and salted with breaking pieces', () => {
    const mutated = fc.tuple(jsonValue, fc.array(fc.tuple(fc.nat(), fc.nat(3), piece), { minLength: 1, maxLength: 4 })).map(([v, edits]) => {
      let text = JSON.stringify(v);
      for (const [at, cut, insert] of edits) {
        const i = text.length ? at % (text.length + 1) : 0;
        text = text.slice(0, i) + insert + text.slice(i + cut);
      }
      return text;
    });
    fc.assert(
      fc.property(mutated, fc.integer({ min: 1, max: 6 }), (text, limit) => {
        const found = checkJsonObject(text, limit);
        // Broken text that nests too deep before it breaks is "too deep", as the depth scan before parsing said.
        if (found === 'depth') expect(jsonDepthExceeds(text, limit)).toBe(true);
        else expect(found).toBe(oracle(text, limit));
      }),
      { numRuns: 20000 },
    );
  });

  it('agrees with JSON.parse on random token soup', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
        (text) => {
          expect(checkJsonObject(text, 64)).toBe(oracle(text, 64));
        },
      ),
      { numRuns: 20000 },
    );
  });

  it('names what a valid non-object is, and refuses hostile nesting at the limit without recursion', () => {
    expect(checkJsonObject('  {"a": [1, {"b": null}]}\n', 3)).toBe('ok');
    expect(checkJsonObject('{"a": [1, {"b": null}]}', 2)).toBe('depth');
    expect(checkJsonObject('[1]', 64)).toBe('array');
    expect(checkJsonObject('"x"', 64)).toBe('string');
    expect(checkJsonObject('-0.5e3', 64)).toBe('number');
    expect(checkJsonObject('false', 64)).toBe('boolean');
    expect(checkJsonObject('null', 64)).toBe('null');
    expect(checkJsonObject('', 64)).toBe('syntax');
    expect(checkJsonObject('{"n": 12345678901234567890123}', 64)).toBe('ok');
    expect(checkJsonObject('['.repeat(1_000_000), 64)).toBe('depth');
    expect(checkJsonObject('{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}', 1_000_000)).toBe('ok');
  });
});
