/**
 * The one writer of every output file (bundles, attestations, receipts, evidence envelopes): a
 * reader never sees a partial file and nothing partial is left behind.
 *
 * - The bytes go to a temporary file beside the target (same file system, so the final step is an
 *   atomic link or rename), written in a loop until done (a short write is continued, never
 *   ignored), fsync'ed, then linked into place (no-clobber) or renamed over it (`force`).
 * - `force` replaces a regular file only: a device node, FIFO, directory or symbolic link at the
 *   target is refused, so `-o /dev/full --force` cannot replace a device with a file.
 * - Out of space (ENOSPC, EDQUOT) and I/O errors (EIO) are input errors (exit 2) with a sentence.
 * - The temporary file is removed on every failure path, on process exit and on SIGINT/SIGTERM/SIGHUP
 *   (the handler removes it, then lets the signal take its usual course).
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError, ModelsealError } from '../errors.js';
import type { InputCode } from '../error-codes.js';

export interface WriteOutputOptions {
  /** Replace an existing regular file (never anything else). */
  force?: boolean;
  /** What is written, for messages ("the bundle", "the attestation"). */
  what?: string;
  /** Error code when the target exists and `force` is not set (default OUTPUT_EXISTS). */
  existsCode?: InputCode;
  /** Error code for other write failures (default OUTPUT_UNWRITABLE). */
  failCode?: InputCode;
  /** File mode of a new file (default 0o644). */
  mode?: number;
}

const pendingTemps = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooked = false;

function removeTemps(): void {
  for (const t of pendingTemps) {
    try {
      fs.unlinkSync(t);
    } catch {
      /* already gone */
    }
  }
  pendingTemps.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  removeTemps();
  // Nobody else handles this signal: restore the default action and raise it again, so the process
  // ends the way it would have without us (exit status 128 + signal).
  if (process.listenerCount(sig) === 1) {
    unhook();
    process.kill(process.pid, sig);
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeTemps);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.removeListener('exit', removeTemps);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * Removes the temporary files of writes in progress. For a caller that ends the process itself on a
 * signal (the CLI dies by SIGINT at once): its handler may run before this module's own.
 */
export function removePendingOutputs(): void {
  removeTemps();
}

/** Temporary files of writes in progress (tests check that none is left). */
export function pendingOutputTemps(): readonly string[] {
  return [...pendingTemps];
}

function describeType(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Maps a write-side errno to an exit-2 error with a sentence. */
export function outputError(path: string, e: unknown, o: WriteOutputOptions): ModelsealError {
  if (e instanceof ModelsealError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const what = o.what ?? 'the output';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new InputError('OUTPUT_NO_SPACE', `no space left to write ${what} ${path} (the disk or quota is full); free some space or write elsewhere. Nothing was written.`, { cause: e });
  }
  if (code === 'EIO') return new InputError('OUTPUT_IO_ERROR', `an I/O error occurred while writing ${what} ${path}; check the disk. Nothing was written.`, { cause: e });
  if (code === 'EROFS') return new InputError(o.failCode ?? 'OUTPUT_UNWRITABLE', `cannot write ${what} ${path}: the file system is read-only; write elsewhere.`, { cause: e });
  if (code === 'ENOENT') return new InputError(o.failCode ?? 'OUTPUT_UNWRITABLE', `cannot write ${what} ${path}: its directory ${dirname(path)} does not exist.`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new InputError(o.failCode ?? 'OUTPUT_UNWRITABLE', `cannot write ${what} ${path}: permission denied in ${dirname(path)}.`, { cause: e });
  return new InputError(o.failCode ?? 'OUTPUT_UNWRITABLE', `cannot write ${what} ${path}: ${(e as Error)?.message ?? String(e)}.`, { cause: e });
}

function exists(path: string, o: WriteOutputOptions): InputError {
  return new InputError(o.existsCode ?? 'OUTPUT_EXISTS', `${path} already exists; it is replaced only when asked to (force, --force on the command line), or write to another path.`);
}

/** Refuses an empty path and, unless `force` on a regular file, an existing target. */
export function checkOutputTarget(path: string, o: WriteOutputOptions = {}): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InputError('OUTPUT_PATH_EMPTY', `the output path for ${o.what ?? 'the output'} is empty; give a file name.`);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw outputError(path, e, o);
  }
  if (!st.isFile()) {
    throw new InputError('OUTPUT_NOT_REGULAR', `${path} is ${describeType(st)}; only a regular file is ever replaced. Write to another path.`);
  }
  if (!o.force) throw exists(path, o);
}

/** Writes all of `buf` to `fd`, continuing after short writes; a write of 0 bytes is out of space. */
export function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error('no progress writing (device full?)'), { code: 'ENOSPC' });
    off += n;
  }
}

/**
 * Writes `data` to `path` atomically (see the module comment). Throws a ModelsealError (exit 2) for
 * an existing target without `force`, a target that is not a regular file, no space, I/O errors.
 */
export function writeOutputFile(path: string, data: string | Uint8Array, options: WriteOutputOptions = {}): void {
  checkOutputTarget(path, options);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  hook();
  try {
    fd = fs.openSync(tmp, 'wx', options.mode ?? 0o644);
    pendingTemps.add(tmp);
    writeAll(fd, buf);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (options.force) {
      checkOutputTarget(path, options); // the target may have changed while we wrote
      fs.renameSync(tmp, path);
    } else {
      try {
        fs.linkSync(tmp, path); // EEXIST instead of replacing: no race with a concurrent writer
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw exists(path, options);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
        // file systems without hard links: check, then rename
        checkOutputTarget(path, options);
        fs.renameSync(tmp, path);
        pendingTemps.delete(tmp);
        return;
      }
      fs.unlinkSync(tmp);
    }
    pendingTemps.delete(tmp);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* renamed, or never created */
    }
    pendingTemps.delete(tmp);
    throw outputError(path, e, options);
  } finally {
    // A signal that arrived during the synchronous write is dispatched before setImmediate callbacks:
    // keep the handlers until then, so it still finds them (and re-raises).
    if (pendingTemps.size === 0) setImmediate(() => pendingTemps.size === 0 && unhook());
  }
}
