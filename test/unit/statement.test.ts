/**
 * Manifest ⇄ statement: the reference tool's 21 golden payloads are reproduced from the fixture
 * models (compared as parsed JSON), and the defensive parser refuses each malformed shape with
 * its own code.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModel } from '../../src/engine/hash-model.js';
import type { HashModelOptions } from '../../src/engine/types.js';
import { rootDigestOf } from '../../src/manifest/oms.js';
import {
  MAX_RESOURCES,
  OMS_PREDICATE_TYPE,
  encodeStatement,
  manifestToStatement,
  checkStatementRootDigest,
  parseStatementJson,
  resourcePathProblem,
  statementToManifest,
} from '../../src/manifest/statement.js';
import type { Manifest } from '../../src/manifest/types.js';
import { describeVectors, tempDir, VECTORS_DIR } from '../helpers.js';

const GOLDENS = join(VECTORS_DIR, 'oms', 'model-transparency', 'unit-goldens');

const FIXTURES: Record<string, string> = {
  sample_model_file: 'sample_model_file/file_model',
  empty_model_file: 'empty_model_file/empty_file_model',
  sample_model_folder: 'sample_model_folder/sample_model',
  model_folder_with_empty_file: 'model_folder_with_empty_file/empty_file_inside_model',
  deep_model_folder: 'deep_model_folder/deep_model',
  symlink_model_folder: 'symlink_model_folder/symlink_model',
  empty_model_folder: '', // created at test time (git cannot store an empty directory)
};
const VARIANTS: Record<string, Partial<HashModelOptions>> = {
  '': { method: 'files' },
  _shard: { method: 'shards', shardSize: 1_000_000_000 },
  _small_shards: { method: 'shards', shardSize: 8 },
};

describeVectors('golden payloads of model_signing (unit-goldens/payloads)', () => {
  for (const [fixture, rel] of Object.entries(FIXTURES)) {
    for (const [suffix, variant] of Object.entries(VARIANTS)) {
      it(`${fixture}${suffix}`, async () => {
        const t = tempDir();
        try {
          let model = join(GOLDENS, 'models', rel);
          const extra: Partial<HashModelOptions> = {};
          if (rel === '') {
            model = join(t.path, 'empty_folder_model');
            mkdirSync(model);
          } else if (fixture === 'symlink_model_folder') {
            // The shared copy stores the link as a plain file, and our walker refuses links that leave
            // the root (upstream's points to ../external/file): rebuild it with an in-root target.
            model = join(t.path, 'symlink_model');
            mkdirSync(join(model, '.target'), { recursive: true });
            copyFileSync(join(GOLDENS, 'models', 'symlink_model_folder', 'external', 'file'), join(model, '.target', 'file'));
            symlinkSync('.target/file', join(model, 'symlink_file'));
            extra.ignorePaths = ['.target'];
          }
          // Upstream produced them with allow_symlinks=true and no ignore paths.
          const h = await hashModel(model, { ...variant, ...extra, allowSymlinks: true, ignoreGitPaths: false, allowEmpty: true, workers: 1 });
          const ours = manifestToStatement(h.manifest);
          if (extra.ignorePaths) {
            expect(ours.predicate.serialization.ignore_paths).toEqual(['.target']);
            delete ours.predicate.serialization.ignore_paths;
            h.manifest.serialization.ignorePaths = [];
          }
          const golden = JSON.parse(readFileSync(join(GOLDENS, 'payloads', fixture + suffix), 'utf8'));
          // Parsed JSON equality: key order and 8 vs 8.0 do not matter; everything else does.
          expect(JSON.parse(encodeStatement(ours).toString())).toEqual(golden);
          // And the golden parses back into the same manifest.
          const back = statementToManifest(golden);
          expect(back.manifest.resources).toEqual(h.manifest.resources);
          expect(back.manifest.rootDigest).toBe(h.manifest.rootDigest);
          expect(back.manifest.serialization).toEqual(h.manifest.serialization);
        } finally {
          t.cleanup();
        }
      });
    }
  }
});

function manifest(over: Partial<Manifest> = {}): Manifest {
  const resources = [
    { name: 'a/b.bin', algorithm: 'sha256', digest: '11'.repeat(32) },
    { name: 'c.json', algorithm: 'sha256', digest: '22'.repeat(32) },
  ];
  return {
    modelName: 'm',
    serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: ['.git', 'model.sig'] },
    resources,
    rootDigest: rootDigestOf(resources),
    ...over,
  };
}

/** A statement object to mutate in a test. */
function st(m = manifest()): any {
  return JSON.parse(JSON.stringify(manifestToStatement(m)));
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('manifestToStatement', () => {
  it('emits the OMS shape with ignore_paths only when present and integer shard_size', () => {
    const s = manifestToStatement(manifest());
    expect(s.predicateType).toBe(OMS_PREDICATE_TYPE);
    expect(s.subject).toEqual([{ name: 'm', digest: { sha256: manifest().rootDigest } }]);
    expect(s.predicate.serialization).toEqual({ method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.git', 'model.sig'] });
    const none = manifestToStatement(manifest({ serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] } }));
    expect('ignore_paths' in none.predicate.serialization).toBe(false);
    const res = [{ name: 'w:0:8', algorithm: 'sha256-sharded-8', digest: '33'.repeat(32) }];
    const sh = manifestToStatement({ modelName: 'm', serialization: { method: 'shards', hashType: 'sha256', shardSize: 8, allowSymlinks: false, ignorePaths: [] }, resources: res, rootDigest: rootDigestOf(res) });
    expect(encodeStatement(sh).toString()).toMatch(/"shard_size":8[,}]/);
  });
});

describe('statementToManifest: accepted variants', () => {
  it('round-trips and keeps the listed order', () => {
    const p = statementToManifest(st());
    expect(p.manifest).toEqual(manifest());
    expect(p.format).toBe('v1.0');
  });
  it('accepts float shard_size (reference output) and the spec\'s bare shard algorithm', () => {
    const res = [
      { name: 'w:8:16', algorithm: 'sha256-sharded-8', digest: '44'.repeat(32) },
      { name: 'w:0:8', algorithm: 'sha256-sharded-8', digest: '33'.repeat(32) },
    ];
    const text = JSON.stringify(manifestToStatement({ modelName: 'm', serialization: { method: 'shards', hashType: 'sha256', shardSize: 8, allowSymlinks: true, ignorePaths: [] }, resources: res, rootDigest: rootDigestOf(res) })).replace('"shard_size":8', '"shard_size":8.0');
    expect(text).toContain('8.0');
    expect(statementToManifest(parseStatementJson(Buffer.from(text))).manifest.serialization.shardSize).toBe(8);
    const bare = JSON.parse(text);
    for (const r of bare.predicate.resources) r.algorithm = 'sha256';
    const p = statementToManifest(bare);
    expect(p.manifest.resources.every((r) => r.algorithm === 'sha256-sharded-8')).toBe(true);
    expect(p.notes.join()).toContain('bare algorithm');
  });
  it('ignores unknown predicate fields, accepts upper-case hex and names with ":" in shard paths', () => {
    const s = st();
    s.predicate.model_card = { x: 1 };
    s.predicate.resources[0].digest = s.predicate.resources[0].digest.toUpperCase();
    const p = statementToManifest(s);
    expect(p.manifest.resources[0]!.digest).toBe('11'.repeat(32));
    expect(p.notes.join()).toContain('model_card');
    const res = [{ name: 'a:b:0:8', algorithm: 'sha256-sharded-8', digest: '33'.repeat(32) }];
    const sh = manifestToStatement({ modelName: 'm', serialization: { method: 'shards', hashType: 'sha256', shardSize: 8, allowSymlinks: false, ignorePaths: [] }, resources: res, rootDigest: rootDigestOf(res) });
    expect(statementToManifest(sh).manifest.resources[0]!.name).toBe('a:b:0:8');
  });
  it('reads the legacy Digests/v0.1 statement of model_signing v0.2', () => {
    const legacy = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        { name: 'signme-1', digest: { sha256: '11'.repeat(32) }, annotations: { actual_hash_algorithm: 'file-sha256' } },
        { name: 'signme-2', digest: { sha256: '22'.repeat(32) } },
      ],
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: { unused: 'x' },
    };
    const p = statementToManifest(legacy);
    expect(p.format).toBe('legacy-digests-v0.1');
    expect(p.manifest.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
  });
});

describe('statementToManifest: refusals, each with its code', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['_type', (s) => (s._type = 'https://in-toto.io/Statement/v0.1'), 'STATEMENT_TYPE_UNSUPPORTED'],
    ['predicate type', (s) => (s.predicateType = 'https://example.com/wrong-predicate/v1.0'), 'STATEMENT_PREDICATE_UNSUPPORTED'],
    ['two subjects', (s) => s.subject.push(s.subject[0]), 'STATEMENT_SUBJECT_INVALID'],
    ['subject without sha256', (s) => (s.subject[0].digest = { sha512: 'aa' }), 'STATEMENT_SUBJECT_INVALID'],
    ['no predicate', (s) => delete s.predicate, 'STATEMENT_MALFORMED'],
    ['bad method', (s) => (s.predicate.serialization.method = 'tensors'), 'STATEMENT_SERIALIZATION_INVALID'],
    ['unknown hash', (s) => (s.predicate.serialization.hash_type = 'md5'), 'STATEMENT_HASH_UNSUPPORTED'],
    ['shards without shard_size', (s) => (s.predicate.serialization.method = 'shards'), 'STATEMENT_SERIALIZATION_INVALID'],
    ['resources not a list', (s) => (s.predicate.resources = {}), 'STATEMENT_RESOURCES_INVALID'],
    ['name with ..', (s) => (s.predicate.resources[0].name = 'a/../../etc/passwd'), 'RESOURCE_NAME_INVALID'],
    ['absolute name', (s) => (s.predicate.resources[0].name = '/etc/passwd'), 'RESOURCE_NAME_INVALID'],
    ['backslash name', (s) => (s.predicate.resources[0].name = 'a\\b.bin'), 'RESOURCE_NAME_INVALID'],
    ['empty component', (s) => (s.predicate.resources[0].name = 'a//b.bin'), 'RESOURCE_NAME_INVALID'],
    ['./ prefix', (s) => (s.predicate.resources[0].name = './a.bin'), 'RESOURCE_NAME_INVALID'],
    ['NUL', (s) => (s.predicate.resources[0].name = 'a\u0000b'), 'RESOURCE_NAME_INVALID'],
    ['duplicate', (s) => (s.predicate.resources[1].name = s.predicate.resources[0].name), 'RESOURCE_DUPLICATE'],
    ['algorithm differs from hash_type', (s) => (s.predicate.resources[0].algorithm = 'blake3'), 'RESOURCE_ALGORITHM_MISMATCH'],
    ['short digest', (s) => (s.predicate.resources[0].digest = 'abcd'), 'RESOURCE_DIGEST_INVALID'],
    ['non-hex digest', (s) => (s.predicate.resources[0].digest = 'zz'.repeat(32)), 'RESOURCE_DIGEST_INVALID'],
    ['ignore path with ..', (s) => (s.predicate.serialization.ignore_paths = ['../x']), 'STATEMENT_IGNORE_PATH_INVALID'],
    ['ignore path "."', (s) => (s.predicate.serialization.ignore_paths = ['.']), 'STATEMENT_IGNORE_PATH_INVALID'],
    ['root digest of other resources', (s) => (s.predicate.resources[0].digest = '55'.repeat(32)), 'ROOT_DIGEST_MISMATCH'],
  ];
  for (const [name, mutate, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const s = st();
      mutate(s);
      expect(code(() => statementToManifest(s))).toBe(expected);
    });
  }

  it('deferRootDigest leaves the root-digest check to checkStatementRootDigest, which refuses as statementToManifest does', () => {
    const good = statementToManifest(st(), { deferRootDigest: true });
    expect(() => checkStatementRootDigest(good)).not.toThrow();
    expect(good.manifest.rootDigest).toBe(statementToManifest(st()).manifest.rootDigest);
    const s = st();
    s.predicate.resources[0].digest = '55'.repeat(32);
    const bad = statementToManifest(s, { deferRootDigest: true });
    expect(bad.manifest.rootDigest).toBe(bad.declaredRootDigest);
    expect(code(() => checkStatementRootDigest(bad))).toBe('ROOT_DIGEST_MISMATCH');
    // the other checks still run at parse time
    const t = st();
    t.predicate.resources[0].name = '/etc/passwd';
    expect(code(() => statementToManifest(t, { deferRootDigest: true }))).toBe('RESOURCE_NAME_INVALID');
  });

  it('shard names that are not shards of the recorded size are refused', () => {
    const mk = (name: string) => {
      const s = st();
      s.predicate.serialization.method = 'shards';
      s.predicate.serialization.shard_size = 8;
      s.predicate.resources = [{ name, algorithm: 'sha256-sharded-8', digest: '11'.repeat(32) }];
      s.subject[0].digest.sha256 = rootDigestOf(s.predicate.resources);
      return s;
    };
    expect(code(() => statementToManifest(mk('w:0:8')))).toBeUndefined();
    for (const bad of ['w', 'w:0', 'w:8:8', 'w:0:9', 'w:4:12', 'w:x:8', '../w:0:8']) expect(code(() => statementToManifest(mk(bad))), bad).toBe('RESOURCE_NAME_INVALID');
  });

  it(`more than ${MAX_RESOURCES} resources are refused before any is examined`, () => {
    const s = st();
    s.predicate.resources = new Array(MAX_RESOURCES + 1).fill(0);
    expect(code(() => statementToManifest(s))).toBe('STATEMENT_TOO_MANY_RESOURCES');
  });

  it('a payload that is not JSON or not UTF-8 is STATEMENT_MALFORMED', () => {
    expect(code(() => parseStatementJson(Buffer.from('{"a":')))).toBe('STATEMENT_MALFORMED');
    expect(code(() => parseStatementJson(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('STATEMENT_MALFORMED');
    expect(code(() => statementToManifest([1, 2]))).toBe('STATEMENT_MALFORMED');
  });

  it('resourcePathProblem accepts ordinary names and "."', () => {
    for (const ok of ['.', 'a', 'a/b', '.hidden', 'a/.b', 'sp ace', 'ü/ß', 'a:b']) expect(resourcePathProblem(ok), ok).toBeUndefined();
  });
});
