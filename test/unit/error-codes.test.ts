import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InputError, isErrorCode, ModelsealError, reviveError, sigstoreErrorCode, toWireError, VerificationError } from '../../src/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** `| \`CODE\` | exit | sentence |` rows of docs/errors.md. */
function documentedRows(): Map<string, { exit: number; sentence: string }> {
  const rows = new Map<string, { exit: number; sentence: string }>();
  for (const line of readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8').split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| (\d+) \| (.*) \|$/.exec(line);
    if (m) {
      expect(rows.has(m[1]!), `${m[1]} is listed twice in docs/errors.md`).toBe(false);
      rows.set(m[1]!, { exit: Number(m[2]), sentence: m[3]! });
    }
  }
  return rows;
}

describe('the error-code catalogue', () => {
  it('docs/errors.md lists every catalogued code with its exit code and sentence, and nothing else', () => {
    const rows = documentedRows();
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      const expected = `| \`${code}\` | ${entry.exit} | ${entry.sentence} |`;
      expect(rows.get(code), `docs/errors.md needs the row: ${expected}`).toEqual({ exit: entry.exit, sentence: entry.sentence });
    }
    expect([...rows.keys()].filter((c) => !isErrorCode(c))).toEqual([]);
  });

  it('has one sentence per code, ending in a full stop', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(entry.sentence, code).toMatch(/^[A-Z`].*\.$/);
    }
  });

  it('holds no code that nothing throws (SIGSTORE_* come from sigstore-js codes through sigstoreErrorCode)', () => {
    const files = [
      ...readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== 'error-codes.ts').map((f) => join(ROOT, 'src', f)),
      ...readdirSync(join(ROOT, 'native'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(cc|h)$/.test(f)).map((f) => join(ROOT, 'native', f)),
    ];
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = Object.keys(ERROR_CODES).filter((c) => !c.startsWith('SIGSTORE_') && !new RegExp(`['"]${c}['"]`).test(text));
    expect(unused, 'remove these from src/error-codes.ts and docs/errors.md').toEqual([]);
  });

  it('catalogues every code the native addon throws (the C++ side is not type-checked)', () => {
    const sources = readdirSync(join(ROOT, 'native'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(cc|h)$/.test(f));
    const thrown = new Set<string>();
    for (const f of sources) {
      const text = readFileSync(join(ROOT, 'native', f), 'utf8');
      for (const m of text.matchAll(/(?:IoError|throw_coded|throw_js)\([^"]*?"([A-Z0-9_]+)"/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/\? "([A-Z0-9_]+)" : \(?\(?[^"]*"([A-Z0-9_]+)" : "([A-Z0-9_]+)"/g)) [m[1], m[2], m[3]].forEach((c) => thrown.add(c!));
    }
    expect(thrown.size).toBeGreaterThan(4);
    expect([...thrown].filter((c) => !isErrorCode(c))).toEqual([]);
  });
});

describe('errors across a worker boundary', () => {
  it('round-trips a coded error as plain data: code, message, kind and details survive', () => {
    const sent = new VerificationError('KEY_MISMATCH', 'signed by another key.', { details: { hint: 'ab' } });
    const wire = structuredClone(toWireError(sent));
    const back = reviveError(wire);
    expect(back).toBeInstanceOf(ModelsealError);
    expect(back).toMatchObject({ code: 'KEY_MISMATCH', message: 'signed by another key.', kind: 'verification', details: { hint: 'ab' }, exitCode: 1 });
  });

  it('reports an uncoded throw as INTERNAL, a coded plain Error as input', () => {
    expect(toWireError(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'boom', kind: 'internal' });
    expect(toWireError(Object.assign(new Error('gone'), { code: 'FILE_NOT_FOUND' }))).toEqual({ code: 'FILE_NOT_FOUND', message: 'gone', kind: 'input' });
    expect(reviveError({ code: 'FILE_NOT_FOUND', message: 'gone', kind: 'input' })).toBeInstanceOf(ModelsealError);
  });

  it('does not invent a code the catalogue lacks', () => {
    const e = reviveError({ code: 'NOT_A_CODE', message: 'odd', kind: 'input' });
    expect(e).toMatchObject({ code: 'INTERNAL', kind: 'internal' });
    expect(e.message).toContain('NOT_A_CODE');
  });

  it('keeps the exit code with the kind (input 2, verification 1)', () => {
    expect(new InputError('USAGE', 'x.').exitCode).toBe(2);
    expect(reviveError(toWireError(new InputError('USAGE', 'x.'))).exitCode).toBe(2);
  });
});

describe('sigstoreErrorCode', () => {
  it('maps sigstore-js codes onto catalogued codes', () => {
    expect(sigstoreErrorCode('TLOG_INCLUSION_PROOF_ERROR')).toBe('SIGSTORE_TLOG_INCLUSION_PROOF');
    expect(sigstoreErrorCode('SIGNATURE_ERROR')).toBe('SIGSTORE_SIGNATURE');
    expect(sigstoreErrorCode('ERROR')).toBe('SIGSTORE_ERROR');
    expect(sigstoreErrorCode('SOMETHING_NEW_ERROR')).toBe('SIGSTORE_ERROR');
  });
});
