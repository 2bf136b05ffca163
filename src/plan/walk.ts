/**
 * Walks a model the way the OMS reference tool does: every regular file under the root (dotfiles
 * included), top-level git paths and user paths ignored by path-component prefix, symlinks refused
 * unless allowed (then file links are followed, but never outside the root; directory links are
 * skipped, as the reference does), and the reference order (path components by code point).
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { GIT_IGNORE_PATHS, comparePaths } from '../manifest/oms.js';
import { displayPath } from '../io/display-path.js';

export interface WalkOptions {
  /** Paths to ignore: absolute, or relative to the model root. */
  ignorePaths?: string[];
  /** Apply the OMS default git ignores at the root (default true). */
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
}

export interface WalkedFile {
  /** POSIX path relative to the model root; '.' for a single-file model. */
  rel: string;
  /** Absolute path to read (the link's target for followed symlinks). */
  abs: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export interface WalkResult {
  root: string;
  /** Model (subject) name: the basename of the directory or file. */
  modelName: string;
  singleFile: boolean;
  /** In the reference order. */
  files: WalkedFile[];
  /** Ignore paths as recorded in the manifest: POSIX, relative to the root, sorted. */
  ignorePaths: string[];
}

function fileRecord(rel: string, abs: string, st: Stats): WalkedFile {
  return { rel, abs, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

function ioError(fullPath: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const path = displayPath(fullPath);
  if (code === 'ENOENT') return new InputError('MODEL_NOT_FOUND', `${path} does not exist; check the model path.`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new InputError('FILE_UNREADABLE', `${path} is not readable (permission denied); fix its permissions or ignore it with --ignore-path.`, { cause: e });
  if (code === 'ENAMETOOLONG' || code === 'ELOOP') {
    return new InputError('PATH_TOO_DEEP', `${path} is nested too deeply for the system to open (${code}); flatten the model or ignore that directory with --ignore-path.`, { cause: e });
  }
  // the errno text repeats the path: print the code instead
  return new InputError('IO_ERROR', `cannot read ${path}: ${code ?? (e as Error).message}.`, { cause: e });
}

/** Turns user ignore paths into POSIX paths relative to the root; paths outside the root are dropped. */
function normalizeIgnorePaths(root: string, paths: string[], ignoreGit: boolean): string[] {
  const out = new Set<string>(ignoreGit ? GIT_IGNORE_PATHS : []);
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : resolve(root, p);
    const rel = relative(root, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    out.add(rel.split(sep).join('/'));
  }
  return [...out].sort(comparePaths);
}

function isIgnored(rel: string, ignores: string[]): boolean {
  for (const ig of ignores) if (rel === ig || rel.startsWith(ig + '/')) return true;
  return false;
}

export function walkModel(modelPath: string, options: WalkOptions = {}): WalkResult {
  if (typeof modelPath !== 'string' || modelPath.length === 0) {
    throw new InputError('MODEL_PATH_EMPTY', 'the model path is empty; give the model directory or file.');
  }
  const given = resolve(modelPath);
  let st: Stats;
  try {
    st = statSync(given);
  } catch (e) {
    throw ioError(modelPath, e);
  }
  const root = realpathSync(given);
  const modelName = basename(given) || basename(root);
  if (st.isFile()) {
    return { root, modelName, singleFile: true, files: [fileRecord('.', root, st)], ignorePaths: [] };
  }
  if (!st.isDirectory()) {
    throw new InputError('UNSUPPORTED_FILE_TYPE', `${modelPath} is neither a file nor a directory.`);
  }
  const ignorePaths = normalizeIgnorePaths(root, options.ignorePaths ?? [], options.ignoreGitPaths !== false);
  const files: WalkedFile[] = [];
  const visit = (dirAbs: string, dirRel: string): void => {
    let entries;
    try {
      entries = readdirSync(dirAbs, { withFileTypes: true });
    } catch (e) {
      throw ioError(join(dirAbs), e);
    }
    for (const ent of entries) {
      const rel = dirRel === '' ? ent.name : `${dirRel}/${ent.name}`;
      if (isIgnored(rel, ignorePaths)) continue;
      const abs = join(dirAbs, ent.name);
      if (ent.name.includes('\uFFFD')) {
        throw new InputError('NAME_NOT_UTF8', `${abs} has a name that is not valid UTF-8; OMS resource names must be UTF-8. Rename it or ignore it with --ignore-path.`);
      }
      if (ent.isSymbolicLink()) {
        if (!options.allowSymlinks) {
          throw new InputError('SYMLINK_REFUSED', `${rel} is a symbolic link; links are refused by default. Pass --allow-symlinks to follow file links inside the model, or --ignore-path ${rel}.`);
        }
        let target: string;
        let tst: Stats;
        try {
          target = realpathSync(abs);
          tst = statSync(target);
        } catch (e) {
          throw new InputError('SYMLINK_BROKEN', `${rel} is a broken symbolic link; remove it or ignore it with --ignore-path.`, { cause: e });
        }
        const inside = relative(root, target);
        if (inside.startsWith('..') || isAbsolute(inside)) {
          throw new InputError('SYMLINK_ESCAPES', `${rel} links outside the model (${target}); links may only point inside the model root.`);
        }
        if (tst.isDirectory()) continue; // the reference does not descend into linked directories
        if (!tst.isFile()) throw new InputError('UNSUPPORTED_FILE_TYPE', `${rel} links to something that is not a regular file.`);
        files.push(fileRecord(rel, target, tst));
        continue;
      }
      if (ent.isDirectory()) {
        visit(abs, rel);
        continue;
      }
      if (!ent.isFile()) {
        throw new InputError('UNSUPPORTED_FILE_TYPE', `${rel} is not a regular file (socket, FIFO or device); remove it or ignore it with --ignore-path.`);
      }
      let fst: Stats;
      try {
        fst = lstatSync(abs);
      } catch (e) {
        throw ioError(abs, e);
      }
      files.push(fileRecord(rel, abs, fst));
    }
  };
  visit(root, '');
  files.sort((a, b) => comparePaths(a.rel, b.rel));
  return { root, modelName, singleFile: false, files, ignorePaths };
}
