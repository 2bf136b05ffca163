/**
 * signModel: hash (the same engine as `hash`) → OMS statement → DSSE → Sigstore bundle → atomic
 * write of `<model>.sig` beside the model (or `output`), never overwriting without `force`.
 */
import { checkOutputTarget, writeOutputFile } from '../io/output-file.js';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashModel } from '../engine/hash-model.js';
import type { HashModelOptions } from '../engine/types.js';
import { InputError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, encodeStatement, manifestToStatement, type OmsStatement } from '../manifest/statement.js';
import type { Manifest } from '../manifest/types.js';
import { serializeBundle, type SigstoreBundleJson } from './bundle.js';
import { decodeBase64Strict, verifyDsseSignature } from './dsse.js';
import { createCertificateSigner, createKeySigner, signStatement, type KeySource, type Signer } from './signer.js';

export interface SignModelOptions {
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
  /** Engine passthrough (never changes a digest). */
  backend?: HashModelOptions['backend'];
  disableBackends?: HashModelOptions['disableBackends'];
  workers?: number;
  kernels?: HashModelOptions['kernels'];
  signal?: AbortSignal;
  onProgress?: HashModelOptions['onProgress'];
  /** Bundle path (default `<model>.sig` beside the model). Inside the model it is ignored and recorded in ignore_paths. */
  output?: string;
  /** Replace an existing bundle at `output`. */
  force?: boolean;
  /** Do not write: return the bundle only. */
  dryRun?: boolean;
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
}

/** The default bundle path for a model: `<model>.sig` beside the directory or file. */
export function defaultBundlePath(modelPath: string): string {
  return resolve(modelPath) + '.sig';
}

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

  const method = options.method ?? 'files';
  const hashOpts: HashModelOptions = {
    method,
    // the bundle and its attestation (<bundle>.att, written beside it by --attest) are not model files
    ignorePaths: [...(options.ignorePaths ?? []), ...(output !== undefined ? [output, `${output}.att`] : [])],
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
  const h = await hashModel(modelPath, hashOpts);

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
  const tw = performance.now();
  if (output !== undefined) writeFileAtomic(output, serializeBundle(bundle), options.force === true);
  const t1 = performance.now();
  const signSeconds = (t1 - t0) / 1000;
  return {
    bundlePath: output,
    bundle,
    statement,
    manifest: h.manifest,
    rootDigest: h.manifest.rootDigest,
    signer: signer.description,
    hashing: { bytes: h.bytes, seconds: h.seconds, backend: h.backend, workers: h.workers },
    signSeconds,
    writeSeconds: (t1 - tw) / 1000,
  };
}
