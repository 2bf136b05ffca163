/**
 * Issue 11 item 7 (a linear glob matcher), item 11 (`--only ''` is a usage error, `sub/./t.txt` is
 * normalised) and the library-misuse part of item 13 (`only` of the wrong type).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileGlob } from '../../src/match/glob.js';
import { makeSelector } from '../../src/verify/compare.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { tempDir } from '../helpers.js';

/** The former RegExp translation, kept here as the oracle for small inputs. */
function oracle(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        if (atStart && glob[i + 2] === '/') {
          re += '(?:[^/]*(?:/[^/]*)*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', 'u');
}

describe('compileGlob', () => {
  it('hundreds of * against a long non-matching path: the answer, without backtracking', () => {
    for (const n of [34, 200, 1000]) {
      const pattern = Array.from({ length: n }, () => '*a').join('') + 'b';
      const path = 'a'.repeat(5000);
      expect(compileGlob(pattern).test(path)).toBe(false);
      expect(compileGlob(pattern).test(path + 'b')).toBe(true);
    }
    // generous: the RegExp translation of the 200-star pattern never finished
  }, 60_000);

  it('many ** components', () => {
    const pattern = Array.from({ length: 300 }, () => '**').join('/') + '/x';
    expect(compileGlob(pattern).test('a/'.repeat(400) + 'y')).toBe(false);
    expect(compileGlob(pattern).test('a/'.repeat(400) + 'x')).toBe(true);
  }, 60_000);

  it('agrees with the RegExp translation on a seeded sample of small globs and paths', () => {
    let seed = 0x1234567;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const gAlpha = ['a', 'b', '/', '*', '**', '?', '.'];
    const pAlpha = ['a', 'b', '/', '.'];
    for (let k = 0; k < 3000; k++) {
      const glob = Array.from({ length: 1 + rnd(6) }, () => gAlpha[rnd(gAlpha.length)]).join('');
      const path = Array.from({ length: rnd(8) }, () => pAlpha[rnd(pAlpha.length)]).join('');
      expect(compileGlob(glob).test(path), `${glob} vs ${path}`).toBe(oracle(glob).test(path));
    }
  });

  it('classes', () => {
    expect(compileGlob('w-[01].bin').test('w-1.bin')).toBe(true);
    expect(compileGlob('w-[!01].bin').test('w-1.bin')).toBe(false);
    expect(compileGlob('w-[a-c].bin').test('w-b.bin')).toBe(true);
  });
});

describe('--only patterns', () => {
  it("'' is a usage error, not everything", () => {
    expect(() => makeSelector([''])).toThrow(expect.objectContaining({ code: 'ONLY_PATTERN_EMPTY', exitCode: 2 }));
  });
  it('sub/./t.txt, ./sub//t.txt and sub/t.txt/ select sub/t.txt', () => {
    for (const p of ['sub/./t.txt', './sub//t.txt', 'sub/t.txt/']) {
      const s = makeSelector([p]);
      expect(s.matches('sub/t.txt'), p).toBe(true);
      expect(s.matches('sub/u.txt'), p).toBe(false);
    }
  });
  it('.. anywhere and absolute paths are refused', () => {
    for (const p of ['../x', 'a/../../x', '/etc']) expect(() => makeSelector([p])).toThrow(expect.objectContaining({ code: 'ONLY_PATTERN_INVALID' }));
  });
  it('a string instead of an array is a ModelsealError with a code', () => {
    expect(() => makeSelector('a.bin' as unknown as string[])).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe('library misuse (item 13)', () => {
  it('hashModel(x, null), hashModel(""), only as a string: ModelsealErrors with codes', async () => {
    const d = tempDir();
    try {
      mkdirSync(join(d.path, 'm'));
      writeFileSync(join(d.path, 'm', 'a'), 'a');
      await expect(hashModel(join(d.path, 'm'), null as never)).rejects.toMatchObject({ code: 'BAD_OPTION', name: 'ModelsealError' });
      await expect(hashModel('')).rejects.toMatchObject({ code: 'MODEL_PATH_EMPTY' });
      await expect(hashModel(join(d.path, 'm'), { only: 'a' as never })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    } finally {
      d.cleanup();
    }
  });
});
