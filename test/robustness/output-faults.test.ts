/**
 * Issue 11 items 2-4: every output goes through one writer (src/io/output-file.ts) that loops on
 * short writes, maps out-of-space and I/O errors to exit 2 with a sentence, leaves no temporary file
 * on any failure path (nor on SIGINT/SIGTERM), and with --force replaces regular files only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs, { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pendingOutputTemps, writeOutputFile } from '../../src/io/output-file.js';
import { writeAttestationFile } from '../../src/attest/binding/index.js';
import { signModel } from '../../src/sign/index.js';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'modelseal.js');
let d: { path: string; cleanup: () => void };
let key: string;
let model: string;
let k = 0;

beforeAll(() => {
  d = tempDir('modelseal-out-');
  key = join(d.path, 'key.pem');
  writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  model = join(d.path, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'w.bin'), fill251(10_000));
});
afterAll(() => d.cleanup());
afterEach(() => vi.restoreAllMocks());

function freshDir(): string {
  const p = join(d.path, `out-${k++}`);
  mkdirSync(p);
  return p;
}
const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeOutputFile', () => {
  it('continues after short writes until every byte is written (the .att of item 2)', () => {
    const dir = freshDir();
    const real = fs.writeSync;
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Uint8Array, off?: number, len?: number) =>
      real(fd, buf, off ?? 0, Math.min(len ?? buf.length - (off ?? 0), 5))) as typeof fs.writeSync);
    const bytes = fill251(1000);
    writeAttestationFile(join(dir, 'm.sig.att'), bytes);
    expect(spy.mock.calls.length).toBeGreaterThan(100);
    expect(Buffer.compare(readFileSync(join(dir, 'm.sig.att')), Buffer.from(bytes))).toBe(0);
    expect(temps(dir)).toEqual([]);
  });

  for (const [errno, code] of [
    ['ENOSPC', 'OUTPUT_NO_SPACE'],
    ['EDQUOT', 'OUTPUT_NO_SPACE'],
    ['EIO', 'OUTPUT_IO_ERROR'],
  ] as const) {
    it(`${errno} while writing → ${code} (exit 2), no temporary file, no target`, () => {
      const dir = freshDir();
      let calls = 0;
      const real = fs.writeSync;
      vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Uint8Array, off?: number, len?: number) => {
        if (calls++ > 0) throw Object.assign(new Error(`${errno}: simulated`), { code: errno });
        return real(fd, buf, off ?? 0, Math.min(len ?? buf.length, 10));
      }) as typeof fs.writeSync);
      const target = join(dir, 'bundle.sig');
      let err: unknown;
      try {
        writeOutputFile(target, 'x'.repeat(100), { what: 'the signature' });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code, exitCode: 2 });
      expect((err as Error).message).toMatch(/\.$/);
      expect(existsSync(target)).toBe(false);
      expect(temps(dir)).toEqual([]);
      expect(pendingOutputTemps()).toEqual([]);
    });
  }

  it('a write that makes no progress is out of space, not an endless loop', () => {
    const dir = freshDir();
    vi.spyOn(fs, 'writeSync').mockImplementation((() => 0) as typeof fs.writeSync);
    expect(() => writeOutputFile(join(dir, 'a'), 'abc')).toThrow(expect.objectContaining({ code: 'OUTPUT_NO_SPACE' }));
    expect(temps(dir)).toEqual([]);
  });

  it('fsync failing with EIO leaves nothing behind', () => {
    const dir = freshDir();
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    });
    expect(() => writeOutputFile(join(dir, 'a'), 'abc')).toThrow(expect.objectContaining({ code: 'OUTPUT_IO_ERROR' }));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty path is OUTPUT_PATH_EMPTY, not "the current directory already exists"', () => {
    expect(() => writeOutputFile('', 'abc')).toThrow(expect.objectContaining({ code: 'OUTPUT_PATH_EMPTY' }));
  });

  const NOT_REGULAR: Record<string, (p: string) => void> = {
    'a directory': (p) => mkdirSync(p),
    'a FIFO': (p) => execFileSync('mkfifo', [p]),
    'a symbolic link': (p) => symlinkSync('/etc/hostname', p),
    'a character device (mknod, root only)': (p) => execFileSync('mknod', [p, 'c', '1', '7']),
  };
  for (const [what, make] of Object.entries(NOT_REGULAR)) {
    it(`force never replaces ${what}`, () => {
      const dir = freshDir();
      const target = join(dir, 'target');
      try {
        make(target);
      } catch (e) {
        console.warn(`[output-faults] cannot create ${what} here (${(e as Error).message.split('\n')[0]}); case skipped`);
        return;
      }
      const before = lstatSync(target);
      expect(() => writeOutputFile(target, 'abc', { force: true })).toThrow(expect.objectContaining({ code: 'OUTPUT_NOT_REGULAR' }));
      const after = lstatSync(target);
      expect(after.ino).toBe(before.ino);
      expect(after.mode).toBe(before.mode);
      expect(temps(dir)).toEqual([]);
    });
  }

  it('force replaces a regular file', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a'), 'old');
    writeOutputFile(join(dir, 'a'), 'new', { force: true });
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('new');
  });
});

describe('sign', () => {
  it('-o "" is refused as an empty path', async () => {
    await expect(signModel(model, { privateKey: key, output: '', workers: 1 })).rejects.toMatchObject({ code: 'OUTPUT_PATH_EMPTY' });
  });

  it('-o DEVICE --force is refused before hashing and the device stays (item 4)', () => {
    const dir = freshDir();
    const dev = join(dir, 'full');
    try {
      execFileSync('mknod', [dev, 'c', '1', '7']);
    } catch {
      console.warn('[output-faults] mknod not permitted here; using a FIFO as the non-regular target');
      execFileSync('mkfifo', [dev]);
    }
    const r = spawnSync(process.execPath, [BIN, 'sign', model, '--key', key, '-o', dev, '--force'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('[OUTPUT_NOT_REGULAR]');
    expect(lstatSync(dev).isFile()).toBe(false);
  });

  it('on a full file system: exit 2 with OUTPUT_NO_SPACE, no temporary file, no bundle (item 3)', () => {
    const dir = freshDir();
    const mnt = join(dir, 'small');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (e) {
      console.warn(`[output-faults] SKIPPED the real ENOSPC case: cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`);
      return;
    }
    try {
      // fill it to the last byte
      const fd = fs.openSync(join(mnt, 'filler'), 'w');
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch {
        /* ENOSPC: full */
      } finally {
        fs.closeSync(fd);
      }
      const out = join(mnt, 'model.sig');
      const r = spawnSync(process.execPath, [BIN, 'sign', model, '--key', key, '-o', out, '--json'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain('[OUTPUT_NO_SPACE]');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: false, error: { code: 'OUTPUT_NO_SPACE' } });
      expect(readdirSync(mnt)).toEqual(['filler']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('signals', () => {
  /**
   * A preload module raises `sig` at one point of `sign` (deterministic, no timing): while the model
   * is listed, when the key is read, inside the first write of the temporary file, at the final link.
   */
  const POINTS: Record<string, string> = {
    walk: `const f=fs.readdirSync;fs.readdirSync=function(p,...a){if(String(p).endsWith('/model'))fire();return f.call(fs,p,...a);};`,
    'key read': `const f=fs.openSync;fs.openSync=function(p,...a){if(String(p).endsWith('key.pem'))fire();return f.call(fs,p,...a);};`,
    'temporary file written': `const f=fs.writeSync;fs.writeSync=function(fd,...a){try{if(fs.readlinkSync('/proc/self/fd/'+fd).endsWith('.tmp'))fire();}catch{}return f.call(fs,fd,...a);};`,
    'final link': `const f=fs.linkSync;fs.linkSync=function(...a){fire();return f.apply(fs,a);};`,
  };

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    for (const [point, patch] of Object.entries(POINTS)) {
      it(`${sig} at "${point}": documented exit, nothing partial left`, () => {
        const dir = freshDir();
        const hook = join(d.path, `sig-hook-${k++}.cjs`);
        writeFileSync(hook, `const fs=require('node:fs');let once=false;const fire=()=>{if(!once){once=true;process.kill(process.pid,'${sig}');}};${patch}`);
        const r = spawnSync(process.execPath, ['--require', hook, BIN, 'sign', model, '--key', key, '-o', join(dir, 'm.sig')], { encoding: 'utf8', timeout: 60_000 });
        const left = readdirSync(dir);
        expect(left.filter((f) => f.endsWith('.tmp')), 'temporary file left').toEqual([]);
        // a signal raised inside a synchronous write is handled after it: the write is then whole
        for (const f of left) expect(() => JSON.parse(readFileSync(join(dir, f), 'utf8'))).not.toThrow();
        if (r.status === 0) {
          expect(['temporary file written', 'final link']).toContain(point);
          expect(left).toEqual(['m.sig']);
        } else if (sig === 'SIGINT') {
          // the CLI ends by SIGINT itself (README: the shell then reports 130); spawnSync reports the signal
          expect(r.status === 130 || r.signal === 'SIGINT', `${r.status} ${r.signal} ${r.stderr}`).toBe(true);
        }
        else expect(r.signal === 'SIGTERM' || r.status === 143, `${r.status} ${r.signal} ${r.stderr}`).toBe(true);
        if (r.status !== 0) expect(r.stderr).not.toMatch(/\n\s+at /);
      }, 60_000);
    }
  }
});
