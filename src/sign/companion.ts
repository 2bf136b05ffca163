/**
 * The Merkle companion on the signing side: reads each signed file once in leaf-size blocks, builds
 * the per-file trees (RFC 9162 SHA-256 leaves, or BLAKE3 subtree CVs), checks them against the OMS
 * manifest just signed where the digest allows (BLAKE3: the merged CVs are the file digest; SHA-256
 * files: a whole-file SHA-256 in the same read), signs the companion statement with the bundle's
 * signer and writes `<bundle>.merkle` and its sidecar `<bundle>.merkle.tree` atomically.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, ModelsealError } from '../errors.js';
import { blake3LeafHasher, leafEntry, leafCount, readRfc9162Leaves, sidecarEntries, treeRoot, type MerkleTree } from '../engine/merkle.js';
import { companionToStatement, encodeSidecar, type Companion, type CompanionFile } from '../manifest/companion.js';
import { parseShardName } from '../manifest/oms.js';
import type { Manifest } from '../manifest/types.js';
import type { MerkleLeaves } from '../engine/types.js';
import { serializeBundle, type SigstoreBundleJson } from './bundle.js';
import { signStatement, type Signer } from './signer.js';

/** Companion paths beside a bundle. */
export function companionPaths(bundlePath: string): { companion: string; sidecar: string } {
  return { companion: `${bundlePath}.merkle`, sidecar: `${bundlePath}.merkle.tree` };
}

export interface BuiltCompanion {
  companion: Companion;
  bundle: SigstoreBundleJson;
  sidecar: Buffer;
  /** Bytes read and seconds spent building the trees (the documented cost of SHA-256 leaves). */
  bytes: number;
  seconds: number;
}

/** Files of a manifest with their signed sizes (shards: the last shard's end) and OMS digests. */
function manifestFiles(m: Manifest): Array<{ name: string; size: number | undefined; digest: string | undefined }> {
  if (m.serialization.method === 'files') return m.resources.map((r) => ({ name: r.name, size: undefined, digest: r.digest }));
  const by = new Map<string, number>();
  for (const r of m.resources) {
    const s = parseShardName(r.name)!;
    by.set(s.path, Math.max(by.get(s.path) ?? 0, s.end));
  }
  return [...by].map(([name, size]) => ({ name, size, digest: undefined }));
}

/**
 * Builds and signs the companion of `manifest` for the model at `modelPath`, in one read of each
 * file. Throws FILE_CHANGED when a file no longer matches what the OMS bundle just signed.
 */
export async function buildCompanion(modelPath: string, manifest: Manifest, signer: Signer, leafSize: number, signal?: AbortSignal): Promise<BuiltCompanion> {
  const t0 = performance.now();
  const root = resolve(modelPath);
  const isFile = statSync(root).isFile();
  const blake3Files = manifest.serialization.hashType === 'blake3' && manifest.serialization.method === 'files';
  const tree: MerkleTree = blake3Files ? 'blake3-outboard' : 'rfc9162-sha256';
  const hasher = blake3Files ? await blake3LeafHasher() : undefined;
  const sha256Files = manifest.serialization.hashType === 'sha256' && manifest.serialization.method === 'files';
  const buf = Buffer.allocUnsafe(leafSize);
  const files: CompanionFile[] = [];
  const entries: Uint8Array[][] = [];
  let bytes = 0;
  for (const f of manifestFiles(manifest)) {
    signal?.throwIfAborted();
    const abs = isFile ? root : join(root, ...f.name.split('/'));
    let fd: number;
    try {
      fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      throw new InputError('FILE_CHANGED', `${f.name} could not be opened after hashing (${(e as Error).message}); the model changed while being signed.`, { cause: e });
    }
    try {
      const size = fstatSync(fd).size;
      if (f.size !== undefined && size !== f.size) throw changed(f.name);
      const whole = sha256Files ? createHash('sha256') : undefined;
      const list: Uint8Array[] = [];
      const n = leafCount(size, leafSize);
      const keep = sidecarEntries(tree, size, leafSize) > 0;
      for (let i = 0; i < n; i++) {
        const off = i * leafSize;
        const len = Math.min(leafSize, size - off);
        let got = 0;
        while (got < len) {
          const k = readSync(fd, buf, got, len - got, off + got);
          if (k === 0) throw changed(f.name);
          got += k;
        }
        const data = buf.subarray(0, len);
        whole?.update(data);
        if (keep) list.push(leafEntry(tree, data, off, hasher));
        bytes += len;
      }
      let rootHex: string;
      if (tree === 'blake3-outboard') {
        rootHex = list.length > 0 ? treeRoot(tree, list).toString('hex') : f.digest!;
        if (rootHex !== f.digest) throw changed(f.name);
      } else {
        rootHex = treeRoot(tree, list).toString('hex');
        if (whole && whole.digest('hex') !== f.digest) throw changed(f.name);
      }
      files.push({ name: f.name, size, leafSize, tree, root: rootHex });
      entries.push(list);
    } catch (e) {
      if (e instanceof ModelsealError) throw e;
      throw new InputError('FILE_UNREADABLE', `${f.name}: ${(e as Error).message}.`, { cause: e });
    } finally {
      closeSync(fd);
    }
  }
  const companion: Companion = { omsRoot: manifest.rootDigest, modelName: manifest.modelName, files };
  const bundle = signStatement(companionToStatement(companion), signer);
  return { companion, bundle, sidecar: encodeSidecar(entries), bytes, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Builds and signs the companion of `manifest` from the leaves the hashing pass emitted
 * (`hashModel(…, { merkleLeafBytes })`): no second pass. The few leaves the pass could not emit (GPU
 * lanes, leaves cut by a shard edge) are read here, one leaf each. BLAKE3 outboards are still checked
 * against the OMS digests (a merge of CVs, no hashing of bytes). The result is bit-identical to
 * {@link buildCompanion}'s (test/loadtime/onepass.test.ts).
 */
export async function buildCompanionFromLeaves(modelPath: string, manifest: Manifest, merkle: MerkleLeaves, signer: Signer, signal?: AbortSignal): Promise<BuiltCompanion> {
  const t0 = performance.now();
  const root = resolve(modelPath);
  const isFile = statSync(root).isFile();
  const leafSize = merkle.leafBytes;
  const byName = new Map(merkle.files.map((f) => [f.rel, f]));
  const files: CompanionFile[] = [];
  const entries: Uint8Array[][] = [];
  let bytes = 0;
  for (const f of manifestFiles(manifest)) {
    signal?.throwIfAborted();
    const m = byName.get(f.name);
    if (!m || (f.size !== undefined && m.size !== f.size)) throw changed(f.name);
    const missing = m.entries.flatMap((e, i) => (e === undefined ? [i] : []));
    if (missing.length > 0) {
      if (merkle.tree !== 'rfc9162-sha256') throw changed(f.name);
      bytes += readRfc9162Leaves(isFile ? root : join(root, ...f.name.split('/')), f.name, m.size, leafSize, missing, m.entries, {
        open: (e) => new InputError('FILE_CHANGED', `${f.name} could not be opened after hashing (${e.message}); the model changed while being signed.`, { cause: e }),
        changed: () => changed(f.name),
      });
    }
    const list = m.entries as Uint8Array[];
    let rootHex: string;
    if (merkle.tree === 'blake3-outboard') {
      rootHex = list.length > 0 ? treeRoot(merkle.tree, list).toString('hex') : f.digest!;
      if (rootHex !== f.digest) throw changed(f.name);
    } else {
      rootHex = treeRoot(merkle.tree, list).toString('hex');
    }
    files.push({ name: f.name, size: m.size, leafSize, tree: merkle.tree, root: rootHex });
    entries.push(list);
  }
  const companion: Companion = { omsRoot: manifest.rootDigest, modelName: manifest.modelName, files };
  const bundle = signStatement(companionToStatement(companion), signer);
  return { companion, bundle, sidecar: encodeSidecar(entries), bytes, seconds: (performance.now() - t0) / 1000 };
}

function changed(name: string): InputError {
  return new InputError('FILE_CHANGED', `${name} changed while the model was being signed; sign again once nothing writes to the model.`);
}

/** Serialized companion bundle text. */
export function serializeCompanion(b: BuiltCompanion): string {
  return serializeBundle(b.bundle);
}
