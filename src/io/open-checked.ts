/**
 * Opening a model file for hashing without trusting the path a second time. The walk recorded what
 * each file was (device, inode, regular file); between the walk and the read a hostile or careless
 * writer can swap the path for a symbolic link to a file outside the model, a FIFO or a directory.
 * So every reader opens with O_NOFOLLOW (a link in the last component fails instead of being
 * followed) and O_NONBLOCK (opening a FIFO returns at once instead of waiting for a writer), then
 * checks the opened descriptor itself with fstat: a regular file with the walk's device and inode.
 */
import { closeSync, constants, fstatSync, openSync, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ModelsealError } from '../errors.js';

/** What the walk saw of a file: compared with the opened descriptor before any byte is read. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** Read-only, no link following, no blocking on FIFOs (libuv adds O_CLOEXEC itself). */
export const OPEN_CHECKED_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A file that is no longer what the walk recorded: exit 2, hash again once the model is stable. */
export function fileReplaced(path: string, what: string): ModelsealError {
  return new ModelsealError('FILE_CHANGED', `${path} was replaced (${what}) after the model was listed; hash again once the model is stable.`);
}

/** The error for a failed open of a model file (ELOOP: the path became a symbolic link). */
export function openError(path: string, e: unknown): ModelsealError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK') return fileReplaced(path, 'it is now a symbolic link');
  if (code === 'ENOENT') return new ModelsealError('FILE_NOT_FOUND', `${path} disappeared while the model was being hashed.`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new ModelsealError('FILE_UNREADABLE', `${path} is not readable (permission denied); fix its permissions or ignore it.`, { cause: e });
  if (code === 'EISDIR') return new ModelsealError('UNSUPPORTED_FILE_TYPE', `${path} is a directory, not a file.`, { cause: e });
  if (code === 'ENXIO') return new ModelsealError('UNSUPPORTED_FILE_TYPE', `${path} is not a regular file (a FIFO or socket).`, { cause: e });
  return new ModelsealError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}

/** Throws unless `st` is a regular file with the expected identity. */
export function checkOpened(path: string, st: Stats, expect: FileIdentity | undefined): void {
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
    if (expect) throw fileReplaced(path, `it is now ${kind}`);
    throw new ModelsealError('UNSUPPORTED_FILE_TYPE', `${path} is not a regular file (${kind}).`);
  }
  if (expect && (st.dev !== expect.dev || st.ino !== expect.ino)) throw fileReplaced(path, 'it is now a different file');
}

/** The identity of a leaf, when the plan carried one. */
export function identityOf(leaf: { dev?: number; ino?: number }): FileIdentity | undefined {
  return leaf.dev !== undefined && leaf.ino !== undefined ? { dev: leaf.dev, ino: leaf.ino } : undefined;
}

/** Opens `path` for hashing (see the module comment); the descriptor is closed on any failure. */
export function openChecked(path: string, expect?: FileIdentity): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_CHECKED_FLAGS);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    checkOpened(path, fstatSync(fd), expect);
  } catch (e) {
    closeSync(fd);
    throw e instanceof ModelsealError ? e : openError(path, e);
  }
  return fd;
}

/** {@link openChecked} for promise-based readers (the WebGPU backend). */
export async function openCheckedAsync(path: string, expect?: FileIdentity): Promise<FileHandle> {
  let h: FileHandle;
  try {
    // fs.promises on use: every CPU reader imports this module, and node:fs/promises (streams,
    // readline) cost ~0.8 ms of each start-up for the WebGPU reader alone
    h = await fsp.open(path, OPEN_CHECKED_FLAGS);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    checkOpened(path, await h.stat(), expect);
  } catch (e) {
    await h.close();
    throw e instanceof ModelsealError ? e : openError(path, e);
  }
  return h;
}
