/**
 * The companion statement format: a golden file for a fixed companion, the JSON schema in docs/
 * accepts what we emit, and the parser refuses what the schema refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { companionToStatement, parseCompanionPayload, type Companion } from '../../src/manifest/companion.js';
import { REPO_ROOT } from '../helpers.js';

const GOLDEN = join(REPO_ROOT, 'test', 'loadtime', 'golden', 'companion-statement.json');
const FIXED: Companion = {
  omsRoot: 'a'.repeat(64),
  modelName: 'tiny-model',
  files: [
    { name: 'model.safetensors', size: 3_000_000, leafSize: 1048576, tree: 'rfc9162-sha256', root: 'b'.repeat(64) },
    { name: 'sub/tok.json', size: 0, leafSize: 1048576, tree: 'rfc9162-sha256', root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  ],
};

describe('companion statement', () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'companion.schema.json'), 'utf8')) as object;
  const validate = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false }).compile(schema);

  it('matches the golden file and the schema, and parses back', () => {
    const s = companionToStatement(FIXED);
    expect(JSON.stringify(s, null, 2) + '\n').toBe(readFileSync(GOLDEN, 'utf8'));
    expect(validate(s)).toBe(true);
    expect(parseCompanionPayload(Buffer.from(JSON.stringify(s)))).toEqual(FIXED);
  });

  it.each([
    ['a leaf size that is not a power of two', (s: any) => (s.predicate.files[0].leaf_size = 1000000)],
    ['an unknown tree', (s: any) => (s.predicate.files[0].tree = 'sha1')],
    ['an uppercase root', (s: any) => (s.predicate.files[0].root = 'B'.repeat(64))],
    ['a path escaping the model', (s: any) => (s.predicate.files[0].name = '../x')],
    ['a negative size', (s: any) => (s.predicate.files[0].size = -1)],
    ['two subjects', (s: any) => s.subject.push(s.subject[0])],
    ['another version', (s: any) => (s.predicate.version = 2)],
  ])('refuses %s', (_what, mutate) => {
    const s = JSON.parse(JSON.stringify(companionToStatement(FIXED)));
    mutate(s);
    let code = 'OK';
    try {
      parseCompanionPayload(Buffer.from(JSON.stringify(s)));
    } catch (e) {
      code = (e as ModelsealError).code;
    }
    expect(code).toBe('COMPANION_MALFORMED');
    if (!_what.includes('escaping') && !_what.includes('power')) expect(validate(s)).toBe(false);
  });
});
