/**
 * CLI: sign --merkle, verify (companion, --tensor), inspect, cat (verified bytes on stdout, stopping
 * before the first byte of a failing leaf). In process, so the TypeScript sources are what runs.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCliInProcess } from '../cli-in-process.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { f32, safetensorsBytes, writeKeys } from './fixtures.js';

/** Like runCliInProcess, but keeps stdout as bytes (cat writes binary). */
async function runBinary(args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  const out: Buffer[] = [];
  let err = '';
  // as a real stream: the bytes are taken now (copied) and the write callback runs after (cat waits for it)
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(((s: string | Uint8Array, a?: unknown, b?: unknown) => {
    out.push(Buffer.from(s as Uint8Array));
    const cb = typeof a === 'function' ? a : b;
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  }) as typeof process.stdout.write);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'modelseal', ...args]);
    return { code, out: Buffer.concat(out), err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let t: { path: string; cleanup: () => void };
let keys: { priv: string; pub: string };
let dir: string;
let sig: string;
const TENSORS = [f32('a', 300), f32('b', 1000), f32('c', 2000), f32('d', 50)];

beforeAll(async () => {
  t = tempDir();
  keys = writeKeys(t.path);
  dir = join(t.path, 'model');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(TENSORS));
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  sig = join(t.path, 'model.sig');
  const r = await runCliInProcess(['sign', dir, '--key', keys.priv, '-o', sig, '--merkle', '--leaf-size', '1KiB', '--json', '--no-progress']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).companion).toMatchObject({ files: 2, leafSize: 1024, tree: 'rfc9162-sha256' });
});
afterAll(() => t.cleanup());

describe('sign --merkle / verify / inspect', () => {
  it('verify finds the companion beside the bundle and reports it', async () => {
    const r = await runCliInProcess(['verify', dir, '--sig', sig, '--key', keys.pub, '--json', '--no-progress']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.verified).toBe(true);
    expect(j.companion).toMatchObject({ verified: true, files: 2 });
  });

  it('--leaf-size must be a power of two, and needs --merkle', async () => {
    expect((await runCliInProcess(['sign', dir, '--key', keys.priv, '-o', join(t.path, 'x.sig'), '--merkle', '--leaf-size', '3000'])).code).toBe(2);
    expect((await runCliInProcess(['sign', dir, '--key', keys.priv, '-o', join(t.path, 'y.sig'), '--leaf-size', '4KiB'])).code).toBe(2);
  });

  it('inspect shows the companion', async () => {
    const r = await runCliInProcess(['inspect', sig]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Merkle companion: .*model\.sig\.merkle/);
    const j = JSON.parse((await runCliInProcess(['inspect', sig, '--json'])).out);
    expect(j.companion.files.map((f: { name: string }) => f.name).sort()).toEqual(['model.safetensors', 'notes.txt']);
  });

  it('verify --tensor reports "tensors verified: k of n" and lists them with --json', async () => {
    const r = await runCliInProcess(['verify', dir, '--sig', sig, '--key', keys.pub, '--tensor', 'b', '--tensor', '[cd]']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('tensors verified: 3 of 4');
    const j = JSON.parse((await runCliInProcess(['verify', dir, '--sig', sig, '--key', keys.pub, '--tensor', 'a', '--json'])).out);
    expect(j.tensors.map((x: { name: string }) => x.name)).toEqual(['a']);
    expect(j.bytesHashed).toBeLessThan(readFileSync(join(dir, 'model.safetensors')).length);
    const none = await runCliInProcess(['verify', dir, '--sig', sig, '--key', keys.pub, '--tensor', 'zzz']);
    expect(none.code).toBe(1);
  });
});

describe('cat', () => {
  it('writes the verified bytes of a file, a range and a tensor', async () => {
    const file = readFileSync(join(dir, 'model.safetensors'));
    const whole = await runBinary(['cat', dir, 'model.safetensors', '--sig', sig, '--key', keys.pub]);
    expect(whole.code).toBe(0);
    expect(whole.out.equals(file)).toBe(true);
    const part = await runBinary(['cat', dir, 'model.safetensors', '--range', '1000-3000', '--sig', sig, '--key', keys.pub]);
    expect(part.out.equals(file.subarray(1000, 3001))).toBe(true);
    const n = Number(file.readBigUInt64LE(0));
    const tb = await runBinary(['cat', dir, 'model.safetensors', '--tensor', 'b', '--sig', sig, '--key', keys.pub]);
    expect(tb.out.equals(file.subarray(8 + n + 1200, 8 + n + 5200))).toBe(true);
    expect((await runBinary(['cat', dir, 'model.safetensors', '--range', 'x', '--sig', sig, '--key', keys.pub])).code).toBe(2);
  });

  it('exits 1 before writing any byte of a failing leaf', async () => {
    const copy = join(t.path, 'tampered');
    mkdirSync(copy);
    const bytes = Buffer.from(readFileSync(join(dir, 'model.safetensors')));
    bytes[5 * 1024 + 10] ^= 1;
    writeFileSync(join(copy, 'model.safetensors'), bytes);
    writeFileSync(join(copy, 'notes.txt'), 'hello');
    const r = await runBinary(['cat', copy, 'model.safetensors', '--sig', sig, '--key', keys.pub]);
    expect(r.code).toBe(1);
    expect(r.out.length).toBe(5 * 1024);
    expect(r.err).toMatch(/RANGE_MISMATCH/);
  });
});

describe('cat through a real pipe (bin/modelseal.js, the built CLI)', () => {
  it('writes every byte of a many-leaf file in order: the ring buffers are reused only after stdout took each chunk', async () => {
    const m = join(t.path, 'pipe-model');
    mkdirSync(m);
    const size = 3 * 1024 * 1024 + 123;
    const bytes = randomBytes(size);
    writeFileSync(join(m, 'w.bin'), bytes);
    const s2 = join(t.path, 'pipe-model.sig');
    expect((await runCliInProcess(['sign', m, '--key', keys.priv, '-o', s2, '--merkle', '--leaf-size', '4KiB', '--no-progress'])).code).toBe(0);
    const bin = join(REPO_ROOT, 'bin', 'modelseal.js');
    const r = spawnSync(process.execPath, [bin, 'cat', m, 'w.bin', '--sig', s2, '--key', keys.pub], { maxBuffer: 64 * 1024 * 1024 });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, bytes)).toBe(0);
    // a flipped byte deep in the file: everything before its leaf, and nothing of it
    const bad = Buffer.from(bytes);
    bad[2 * 1024 * 1024 + 5000] ^= 1;
    writeFileSync(join(m, 'w.bin'), bad);
    const f = spawnSync(process.execPath, [bin, 'cat', m, 'w.bin', '--sig', s2, '--key', keys.pub], { maxBuffer: 64 * 1024 * 1024 });
    expect(f.status).toBe(1);
    expect(f.stdout.length).toBe(2 * 1024 * 1024 + 4096);
    expect(Buffer.compare(f.stdout, bytes.subarray(0, 2 * 1024 * 1024 + 4096))).toBe(0);
  });
});

describe('docs/examples/load-safetensors.mjs (runs on dist/, built by tsc)', () => {
  it('loads every tensor of the signed model, and refuses a tampered one', () => {
    const run = (d: string) => spawnSync(process.execPath, [join(REPO_ROOT, 'docs', 'examples', 'load-safetensors.mjs'), d, sig, keys.pub], { encoding: 'utf8' });
    const ok = run(dir);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/granularity leaf/);
    for (const x of TENSORS) expect(ok.stdout).toMatch(new RegExp(`model\\.safetensors ${x.name} F32 \\[${x.shape.join(', ')}\\] ${x.bytes} bytes`));
    const copy = join(t.path, 'tampered-example');
    mkdirSync(copy);
    const bytes = Buffer.from(readFileSync(join(dir, 'model.safetensors')));
    bytes[bytes.length - 10] ^= 1; // inside the last tensor, d
    writeFileSync(join(copy, 'model.safetensors'), bytes);
    writeFileSync(join(copy, 'notes.txt'), 'hello');
    const bad = run(copy);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/REFUSED d: model\.safetensors bytes \[\d+, \d+\) do not match/);
    expect(bad.stdout).toMatch(/model\.safetensors a F32/);
  });
});
