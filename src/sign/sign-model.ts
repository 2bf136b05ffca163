/**
 * signModel: hash (the same engine as `hash`) → OMS statement → DSSE → Sigstore bundle → atomic
 * write of `<model>.sig` beside the model (or `output`), never overwriting without `force`.
 */
import { checkOutputTarget, writeOutputFile } from '../io/output-file.js';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashModel } from '../engine/hash-model.js';
import type { HashModelOptions, HashResult } from '../engine/types.js';
import { InputError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, encodeStatement, manifestToStatement, type OmsStatement } from '../manifest/statement.js';
import type { Manifest } from '../manifest/types.js';
import { serializeBundle, type SigstoreBundleJson } from './bundle.js';
import { DEFAULT_LEAF_BYTES, isValidLeafSize } from '../manifest/companion.js';
import { buildCompanionFromLeaves, companionPaths, type BuiltCompanion } from './companion.js';
import { decodeBase64Strict, verifyDsseSignature } from '../crypto/dsse.js';
import { createCertificateSigner, createKeySigner, signStatement, type KeySource, type Signer } from './signer.js';
import { defaultBundlePath } from './bundle-path.js';

function companionSidePaths(bundle: string): string[] {
  const c = companionPaths(bundle);
  return [c.companion, c.sidecar];
}

/** Hashing-engine settings passed through unchanged (they never change a digest). */
export type EnginePassthrough = Pick<HashModelOptions, 'backend' | 'disableBackends' | 'workers' | 'kernels' | 'signal'>;

export interface SignModelOptions extends EnginePassthrough {
  /** EC private key (PEM path, PEM text or KeyObject). Not needed when `signer` is given. */
  privateKey?: KeySource;
  /** Password of an encrypted private key. */
  password?: string;
  /** Leaf certificate for the private key (certificate method); `chain` adds intermediates/root. */
  certificate?: string | Buffer;
  chain?: Array<string | Buffer>;
  /** A ready signer (overrides privateKey/certificate). */
  signer?: Signer;
  /** Hash settings recorded in the bundle. */
  hash?: HashModelOptions['hash'];
  method?: HashModelOptions['method'];
  shardSize?: number;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  onProgress?: HashModelOptions['onProgress'];
  /** Bundle path (default `<model>.sig` beside the model). Inside the model it is ignored and recorded in ignore_paths. */
  output?: string;
  /** Replace an existing bundle at `output`. */
  force?: boolean;
  /** Do not write: return the bundle only. */
  dryRun?: boolean;
  /**
   * Also write a Merkle companion (`<bundle>.merkle` + sidecar `<bundle>.merkle.tree`, docs/companion.md)
   * signed by the same signer, for range and tensor verification. The OMS bundle is unchanged.
   */
  merkle?: boolean | { leafSize?: number };
}

export interface SignModelResult {
  /** Where the bundle was written (undefined with dryRun). */
  bundlePath: string | undefined;
  bundle: SigstoreBundleJson;
  statement: OmsStatement;
  manifest: Manifest;
  rootDigest: string;
  signer: string;
  /** Hashing (engine) and signing + writing times, seconds. */
  hashing: { bytes: number; seconds: number; backend: string; workers: number };
  signSeconds: number;
  /** Of signSeconds: writing the bundle (temporary file, fsync, link/rename). */
  writeSeconds: number;
  /** The Merkle companion, with `merkle`. */
  companion?: {
    path: string | undefined;
    sidecarPath: string | undefined;
    leafSize: number;
    files: number;
    tree: string;
    /**
     * Bytes the companion builder read itself (the leaves the hashing pass could not emit: GPU lanes,
     * leaves cut by a shard edge; 0 otherwise) and seconds to build and sign it after the pass.
     */
    bytes: number;
    seconds: number;
  };
}

export { defaultBundlePath } from './bundle-path.js';

/**
 * Writes `data` to `path` atomically (see {@link writeOutputFile}: temporary file, full writes, fsync,
 * no-clobber link or, when `force`, a rename over a regular file only).
 */
export function writeFileAtomic(path: string, data: string | Buffer, force: boolean): void {
  writeOutputFile(path, data, { force, what: 'the signature' });
}

function makeSigner(o: SignModelOptions): Signer {
  if (o.signer) return o.signer;
  if (o.privateKey === undefined) throw new InputError('USAGE', 'signing needs a private key (--key KEY.pem).');
  if (o.certificate !== undefined) {
    return createCertificateSigner(o.privateKey, {
      certificate: o.certificate,
      ...(o.chain ? { chain: o.chain } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    });
  }
  if (o.chain !== undefined && o.chain.length > 0) throw new InputError('USAGE', '--chain needs --cert (the signing certificate).');
  return createKeySigner(o.privateKey, o.password !== undefined ? { password: o.password } : {});
}

/**
 * Hashes a model the way a signature records it: `output` (the bundle, and its `.att`) is not a model
 * file, and in shards mode names with ':' are refused up front (model_signing cannot verify them).
 * Shared by key, certificate and keyless signing.
 */
export async function hashModelForSigning(modelPath: string, options: SignModelOptions, output: string | undefined, merkleLeafBytes?: number): Promise<HashResult> {
  const method = options.method ?? 'files';
  const hashOpts: HashModelOptions = {
    method,
    // the bundle and its attestation (<bundle>.att, written beside it by --attest) are not model files
    ignorePaths: [...(options.ignorePaths ?? []), ...(output !== undefined ? [output, `${output}.att`, ...companionSidePaths(output)] : [])],
    ignoreGitPaths: options.ignoreGitPaths !== false,
    allowSymlinks: options.allowSymlinks === true,
    // model_signing splits shard names on every ':', so it cannot verify such files: refuse them
    // in shards mode before any byte is hashed (the predicate sees every walked path).
    only: (rel) => {
      if (method === 'shards' && rel.includes(':')) {
        throw new InputError('SHARD_NAME_COLON', `${rel} contains ':'; in shards mode model_signing cannot verify such names. Rename it, ignore it, or use --method files.`);
      }
      return true;
    },
  };
  if (options.hash !== undefined) hashOpts.hash = options.hash;
  if (options.shardSize !== undefined) hashOpts.shardSize = options.shardSize;
  if (options.backend !== undefined) hashOpts.backend = options.backend;
  if (options.disableBackends !== undefined) hashOpts.disableBackends = options.disableBackends;
  if (options.workers !== undefined) hashOpts.workers = options.workers;
  if (options.kernels !== undefined) hashOpts.kernels = options.kernels;
  if (options.signal !== undefined) hashOpts.signal = options.signal;
  if (options.onProgress !== undefined) hashOpts.onProgress = options.onProgress;
  if (merkleLeafBytes !== undefined) hashOpts.merkleLeafBytes = merkleLeafBytes;
  const h = await hashModel(modelPath, hashOpts);
  return h;
}

/**
 * The result both signers (key and keyless) build from the hash outcome, the bundle written and the
 * `performance.now()` marks: signing started (`t0`), writing started (`tw`), written (`t1`).
 */
export function signResult(
  h: HashResult,
  written: { bundlePath: string | undefined; bundle: SigstoreBundleJson; statement: OmsStatement; signer: string },
  marks: { t0: number; tw: number; t1: number },
): SignModelResult {
  return {
    bundlePath: written.bundlePath,
    bundle: written.bundle,
    statement: written.statement,
    manifest: h.manifest,
    rootDigest: h.manifest.rootDigest,
    signer: written.signer,
    hashing: { bytes: h.bytes, seconds: h.seconds, backend: h.backend, workers: h.workers },
    signSeconds: (marks.t1 - marks.t0) / 1000,
    writeSeconds: (marks.t1 - marks.tw) / 1000,
  };
}

/**
 * Signs a model directory or file with an EC key (optionally with a certificate chain) and writes
 * an OMS bundle that model_signing verifies.
 *
 * @example
 * const r = await signModel('./model', { privateKey: 'key.pem' }); // writes ./model.sig
 */
export async function signModel(modelPath: string, options: SignModelOptions = {}): Promise<SignModelResult> {
  // Load the key and check the output first: fail before hashing terabytes.
  const signer = makeSigner(options);
  // an empty path would resolve to the current directory ("already exists"): refuse it as empty
  if (!options.dryRun && options.output !== undefined) checkOutputTarget(options.output, { what: 'the signature', force: true });
  const output = options.dryRun ? undefined : resolve(options.output ?? defaultBundlePath(modelPath));
  if (output !== undefined) checkOutputTarget(output, { force: options.force === true, what: 'the signature' });
  const leafSize = options.merkle ? ((typeof options.merkle === 'object' ? options.merkle.leafSize : undefined) ?? DEFAULT_LEAF_BYTES) : undefined;
  if (leafSize !== undefined && !isValidLeafSize(leafSize)) {
    throw new InputError('LEAF_SIZE_INVALID', `leaf size ${leafSize} is not a power of two between 1 KiB and 1 GiB; pass e.g. --leaf-size 1MiB.`);
  }
  if (leafSize !== undefined && output !== undefined) for (const p of companionSidePaths(output)) checkOutputTarget(p, { force: options.force === true, what: 'the Merkle companion' });

  const h = await hashModelForSigning(modelPath, options, output, leafSize);

  const t0 = performance.now();
  const statement = manifestToStatement(h.manifest);
  const bundle = signStatement(statement, signer);
  // Self-check: a signature that does not verify must never be written.
  const check = verifyDsseSignature(
    signer.publicKey,
    IN_TOTO_PAYLOAD_TYPE,
    encodeStatement(statement),
    decodeBase64Strict(bundle.dsseEnvelope.signatures[0]!.sig, 'sig'),
    { legacyDigest: false },
  );
  if (!check.ok) throw new InputError('SIGNER_BROKEN', 'the fresh signature does not verify with the signer\'s public key; the key or certificate is inconsistent.');
  let built: BuiltCompanion | undefined;
  if (leafSize !== undefined) {
    // the companion's leaves came from the hashing pass (one read of every byte)
    built = await buildCompanionFromLeaves(modelPath, h.manifest, h.merkle!, signer, options.signal);
  }
  const tw = performance.now();
  if (output !== undefined) {
    const cp = companionPaths(output);
    if (built) {
      // sidecar first: a companion is never visible without the tree it names
      writeFileAtomic(cp.sidecar, built.sidecar, options.force === true);
      writeFileAtomic(cp.companion, serializeBundle(built.bundle), options.force === true);
    }
    writeFileAtomic(output, serializeBundle(bundle), options.force === true);
  }
  const t1 = performance.now();
  return {
    ...signResult(h, { bundlePath: output, bundle, statement, signer: signer.description }, { t0, tw, t1 }),
    ...(built
      ? {
          companion: {
            path: output !== undefined ? companionPaths(output).companion : undefined,
            sidecarPath: output !== undefined ? companionPaths(output).sidecar : undefined,
            leafSize: built.companion.files[0]?.leafSize ?? DEFAULT_LEAF_BYTES,
            files: built.companion.files.length,
            tree: built.companion.files[0]?.tree ?? 'rfc9162-sha256',
            bytes: built.bytes,
            seconds: built.seconds,
          },
        }
      : {}),
  };
}
