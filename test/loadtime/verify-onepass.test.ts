/**
 * `verify` with a Merkle companion reads the model once: the hashing pass emits the companion's leaves
 * (RFC 9162 leaf hashes for SHA-256, subtree CVs for BLAKE3) and the companion check compares them.
 * The verdicts equal the read-again path's (checkCompanion, through openVerified) for a good model, a
 * companion whose roots disagree with the bytes (re-signed by the model's signer) and an altered
 * sidecar; the bytes are counted by the library (companion.bytes, hashing.bytes) and, in a child
 * process, by the kernel (/proc/self/io rchar).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySigner, signModel, verifyModel } from '../../src/index.js';
import { treeRoot } from '../../src/engine/merkle.js';
import { companionToStatement, encodeSidecar, parseCompanionPayload, SIDECAR_MAGIC } from '../../src/manifest/companion.js';
import { serializeBundle } from '../../src/sign/bundle.js';
import { signStatement } from '../../src/sign/signer.js';
import { checkCompanion } from '../../src/verify/companion-check.js';
import { readBundleFile } from '../../src/verify/signature.js';
import { fill251, REPO_ROOT, tempDir } from '../helpers.js';
import { writeKeys } from './fixtures.js';

let t: { path: string; cleanup: () => void };
let keys: { priv: string; pub: string };

const LEAF = 1024;
// leaf edges ±1, an empty file, and enough bytes (> 1 MiB) for the threads / worker pool
const SIZES = [0, 1, 1023, 1024, 1025, 4097, 9000, 3 * 2 ** 20 + 777, 2 ** 20 + 1];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

beforeAll(() => {
  t = tempDir();
  keys = writeKeys(t.path);
});
afterAll(() => t.cleanup());

function makeModel(name: string): string {
  const d = join(t.path, name);
  mkdirSync(join(d, 'sub'), { recursive: true });
  SIZES.forEach((n, i) => writeFileSync(join(d, i % 2 ? 'sub' : '', `f${i}.bin`), fill251(n, i)));
  return d;
}

type Case = { name: string; hash: 'sha256' | 'blake3'; method: 'files' | 'shards'; shardSize?: number };
const CASES: Case[] = [
  { name: 'sha256 files', hash: 'sha256', method: 'files' },
  { name: 'blake3 files (subtree CVs)', hash: 'blake3', method: 'files' },
  { name: 'sha256 shards of 3000 B (shard edges cut leaves)', hash: 'sha256', method: 'shards', shardSize: 3000 },
  { name: 'sha256 shards of 1 MiB (leaf-aligned)', hash: 'sha256', method: 'shards', shardSize: 2 ** 20 },
];

async function signed(name: string, c: Case): Promise<{ dir: string; sig: string }> {
  const dir = makeModel(name);
  const sig = join(t.path, `${name}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash: c.hash, method: c.method, ...(c.shardSize ? { shardSize: c.shardSize } : {}), merkle: { leafSize: LEAF } });
  return { dir, sig };
}

/** The read-again verdict (the path verify took before it had the pass's leaves). */
async function readAgain(m: { dir: string; sig: string }) {
  return (await checkCompanion(m.dir, m.sig, { publicKey: keys.pub }, undefined))!;
}

describe.each(CASES)('verify with a companion in one pass: $name', (c) => {
  it('verifies with the leaves of the hashing pass: the model read once, the verdict the read-again one', async () => {
    const m = await signed(`ok-${c.hash}-${c.method}-${c.shardSize ?? 0}`, c);
    const r = await verifyModel(m.dir, m.sig, { publicKey: keys.pub });
    expect(r.summary).toBe('model verified');
    expect(r.verified).toBe(true);
    expect(r.hashing.bytes).toBe(TOTAL);
    const { bytes: readBytes, ...readVerdict } = await readAgain(m);
    expect(readBytes).toBe(TOTAL);
    const { bytes, ...verdict } = r.companion!;
    expect(verdict).toEqual(readVerdict);
    if (c.method === 'files' || c.shardSize! % LEAF === 0) expect(bytes).toBe(0);
    else {
      // only the leaves a shard edge cut are read again: at most one per edge
      const edges = SIZES.reduce((n, s) => n + Math.max(0, Math.ceil(s / c.shardSize!) - 1), 0);
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(edges * LEAF);
    }
  });
});

/** Rewrites the companion of `sig`: sidecar entry `k` of file `name` altered; re-signed by the model's key when `resign`. */
function alterEntry(sig: string, name: string, k: number, resign: boolean): void {
  const path = `${sig}.merkle`;
  const c = parseCompanionPayload(readBundleFile(path).payload);
  const raw = readFileSync(`${path}.tree`);
  let at = SIDECAR_MAGIC.length;
  const lists = c.files.map((f) => {
    const n = Math.ceil(f.size / f.leafSize);
    const list = Array.from({ length: n }, (_, i) => Buffer.from(raw.subarray(at + 32 * i, at + 32 * i + 32)));
    at += 32 * n;
    return list;
  });
  const i = c.files.findIndex((f) => f.name === name);
  lists[i]![k]![0]! ^= 0x01;
  writeFileSync(`${path}.tree`, encodeSidecar(lists));
  if (resign) {
    c.files[i]!.root = treeRoot('rfc9162-sha256', lists[i]!).toString('hex');
    writeFileSync(path, serializeBundle(signStatement(companionToStatement(c), createKeySigner(keys.priv))));
  }
}

describe('verify with a companion in one pass: failures, the same as reading again', () => {
  const c: Case = { name: 'sha256 files', hash: 'sha256', method: 'files' };

  it("a companion (signed by the model's signer) whose root disagrees with the bytes: RANGE_MISMATCH at the first bad leaf", async () => {
    const m = await signed('bad-root', c);
    alterEntry(m.sig, 'sub/f7.bin', 5, true);
    const r = await verifyModel(m.dir, m.sig, { publicKey: keys.pub });
    expect(r.verified).toBe(false);
    expect(r.summary).toBe("verification FAILED: the model matches the OMS bundle, but 1 file(s) do not match the Merkle companion's roots");
    expect(r.companion!.mismatches).toEqual([{ file: 'sub/f7.bin', start: 5 * LEAF, end: 6 * LEAF, code: 'RANGE_MISMATCH' }]);
    expect(r.companion!.bytes).toBe(0);
    expect(r.companion!.mismatches).toEqual((await readAgain(m)).mismatches);
  });

  it('an altered sidecar (not re-signed): SIDECAR_MISMATCH for that file', async () => {
    const m = await signed('bad-sidecar', c);
    alterEntry(m.sig, 'sub/f3.bin', 0, false);
    const r = await verifyModel(m.dir, m.sig, { publicKey: keys.pub });
    expect(r.verified).toBe(false);
    expect(r.companion!.mismatches).toEqual([{ file: 'sub/f3.bin', code: 'SIDECAR_MISMATCH' }]);
    expect(r.companion!.mismatches).toEqual((await readAgain(m)).mismatches);
  });

  it('a companion signed by another key is refused with its code, as before', async () => {
    const m = await signed('other-key', c);
    const other = writeKeys(t.path, 'other');
    const o = join(t.path, 'other-key-o.sig');
    await signModel(m.dir, { privateKey: other.priv, output: o, merkle: { leafSize: LEAF } });
    await expect(verifyModel(m.dir, m.sig, { publicKey: keys.pub, companion: `${o}.merkle` })).rejects.toMatchObject({ code: 'COMPANION_SIGNATURE_INVALID' });
  });
});

describe.skipIf(!existsSync('/proc/self/io'))('verify with a companion: bytes read, counted by the kernel (child process on dist/)', () => {
  it.each(['sha256', 'blake3'] as const)('%s: under 1.5x the model (reading it again made it 2x where the pass reads with read())', async (hash) => {
    const m = await signed(`io-${hash}`, { name: hash, hash, method: 'files' });
    const script = join(t.path, 'io-child.mjs');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
const { verifyModel } = await import(process.argv[2]);
const io = () => Number(/^rchar: (\\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
const before = io();
const r = await verifyModel(process.argv[3], process.argv[4], { publicKey: process.argv[5] });
const after = io();
console.log(JSON.stringify({ verified: r.verified, rchar: after - before, companionBytes: r.companion.bytes }));
`,
    );
    const out = spawnSync(process.execPath, [script, join(REPO_ROOT, 'dist', 'index.js'), m.dir, m.sig, keys.pub], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const j = JSON.parse(out.stdout) as { verified: boolean; rchar: number; companionBytes: number };
    expect(j.verified).toBe(true);
    expect(j.companionBytes).toBe(0);
    expect(j.rchar).toBeLessThan(1.5 * TOTAL);
  });
});
