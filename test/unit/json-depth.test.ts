/**
 * The JSON nesting limit (io/json-depth.ts): the bracket-count shortcut answers exactly as the full
 * scan does, at the limit, one past it, with brackets inside strings, and with many shallow brackets.
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonNestingDepth, jsonTooDeep } from '../../src/io/json-depth.js';

const nested = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

describe('jsonTooDeep', () => {
  const cases: Array<[string, string]> = [
    ['empty object', '{}'],
    ['nested arrays at the limit', nested(MAX_JSON_DEPTH)],
    ['nested arrays one past the limit', nested(MAX_JSON_DEPTH + 1)],
    ['nested objects at the limit', objects(MAX_JSON_DEPTH)],
    ['nested objects one past the limit', objects(MAX_JSON_DEPTH + 1)],
    ['mixed nesting one past the limit', nested(MAX_JSON_DEPTH / 2, '[', ']').replace('[]', objects(MAX_JSON_DEPTH / 2 + 1))],
    ['many shallow brackets (over the shortcut count, depth 2)', JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i })))],
    ['brackets in strings only', JSON.stringify({ s: '['.repeat(1000) + '{'.repeat(1000) })],
    ['brackets in strings with escaped quotes', JSON.stringify({ s: '\\"[[[' + '['.repeat(200) })],
    ['a deep array after a long shallow list', JSON.stringify(Array.from({ length: 100 }, () => [])).slice(0, -1) + ',' + nested(MAX_JSON_DEPTH + 1) + ']'],
    ['unbalanced opening run', '{"a":' + '['.repeat(10_000)],
  ];
  for (const [name, text] of cases) {
    it(`agrees with the full scan: ${name}`, () => {
      expect(jsonTooDeep(text)).toBe(jsonNestingDepth(text) > MAX_JSON_DEPTH);
    });
  }

  it('refuses one level past the limit and accepts the limit, for any max', () => {
    for (const max of [0, 1, 5, MAX_JSON_DEPTH]) {
      expect(jsonTooDeep(nested(max), max)).toBe(false);
      expect(jsonTooDeep(nested(max + 1), max)).toBe(true);
    }
  });

  it('a statement-sized document with fewer brackets than the limit is within it', () => {
    const text = JSON.stringify({ subject: [{ digest: { sha256: 'ab'.repeat(32) } }], predicate: { resources: Array.from({ length: 16 }, (_, i) => ({ name: `f${i}`, digest: 'cd'.repeat(32) })) } });
    expect(jsonTooDeep(text)).toBe(false);
    expect(jsonNestingDepth(text)).toBe(4);
  });
});
