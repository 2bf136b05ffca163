/**
 * The one reader of every input file that is not a bundle (keys, certificates, policies,
 * attestations, collateral, evidence, receipts, trusted roots). Inputs are hostile: only a regular
 * file is read (a FIFO would block, `/dev/zero` never ends, a directory is a mistake), its size is
 * capped per kind (docs/limits.md), and it is read in bounded steps that stop at the cap even if the
 * file grows while being read. The open is non-blocking, so a FIFO is refused at once instead of
 * waiting for a writer. Links are followed (keys are often mounted as links, e.g. Kubernetes secrets).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

/** The kinds of input files and their size caps, in bytes. */
export const INPUT_CAP_BYTES = {
  key: 1 << 20,
  certificate: 4 << 20,
  policy: 1 << 20,
  'trusted-root': 16 << 20,
  attestation: 16 << 20,
  evidence: 16 << 20,
  rim: 4 << 20,
  collateral: 16 << 20,
  receipt: 16 << 20,
} as const;

export type InputKind = keyof typeof INPUT_CAP_BYTES;

const READ_STEP_BYTES = 1 << 20;

function mib(n: number): string {
  return `${n / (1 << 20)} MiB`;
}

/**
 * Reads a whole input file of `kind`. Throws an InputError (exit 2) for a path that is not a regular
 * file (INPUT_NOT_REGULAR) or is larger than the kind's cap (INPUT_TOO_LARGE); open and read failures
 * keep their errno `code` (ENOENT, EACCES, ...) so callers can word "not found" their own way.
 */
export function readInputFile(path: string, kind: InputKind): Buffer {
  if (typeof path !== 'string' || path.length === 0) throw new InputError('INPUT_PATH_EMPTY', `the ${kind} path is empty; give a file name.`);
  const cap = INPUT_CAP_BYTES[kind];
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
      throw new InputError('INPUT_NOT_REGULAR', `${path} is ${what}; the ${kind} must be a regular file.`);
    }
    if (st.size > cap) throw tooLarge(path, kind, cap);
    // read up to cap + 1 bytes whatever fstat said: a file that grows is caught by the cap too
    const buf = Buffer.allocUnsafe(Math.min(cap + 1, Math.max(st.size + 1, 4096)));
    let got = 0;
    let out = buf;
    for (;;) {
      if (got === out.length) {
        if (out.length > cap) throw tooLarge(path, kind, cap);
        const bigger = Buffer.allocUnsafe(Math.min(cap + 1, out.length * 2));
        out.copy(bigger, 0, 0, got);
        out = bigger;
      }
      const n = readSync(fd, out, got, Math.min(READ_STEP_BYTES, out.length - got), null);
      if (n === 0) break;
      got += n;
    }
    if (got > cap) throw tooLarge(path, kind, cap);
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** {@link readInputFile} decoded as UTF-8. */
export function readInputText(path: string, kind: InputKind): string {
  return readInputFile(path, kind).toString('utf8');
}

function tooLarge(path: string, kind: InputKind, cap: number): InputError {
  return new InputError('INPUT_TOO_LARGE', `${path} is larger than ${mib(cap)}, the limit for a ${kind} file; check that it is the right file.`);
}

/**
 * Reads up to `size` bytes of the open file `fd` from offset 0 (the size its caller checked against
 * its cap with fstat), stopping early at end of file; a file that grows meanwhile is not read past
 * `size`.
 */
function readOpenFile(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** How a caller of {@link readCappedFile} words its failures (each input kind has its own codes). */
export interface CappedFileErrors {
  /** The open failed; `e.code` is the errno name (ENOENT, EACCES, ...). */
  open(e: NodeJS.ErrnoException): Error;
  notRegular(): Error;
  tooLarge(size: number): Error;
}

/**
 * Reads a whole regular file of at most `capBytes` (checked with fstat before reading), for inputs
 * that carry their own error codes: bundles, manifest files, bench reports. Other inputs use
 * {@link readInputFile}. `openFlags` are added to O_RDONLY.
 */
export function readCappedFile(path: string, capBytes: number, errors: CappedFileErrors, openFlags = 0): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | openFlags);
  } catch (e) {
    throw errors.open(e as NodeJS.ErrnoException);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw errors.notRegular();
    if (st.size > capBytes) throw errors.tooLarge(st.size);
    return readOpenFile(fd, st.size);
  } finally {
    closeSync(fd);
  }
}
