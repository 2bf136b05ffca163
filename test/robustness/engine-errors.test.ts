/**
 * Bad input: each case gives a specific error code and message, a non-zero exit from the CLI, and
 * no partial output (no result line, no manifest).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, symlinkSync, truncateSync, writeFileSync, mkfifoSync } from 'node:fs';
import { join } from 'node:path';
import { hashModel } from '../../src/engine/hash-model.js';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'modelseal.js');
let d: { path: string; cleanup: () => void };

function cli(args: string[], opts: { uid?: number } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
}

beforeAll(() => {
  d = tempDir();
  chmodSync(d.path, 0o755);
  mkdirSync(join(d.path, 'emptydir'));
  mkdirSync(join(d.path, 'escape', 'model'), { recursive: true });
  writeFileSync(join(d.path, 'escape', 'secret'), 'outside');
  writeFileSync(join(d.path, 'escape', 'model', 'w.bin'), 'w');
  symlinkSync('../secret', join(d.path, 'escape', 'model', 'link'));
  mkdirSync(join(d.path, 'unreadable'));
  chmodSync(join(d.path, 'unreadable'), 0o755);
  writeFileSync(join(d.path, 'unreadable', 'w.bin'), 'secret weights');
  chmodSync(join(d.path, 'unreadable', 'w.bin'), 0o000);
  mkdirSync(join(d.path, 'changing'));
});
afterAll(() => d.cleanup());

function expectCliError(r: ReturnType<typeof cli>, code: string, exit = 2) {
  expect(r.status, r.stderr).toBe(exit);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('bad input', () => {
  it('missing path', async () => {
    await expect(hashModel(join(d.path, 'nope'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const r = cli(['hash', join(d.path, 'nope'), '--json']);
    expectCliError(r, 'MODEL_NOT_FOUND');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ ok: false, error: expect.objectContaining({ code: 'MODEL_NOT_FOUND' }) }]);
  });

  it('a directory with no files', async () => {
    await expect(hashModel(join(d.path, 'emptydir'))).rejects.toMatchObject({ code: 'MODEL_EMPTY' });
    expectCliError(cli(['hash', join(d.path, 'emptydir')]), 'MODEL_EMPTY');
  });

  it('a symlink escaping the root, and symlinks without --allow-symlinks', async () => {
    await expect(hashModel(join(d.path, 'escape', 'model'), { allowSymlinks: true })).rejects.toMatchObject({ code: 'SYMLINK_ESCAPES' });
    expectCliError(cli(['hash', join(d.path, 'escape', 'model'), '--allow-symlinks']), 'SYMLINK_ESCAPES');
    expectCliError(cli(['hash', join(d.path, 'escape', 'model')]), 'SYMLINK_REFUSED');
  });

  it('an unreadable file', () => {
    // root reads everything: run the CLI as nobody when we are root
    const asNobody = process.getuid?.() === 0;
    const r = cli(['hash', join(d.path, 'unreadable'), '--backend', 'node-crypto'], asNobody ? { uid: 65534 } : {});
    expectCliError(r, 'FILE_UNREADABLE');
    expect(r.stdout).toBe('');
  });

  it('a FIFO or other special file', async () => {
    const m = join(d.path, 'fifo');
    mkdirSync(m);
    writeFileSync(join(m, 'w.bin'), 'x');
    try {
      mkfifoSync(join(m, 'pipe'));
    } catch {
      spawnSync('mkfifo', [join(m, 'pipe')]);
    }
    await expect(hashModel(m)).rejects.toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE' });
  });

  it('a file that grows while being hashed', async () => {
    const m = join(d.path, 'changing', 'grow');
    mkdirSync(m);
    writeFileSync(join(m, 'w.bin'), fill251(3 << 20));
    let touched = false;
    await expect(
      hashModel(m, {
        backend: 'node-crypto',
        onProgress: () => {
          if (!touched) appendFileSync(join(m, 'w.bin'), 'more');
          touched = true;
        },
      }),
    ).rejects.toMatchObject({ code: 'FILE_CHANGED' });
  });

  it('a file that shrinks while being hashed', async () => {
    const m = join(d.path, 'changing', 'shrink');
    mkdirSync(m);
    writeFileSync(join(m, 'w.bin'), fill251(3 << 20));
    let touched = false;
    await expect(
      hashModel(m, {
        backend: 'js',
        onProgress: () => {
          if (!touched) truncateSync(join(m, 'w.bin'), 100);
          touched = true;
        },
      }),
    ).rejects.toMatchObject({ code: 'FILE_CHANGED' });
  });

  it('a file whose mtime changes while being hashed', async () => {
    const m = join(d.path, 'changing', 'touch');
    mkdirSync(m);
    writeFileSync(join(m, 'w.bin'), fill251(1 << 20));
    let touched = false;
    const { utimesSync } = await import('node:fs');
    await expect(
      hashModel(m, {
        backend: 'node-crypto',
        onProgress: () => {
          if (!touched) utimesSync(join(m, 'w.bin'), new Date(), new Date(Date.now() + 5000));
          touched = true;
        },
      }),
    ).rejects.toMatchObject({ code: 'FILE_CHANGED' });
  });

  it('usage errors exit 2 with a sentence', () => {
    expectCliError(cli(['hash', d.path, '--hash', 'md5']), 'USAGE');
    expectCliError(cli(['hash', d.path, '--workers', '0']), 'USAGE');
    expectCliError(cli(['hash', d.path, '--method', 'shards', '--shard-size', 'lots']), 'USAGE');
    expectCliError(cli(['hash', join(d.path, 'escape', 'model'), '--hash', 'blake3', '--method', 'shards', '--allow-symlinks']), 'SYMLINK_ESCAPES');
    const r = cli(['hash']);
    expect(r.status).toBe(2);
  });

  it('forcing an unavailable backend is an error, not a fallback', async () => {
    await expect(hashModel(join(d.path, 'emptydir'), { backend: 'node-crypto', hash: 'blake3' })).rejects.toMatchObject({ code: 'BACKEND_ALGORITHM' });
  });
});
