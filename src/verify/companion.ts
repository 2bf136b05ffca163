/**
 * The Merkle companion on the verifying side: its signature (the same trust as the OMS bundle, and
 * the same signer), its subject (the verified OMS root), its consistency with the OMS manifest, and
 * the unsigned sidecar, whose per-file entries are accepted only once they reproduce the signed root.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, ModelsealError, VerificationError } from '../errors.js';
import { sidecarEntries, treeRoot } from '../engine/merkle.js';
import { COMPANION_PREDICATE_TYPE, parseCompanionPayload, SIDECAR_MAGIC, type Companion, type CompanionFile } from '../manifest/companion.js';
import { parseShardName } from '../manifest/oms.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../manifest/statement.js';
import type { Manifest } from '../manifest/types.js';
import { readBundleFile, verifyBundleSignature, type SignerInfo, type TrustOptions } from './signature.js';

/** Largest sidecar accepted (32 bytes per leaf: 1 GiB is a 32 TiB model at 1 MiB leaves). */
export const MAX_SIDECAR_BYTES = 1024 * 1024 * 1024;

export { findCompanion } from './bundle-file.js';

/** A companion whose signature, subject and manifest consistency have been checked. */
export interface VerifiedCompanion {
  path: string;
  sidecarPath: string;
  companion: Companion;
  byName: Map<string, { file: CompanionFile; index: number; entryOffset: number; entries: number }>;
  sidecarBytes: number;
}

/**
 * Verifies a companion against the OMS verdict: `omsSigner` is the signer of the verified OMS bundle
 * and `manifest` its manifest. Throws COMPANION_SIGNATURE_INVALID (signed by someone else, or
 * altered), COMPANION_SUBJECT_MISMATCH (made for another model), COMPANION_INCONSISTENT (disagrees
 * with the OMS manifest), SIDECAR_TRUNCATED / SIDECAR_MALFORMED.
 */
export async function verifyCompanion(path: string, trust: TrustOptions, omsSigner: SignerInfo, manifest: Manifest): Promise<VerifiedCompanion> {
  const bundle = readBundleFile(path);
  let payload: Buffer;
  let signer: SignerInfo;
  try {
    const v = await verifyBundleSignature(bundle, trust, { expectedPayloadType: IN_TOTO_PAYLOAD_TYPE });
    payload = v.payload;
    signer = v.signer;
  } catch (e) {
    if (e instanceof ModelsealError && e.kind !== 'verification' && e.code !== 'VERIFIER_MISMATCH') throw e;
    throw new VerificationError('COMPANION_SIGNATURE_INVALID', `the Merkle companion ${path} is not signed by the model's signer (${(e as Error).message}); re-create it with \`modelseal sign --merkle\`, or pass --no-companion.`, { cause: e });
  }
  if ((signer.keyHint ?? signer.description) !== (omsSigner.keyHint ?? omsSigner.description)) {
    throw new VerificationError('COMPANION_SIGNATURE_INVALID', `the Merkle companion ${path} was signed by ${signer.description}, the model by ${omsSigner.description}; a companion must come from the model's signer.`);
  }
  const companion = parseCompanionPayload(payload);
  if (companion.omsRoot !== manifest.rootDigest) {
    throw new VerificationError('COMPANION_SUBJECT_MISMATCH', `the Merkle companion ${path} is bound to root ${companion.omsRoot}, but the verified bundle's root is ${manifest.rootDigest}: it was made for another model or another signature.`, {
      details: { companionRoot: companion.omsRoot, omsRoot: manifest.rootDigest },
    });
  }
  // Consistency with the manifest: every companion file is a signed file, with the tree its hash allows.
  const s = manifest.serialization;
  const blake3Files = s.hashType === 'blake3' && s.method === 'files';
  const signed = new Map<string, { digest?: string; size?: number }>();
  if (s.method === 'files') for (const r of manifest.resources) signed.set(r.name, { digest: r.digest });
  else {
    for (const r of manifest.resources) {
      const sh = parseShardName(r.name)!;
      const cur = signed.get(sh.path);
      signed.set(sh.path, { size: Math.max(cur?.size ?? 0, sh.end) });
    }
  }
  const inconsistent = (f: CompanionFile, why: string): VerificationError =>
    new VerificationError('COMPANION_INCONSISTENT', `the Merkle companion ${path} disagrees with the signed manifest for ${f.name}: ${why}.`, { details: { file: f.name } });
  const byName: VerifiedCompanion['byName'] = new Map();
  let entryOffset = SIDECAR_MAGIC.length;
  companion.files.forEach((f, index) => {
    const sf = signed.get(f.name);
    if (!sf) throw inconsistent(f, 'the file is not in the OMS manifest');
    if (f.tree !== (blake3Files ? 'blake3-outboard' : 'rfc9162-sha256')) throw inconsistent(f, `tree ${f.tree} does not fit ${s.hashType}/${s.method}`);
    if (blake3Files && f.root !== sf.digest) throw inconsistent(f, 'its BLAKE3 root is not the signed file digest');
    if (sf.size !== undefined && sf.size !== f.size) throw inconsistent(f, `size ${f.size} differs from the signed shards' ${sf.size}`);
    const entries = sidecarEntries(f.tree, f.size, f.leafSize);
    byName.set(f.name, { file: f, index, entryOffset, entries });
    entryOffset += entries * 32;
  });
  if (entryOffset > MAX_SIDECAR_BYTES) {
    throw new InputError('COMPANION_MALFORMED', `the Merkle companion ${path} needs a ${entryOffset}-byte sidecar, over the ${MAX_SIDECAR_BYTES}-byte limit; sign again with a larger --leaf-size.`);
  }
  const sidecarPath = `${path}.tree`;
  const size = sidecarSize(sidecarPath);
  if (size < entryOffset) {
    throw new VerificationError('SIDECAR_TRUNCATED', `the Merkle sidecar ${sidecarPath} is ${size} bytes, the companion needs ${entryOffset}; it was truncated. Copy it again from the publisher.`);
  }
  if (size > entryOffset) throw new VerificationError('SIDECAR_MALFORMED', `the Merkle sidecar ${sidecarPath} is ${size} bytes, the companion needs ${entryOffset}; it belongs to another companion.`);
  const magic = readAt(sidecarPath, 0, SIDECAR_MAGIC.length);
  if (!magic.equals(SIDECAR_MAGIC)) throw new VerificationError('SIDECAR_MALFORMED', `${sidecarPath} is not a Merkle sidecar (bad magic).`);
  return { path, sidecarPath, companion, byName, sidecarBytes: size };
}

function sidecarSize(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'SIDECAR_NOT_FOUND' : 'SIDECAR_UNREADABLE', `the Merkle sidecar ${path} ${code === 'ENOENT' ? 'does not exist; copy it beside the companion' : `cannot be read: ${(e as Error).message}`}.`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError('SIDECAR_UNREADABLE', `the Merkle sidecar ${path} is not a regular file.`);
    return st.size;
  } finally {
    closeSync(fd);
  }
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) throw new VerificationError('SIDECAR_TRUNCATED', `the Merkle sidecar ${path} became shorter while being read.`);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * One file's sidecar entries, accepted only if they reproduce the signed root (SIDECAR_MISMATCH
 * otherwise). An empty list for a file checked against its root directly (BLAKE3, one leaf).
 */
export function loadFileEntries(vc: VerifiedCompanion, name: string): Uint8Array[] {
  const e = vc.byName.get(name);
  if (!e) throw new RangeError(`no companion entry for ${name}`);
  if (e.entries === 0) return [];
  const raw = readAt(vc.sidecarPath, e.entryOffset, e.entries * 32);
  const list: Uint8Array[] = [];
  for (let i = 0; i < e.entries; i++) list.push(raw.subarray(i * 32, i * 32 + 32));
  if (treeRoot(e.file.tree, list).toString('hex') !== e.file.root) {
    throw new VerificationError('SIDECAR_MISMATCH', `the Merkle sidecar ${vc.sidecarPath} does not reproduce the signed root of ${name}: it was altered. Copy it again from the publisher.`, {
      details: { file: name },
    });
  }
  return list;
}

/** What a companion claims, unverified (for `inspect`). */
export interface CompanionInspection {
  path: string;
  predicateType: string;
  omsRoot: string;
  modelName: string;
  files: Array<{ name: string; size: number; leafSize: number; tree: string; root: string }>;
  sidecar: { path: string; bytes: number | null };
}

/** Reads a companion without verifying it (never trusted: `inspect` says so). */
export function inspectCompanion(path: string): CompanionInspection {
  const b = readBundleFile(path);
  const c = parseCompanionPayload(b.payload);
  let bytes: number | null = null;
  try {
    bytes = sidecarSize(`${path}.tree`);
  } catch {
    bytes = null;
  }
  return {
    path,
    predicateType: COMPANION_PREDICATE_TYPE,
    omsRoot: c.omsRoot,
    modelName: c.modelName,
    files: c.files.map((f) => ({ name: f.name, size: f.size, leafSize: f.leafSize, tree: f.tree, root: f.root })),
    sidecar: { path: `${path}.tree`, bytes },
  };
}
