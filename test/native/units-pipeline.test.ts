/**
 * UnitsPipeline (native/verified_units_napi.cc): verified-read tasks hashed by persistent native
 * threads taking them in order, completions delivered through a thread-safe function. Against
 * node:crypto (SHA-256 digests and RFC 9162 leaves) and blake3Bytes (BLAKE3 digests and subtree
 * CVs): many mixed tasks at once on 1, 2 and 3 threads (each delivered exactly once, bytes and
 * digests right, in submission order on one thread); every read path; a unit past the end of the
 * file failing only its own task; bad arguments refused synchronously; close() with tasks queued;
 * and, in child processes, an idle pipeline, process.exit() with tasks in flight and a collected
 * pipeline none of which keeps the process alive or aborts it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/addon.js';
import { fill251, prng, tempDir } from '../helpers.js';

type Done = (id: number, error?: Error & { code?: string }) => void;
interface Pipe {
  submit(id: number, fd: number, offsets: Float64Array, lengths: Float64Array, modes: Uint8Array, algorithm: string, buffer: Uint8Array, out: Uint8Array, kernel?: string, io?: string): void;
  close(): void;
}
interface PipelineAddon {
  UnitsPipeline: new (threads: number, done: Done) => Pipe;
  alignedBuffer(bytes: number): ArrayBuffer;
  blake3Bytes(data: Uint8Array, chunkCounter: number, output: 'cv' | 'digest', kernel?: string): Uint8Array;
}
const load = loadNative();
const addon = load.ok && typeof load.addon.UnitsPipeline === 'function' && typeof load.addon.blake3Bytes === 'function' ? (load.addon as unknown as PipelineAddon) : undefined;
const why = load.ok ? 'this addon build has no UnitsPipeline; run `npm run build:native`' : load.reason;

/** [offset, length, mode]: mode 0 digest, 1 BLAKE3 CV at offset / 1024, 2 RFC 9162 leaf. */
type UnitSpec = [number, number, number];
interface TaskSpec {
  algorithm: 'sha256' | 'blake3';
  units: UnitSpec[];
}

const IOS = ['pread', 'map', 'map-memcpy'] as const;
// Bytes after the units in each task buffer, filled with CANARY: a thread writing past its units shows there.
const SLACK = 64;
const CANARY = 0xa5;

// 3 MiB + an odd tail. fill251 repeats every 251 bytes, so each 512-byte block also starts with its
// own index: a unit read from the wrong offset then differs from the expected bytes.
const SIZE = 3 * 1024 * 1024 + 12_345;
const data = Buffer.from(fill251(SIZE, 5));
for (let i = 0; i + 4 <= SIZE; i += 512) data.writeUInt32LE(i / 512, i);

const hexAt = (b: Uint8Array, k: number) => Buffer.from(b.subarray(32 * k, 32 * k + 32)).toString('hex');

function expectedDigest(a: PipelineAddon, algorithm: string, [o, l, m]: UnitSpec): string {
  const bytes = data.subarray(o, o + l);
  if (algorithm === 'sha256') {
    const h = createHash('sha256');
    if (m === 2) h.update(Buffer.from([0]));
    return h.update(bytes).digest('hex');
  }
  return Buffer.from(a.blake3Bytes(bytes, m === 1 ? o / 1024 : 0, m === 1 ? 'cv' : 'digest')).toString('hex');
}

/**
 * 12 tasks of 1-4 units, alternately SHA-256 and BLAKE3 (a seeded draw): SHA-256 units of odd and
 * even lengths across the 64-byte block and the 128 KiB piece, digests and leaves mixed, an odd
 * count leaving a lone last unit; BLAKE3 subtree CVs (aligned powers of two, up to 1 MiB) and whole
 * digests of unaligned ranges; one unit ends at the file's last byte.
 */
function mixedTasks(): TaskSpec[] {
  const r = prng(14);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const shaLengths = [0, 1, 63, 64, 65, 4097, 131_071, 131_072, 131_073, 300_001, 1_048_576 + 3];
  const tasks: TaskSpec[] = [];
  for (let t = 0; t < 12; t++) {
    const n = 1 + (t % 4);
    const units: UnitSpec[] = [];
    if (t % 2 === 0) {
      for (let k = 0; k < n; k++) {
        const l = pick(shaLengths);
        units.push([Math.floor(r() * (SIZE - l)), l, r() < 0.5 ? 2 : 0]);
      }
      if (t === 4) units[n - 1] = [SIZE - 131_073, 131_073, 2];
      tasks.push({ algorithm: 'sha256', units });
    } else {
      for (let k = 0; k < n; k++) {
        if (r() < 0.6) {
          const l = 1024 << Math.floor(r() * 11); // 1 KiB .. 1 MiB subtrees, at a multiple of their size
          units.push([l * Math.floor(r() * Math.floor(SIZE / l)), l, 1]);
        } else {
          const l = 1 + Math.floor(r() * 700_000);
          units.push([Math.floor(r() * (SIZE - l)), l, 0]);
        }
      }
      if (t === 7) units[0] = [SIZE - 777, 777, 0];
      tasks.push({ algorithm: 'blake3', units });
    }
  }
  return tasks;
}

describe.skipIf(!addon)(`native UnitsPipeline${addon ? '' : ` (skipped: ${why})`}`, () => {
  const a = addon!;
  let dir: { path: string; cleanup: () => void };
  let fd: number;
  let file: string;
  beforeAll(() => {
    dir = tempDir();
    file = join(dir.path, 'f.bin');
    writeFileSync(file, data);
    fd = openSync(file, 'r');
  });
  afterAll(() => {
    closeSync(fd);
    dir.cleanup();
  });

  /** A pipeline whose deliveries are recorded in order; `settled(n)` resolves once n arrived. */
  function pipeline(threads: number) {
    const log: Array<{ id: number; error?: Error & { code?: string } }> = [];
    let want = Infinity;
    let wake: (() => void) | undefined;
    const pipe = new a.UnitsPipeline(threads, (id, error) => {
      log.push(error === undefined ? { id } : { id, error });
      if (log.length >= want) wake?.();
    });
    const settled = (n: number) =>
      new Promise<void>((resolve) => {
        want = n;
        wake = resolve;
        if (log.length >= n) resolve();
      });
    return { pipe, log, settled };
  }

  interface Submitted {
    id: number;
    spec: TaskSpec;
    buf: Uint8Array;
    out: Uint8Array;
  }

  const taskBuffer = (spec: TaskSpec) => new Uint8Array(a.alignedBuffer(spec.units.reduce((s, u) => s + u[1], 0) + SLACK)).fill(CANARY);

  function submit(pipe: Pipe, id: number, spec: TaskSpec, opt: { io?: string; kernel?: string; file?: number; buf?: Uint8Array } = {}): Submitted {
    const { io, kernel, file = fd, buf = taskBuffer(spec) } = opt;
    const out = new Uint8Array(32 * spec.units.length);
    const u = spec.units;
    pipe.submit(id, file, Float64Array.from(u, (x) => x[0]), Float64Array.from(u, (x) => x[1]), Uint8Array.from(u, (x) => x[2]), spec.algorithm, buf, out, kernel, io);
    return { id, spec, buf, out };
  }

  function expectRight(s: Submitted, what: string): void {
    let at = 0;
    s.spec.units.forEach((u, k) => {
      const [o, l] = u;
      expect(Buffer.from(s.buf.subarray(at, at + l)).equals(data.subarray(o, o + l)), `${what}: task ${s.id} unit ${k} bytes`).toBe(true);
      expect(hexAt(s.out, k), `${what}: task ${s.id} unit ${k} (${s.spec.algorithm} mode ${u[2]}, length ${l})`).toBe(expectedDigest(a, s.spec.algorithm, u));
      at += l;
    });
    expect(s.buf.subarray(at).every((b) => b === CANARY), `${what}: task ${s.id} wrote past its units`).toBe(true);
  }

  /** Closes the pipeline, lets any stray delivery arrive, and returns how often each id came. */
  async function closeAndCount(p: ReturnType<typeof pipeline>): Promise<Map<number, number>> {
    p.pipe.close();
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
    const counts = new Map<number, number>();
    for (const d of p.log) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
    return counts;
  }

  it.each([1, 2, 3])('12 mixed SHA-256 / BLAKE3 tasks submitted at once on %i thread(s): each delivered once, without error, bytes and digests right', async (threads) => {
    const p = pipeline(threads);
    const tasks = mixedTasks();
    // ids need not be small or dense: the pipeline hands back whatever number it was given
    const subs = tasks.map((spec, i) => submit(p.pipe, 1000 + 7 * i, spec));
    await p.settled(subs.length);
    const counts = await closeAndCount(p);
    expect(p.log.filter((d) => d.error)).toEqual([]);
    expect([...counts.entries()].sort((x, y) => x[0] - y[0])).toEqual(subs.map((s) => [s.id, 1]));
    // one thread takes the tasks in the order submitted and finishes each before the next
    if (threads === 1) expect(p.log.map((d) => d.id)).toEqual(subs.map((s) => s.id));
    for (const s of subs) expectRight(s, `${threads} thread(s)`);
  });

  it('every read path (io pread, map, map-memcpy, default) gives the same bytes and digests', async () => {
    const tasks = mixedTasks();
    const digests = new Map<string, string[]>();
    for (const io of [...IOS, undefined]) {
      const p = pipeline(2);
      const subs = tasks.map((spec, i) => submit(p.pipe, i, spec, { io }));
      await p.settled(subs.length);
      p.pipe.close();
      expect(p.log.filter((d) => d.error), `io ${io}`).toEqual([]);
      for (const s of subs) expectRight(s, `io ${io}`);
      digests.set(String(io), subs.map((s) => Buffer.from(s.out).toString('hex')));
    }
    const [first, ...rest] = [...digests.values()];
    for (const d of rest) expect(d).toEqual(first);
  });

  it.each(IOS)('a unit past the end of the file fails its task with FILE_CHANGED; the tasks before and after it succeed (io %s)', async (io) => {
    for (const threads of [1, 2]) {
      const p = pipeline(threads);
      const before = submit(p.pipe, 1, { algorithm: 'sha256', units: [[0, 200_000, 2], [5, 77, 0]] }, { io });
      // SHA-256: the second lane's unit runs 1 byte past the end; BLAKE3: a CV whose 2 KiB run past it
      const badSha = { algorithm: 'sha256' as const, units: [[4096, 131_072, 2], [SIZE - 10, 11, 2]] as UnitSpec[] };
      const badB3 = { algorithm: 'blake3' as const, units: [[0, 1024, 1], [Math.floor(SIZE / 1024) * 1024, 2048, 1]] as UnitSpec[] };
      submit(p.pipe, 2, badSha, { io });
      const middle = submit(p.pipe, 3, { algorithm: 'blake3', units: [[1024 * 1024, 1024 * 1024, 1]] }, { io });
      submit(p.pipe, 4, badB3, { io });
      const after = submit(p.pipe, 5, { algorithm: 'sha256', units: [[SIZE - 1, 1, 2]] }, { io });
      await p.settled(5);
      const counts = await closeAndCount(p);
      expect([...counts.values()], `threads ${threads}`).toEqual([1, 1, 1, 1, 1]);
      const byId = new Map(p.log.map((d) => [d.id, d.error]));
      for (const id of [2, 4]) {
        const e = byId.get(id);
        expect(e, `task ${id}, threads ${threads}`).toBeInstanceOf(Error);
        expect(e).toMatchObject({ code: 'FILE_CHANGED' });
      }
      for (const s of [before, middle, after]) {
        expect(byId.get(s.id), `task ${s.id}, threads ${threads}`).toBeUndefined();
        expectRight(s, `io ${io}, threads ${threads}`);
      }
    }
  });

  it('refuses bad arguments synchronously with BAD_ARGUMENT (TypeError / RangeError) and delivers nothing for them', async () => {
    const p = pipeline(2);
    const buf = new Uint8Array(a.alignedBuffer(4096));
    const ok = [fd, Float64Array.of(0), Float64Array.of(100), Uint8Array.of(2), 'sha256', buf, new Uint8Array(32)] as const;
    const call = (id: number, ...args: unknown[]) => (p.pipe.submit as unknown as (...x: unknown[]) => void)(id, ...args);
    const refused = (f: () => unknown, kind: ErrorConstructor, message: RegExp) => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, String(message)).toBeInstanceOf(kind);
      expect(err).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(message) });
    };
    // a plain Uint8Array: the threads may outlive it (process exit), only alignedBuffer memory is kept alive
    refused(() => call(1, fd, ok[1], ok[2], ok[3], 'sha256', new Uint8Array(4096), ok[6]), TypeError, /buffer must be an alignedBuffer/);
    refused(() => call(2, fd, ok[1], ok[2], ok[3], 'sha256', buf, new Uint8Array(31)), RangeError, /out must be 32 bytes per unit/);
    refused(() => call(3, fd, ok[1], ok[2], ok[3], 'sha256', buf, new Uint8Array(64)), RangeError, /out must be 32 bytes per unit/);
    refused(() => call(4, fd, ok[1], ok[2], Uint8Array.of(0), 'md5', buf, ok[6]), RangeError, /algorithm must be 'sha256' or 'blake3'/);
    refused(() => call(5, fd, ok[1], ok[2], Uint8Array.of(0), 7, buf, ok[6]), TypeError, /algorithm must be/);
    refused(() => call(6, ...ok.slice(0, 6)), TypeError, /needs 8 arguments/);
    refused(() => call(7, fd, ok[1], ok[2], ok[3], 'sha256', buf, ok[6], undefined, 'mmap'), RangeError, /io must be/);
    // kernel is the 9th argument, io the 10th (an addon that read them one place later ignored the kernel)
    refused(() => call(10, ...ok, 'nope'), RangeError, /'nope' is not a SHA-256 kernel/);
    refused(() => call(11, ...ok, undefined, 3), TypeError, /io must be/);
    refused(() => (p.pipe.submit as unknown as (...x: unknown[]) => void)('8', ...ok), TypeError, /id must be a number/);
    const ctor = a.UnitsPipeline as unknown as new (...x: unknown[]) => Pipe;
    let called = 0;
    const spy = () => void called++;
    refused(() => new ctor(0, spy), RangeError, /threads must be an integer from 1 to 256/);
    refused(() => new ctor(257, spy), RangeError, /threads must be an integer from 1 to 256/);
    refused(() => new ctor(2, 'not a function'), TypeError, /done must be a function/);
    refused(() => new ctor(2), TypeError, /done must be a function/);
    // the same pipeline still takes a good task, and only that one is ever delivered
    const good = submit(p.pipe, 9, { algorithm: 'sha256', units: [[0, 100, 2]] });
    await p.settled(1);
    const counts = await closeAndCount(p);
    expect([...counts.entries()]).toEqual([[9, 1]]);
    expect(p.log[0]!.error).toBeUndefined();
    expectRight(good, 'after refused calls');
    expect(called).toBe(0);
  });

  it('close() with tasks queued: each delivered once, ok (in order, digests right) or ABORTED; submit afterwards throws ABORTED; close twice is fine', async () => {
    // One thread, 20 tasks of 4 MiB with the scalar SHA-256 kernel (the slowest, several ms per
    // task): close() right after submitting stops the thread after the item it is hashing.
    const big = join(dir.path, 'four.bin');
    const fourMiB = 4 << 20;
    const bigData = Buffer.concat([data, data.subarray(0, fourMiB - SIZE)]);
    writeFileSync(big, bigData);
    const bfd = openSync(big, 'r');
    try {
      const p = pipeline(1);
      const spec: TaskSpec = { algorithm: 'sha256', units: [[0, fourMiB, 2]] };
      const want = createHash('sha256').update(Buffer.from([0])).update(bigData).digest('hex');
      // buffers first, so that nothing but the submits runs between the first submit and close()
      const bufs = Array.from({ length: 20 }, () => taskBuffer(spec));
      const subs = bufs.map((buf, i) => submit(p.pipe, i, spec, { io: 'pread', kernel: 'scalar', file: bfd, buf }));
      p.pipe.close();
      await p.settled(20);
      p.pipe.close();
      let err: unknown;
      try {
        submit(p.pipe, 99, spec, { file: bfd });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'ABORTED' });
      const counts = await closeAndCount(p);
      expect([...counts.entries()].sort((x, y) => x[0] - y[0])).toEqual(subs.map((s) => [s.id, 1]));
      const outcome = new Map(p.log.map((d) => [d.id, d.error ? d.error.code : 'ok']));
      expect([...outcome.values()].every((c) => c === 'ok' || c === 'ABORTED'), JSON.stringify([...outcome])).toBe(true);
      // one thread takes tasks in order: the finished ones are a prefix, the aborted the rest
      const codes = subs.map((s) => outcome.get(s.id));
      const firstAborted = codes.indexOf('ABORTED');
      expect(firstAborted, 'no task was aborted: close() did not stop the queue').toBeGreaterThanOrEqual(0);
      expect(codes.slice(firstAborted).every((c) => c === 'ABORTED'), codes.join(' ')).toBe(true);
      for (const s of subs.slice(0, firstAborted)) {
        expect(hexAt(s.out, 0)).toBe(want);
        expect(Buffer.from(s.buf.subarray(0, fourMiB)).equals(bigData)).toBe(true);
      }
      for (const d of p.log) if (d.error) expect(d.error).toBeInstanceOf(Error);
    } finally {
      closeSync(bfd);
    }
  });

  describe('in a child process', () => {
    const run = (name: string, script: string, args: string[] = []) => {
      const path = join(dir.path, name);
      writeFileSync(path, script);
      return spawnSync(process.execPath, [...args, path, (load as { path: string }).path, file], { encoding: 'utf8', timeout: 60_000 });
    };
    const expectClean = (r: ReturnType<typeof spawnSync>, status: number, stdout: string) => {
      expect(r.error, 'spawn error or timeout').toBeUndefined();
      expect(r.stderr).not.toMatch(/terminate called|Aborted|FATAL|core dumped/);
      expect({ status: r.status, signal: r.signal, stdout: String(r.stdout).trim() }).toEqual({ status, signal: null, stdout });
    };

    it('an open, idle pipeline (never used, or after its tasks were delivered) does not keep the process alive', () => {
      const r = run(
        'idle.cjs',
        `
const [addonPath, file] = process.argv.slice(2);
const a = require(addonPath);
const fd = require('node:fs').openSync(file, 'r');
globalThis.unused = new a.UnitsPipeline(2, () => {});
const used = new a.UnitsPipeline(2, (id, e) => console.log('done', id, e ? e.code : 'ok'));
globalThis.used = used;
used.submit(1, fd, Float64Array.of(0), Float64Array.of(1 << 20), Uint8Array.of(2), 'sha256', new Uint8Array(a.alignedBuffer(1 << 20)), new Uint8Array(32));
`,
      );
      expectClean(r, 0, 'done 1 ok');
    });

    it('process.exit(3) with tasks in flight exits with 3, without an abort', () => {
      for (let round = 0; round < 3; round++) {
        const r = run(
          'exit.cjs',
          `
const [addonPath, file] = process.argv.slice(2);
const a = require(addonPath);
const fd = require('node:fs').openSync(file, 'r');
const n = 3 << 20;
const p = new a.UnitsPipeline(2, () => {});
for (let i = 0; i < 24; i++)
  p.submit(i, fd, Float64Array.of(0, 1024), Float64Array.of(n - 1024, 1024), Uint8Array.of(0, 0), i % 2 ? 'blake3' : 'sha256', new Uint8Array(a.alignedBuffer(n)), new Uint8Array(64), undefined, ${JSON.stringify(IOS[round])});
console.log('submitted');
process.exit(3);
`,
        );
        expectClean(r, 3, 'submitted');
      }
    });

    it('a pipeline dropped without close() is collected (tasks still delivered) and the process exits 0', () => {
      const r = run(
        'gc.cjs',
        `
const [addonPath, file] = process.argv.slice(2);
const a = require(addonPath);
const fd = require('node:fs').openSync(file, 'r');
const gone = new Set();
const collected = new FinalizationRegistry((what) => gone.add(what));
let delivered = 0;
process.on('exit', () => console.log('delivered', delivered));
function drop(what, tasks) {
  const p = new a.UnitsPipeline(2, (id, e) => { if (!e || e.code === 'ABORTED') delivered++; else console.log('error', e.code); });
  for (let i = 0; i < tasks; i++)
    p.submit(i, fd, Float64Array.of(0), Float64Array.of(1 << 20), Uint8Array.of(0), 'blake3', new Uint8Array(a.alignedBuffer(1 << 20)), new Uint8Array(32));
  collected.register(p, what);
}
(async () => {
  drop('idle', 0);
  drop('busy', 6);
  // collection is not promised after one gc(): keep collecting, yielding so finalizers run
  for (let i = 0; i < 50 && gone.size < 2; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log('collected', [...gone].sort().join(' '));
})();
`,
        ['--expose-gc'],
      );
      const lines = String(r.stdout).trim().split('\n').sort();
      expect(lines).toEqual(['collected busy idle', 'delivered 6']);
      expectClean(r, 0, String(r.stdout).trim());
    });
  });
});
