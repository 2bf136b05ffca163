/**
 * The bundle file, the trust options and where a Merkle companion lies: what `verify` needs before
 * the signature check, kept apart from signature.ts (DSSE, key, certificate-chain and Sigstore
 * checks) so that the check's modules can load while the model is already being hashed
 * (verify-model.ts; issue 13 target 5).
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { readCappedFile } from '../io/input-file.js';
import { MAX_BUNDLE_BYTES, parseBundleText, type ParsedBundle } from '../sign/bundle.js';
import type { KeySource } from '../sign/signer.js';
import type { SigstorePolicy } from './sigstore.js';

/** What the verifier trusts: exactly one of these. */
export interface TrustOptions {
  /** Public key (PEM path, PEM text or KeyObject) for `key` bundles. */
  publicKey?: KeySource;
  /** Root CA certificate(s) (PEM paths or PEM texts; a file may hold several) for `certificate` bundles. */
  certRoot?: string | Buffer | Array<string | Buffer>;
  /** Identity, issuer and trusted root for Sigstore keyless bundles. */
  sigstore?: SigstorePolicy;
  /**
   * With `certRoot`: accept a root certificate that is not self-signed (an intermediate CA) as the
   * trust anchor (`--allow-partial-chain`, OpenSSL's partial-chain rule). Off by default, as in
   * model_signing and `openssl verify`: the chain must reach a self-signed root (CERT_CHAIN_PARTIAL).
   */
  allowPartialChain?: boolean;
}

/** The trust fields of `options` (which may carry other options too), copied as given. */
export function trustOptionsOf(options: TrustOptions): TrustOptions {
  const trust: TrustOptions = {};
  if (options.publicKey !== undefined) trust.publicKey = options.publicKey;
  if (options.certRoot !== undefined) trust.certRoot = options.certRoot;
  if (options.sigstore !== undefined) trust.sigstore = options.sigstore;
  if (options.allowPartialChain !== undefined) trust.allowPartialChain = options.allowPartialChain;
  return trust;
}

/**
 * Reads a bundle file, refusing files over 64 MiB before reading them, and parses it.
 */
export function readBundleFile(path: string): ParsedBundle {
  const bytes = readCappedFile(path, MAX_BUNDLE_BYTES, {
    open: (e) =>
      new InputError(
        e.code === 'ENOENT' ? 'BUNDLE_NOT_FOUND' : 'BUNDLE_UNREADABLE',
        e.code === 'ENOENT' ? `the signature bundle ${path} does not exist; pass the .sig file the signer wrote.` : `cannot read the signature bundle ${path}: ${e.message}.`,
        { cause: e },
      ),
    notRegular: () => new InputError('BUNDLE_UNREADABLE', `${path} is not a regular file.`),
    tooLarge: (size) => new InputError('BUNDLE_TOO_LARGE', `${path} is ${size} bytes, over the ${MAX_BUNDLE_BYTES / 1048576} MiB limit for bundles; refused.`),
  });
  return parseBundleText(bytes.toString('utf8'), path);
}

/** Where a companion is looked for: the given path, or `<bundle>.merkle` when it exists. */
export function findCompanion(bundlePath: string, given: string | false | undefined): string | undefined {
  if (given === false) return undefined;
  if (given !== undefined) return given;
  const beside = `${bundlePath}.merkle`;
  return existsSync(beside) ? beside : undefined;
}
