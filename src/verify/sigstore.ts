/**
 * Sigstore keyless (Fulcio certificate + Rekor entry) verification, offline, with
 * `@sigstore/verify` and a trusted root: the Sigstore public-good trusted root that the sigstore-js
 * TUF client ships in its seeds (`@sigstore/tuf/seeds.json`), or a user `trusted_root.json`.
 *
 * Checked offline: the Fulcio certificate chains to a CA of the trusted root and was valid when the
 * signature was timestamped (Rekor integrated time / RFC 3161 timestamps, verified against the
 * root's logs and TSAs); the certificate's SCT from a CT log of the root; the Rekor entry's
 * inclusion proof against its signed checkpoint and/or its signed entry timestamp, and that the
 * entry's body matches this envelope; the DSSE signature; the identity (exact SAN) and OIDC issuer.
 *
 * NOT checked offline (stated in every result): whether the trusted root itself is current (TUF
 * updates, key rotations and revocations after the shipped snapshot), whether the Rekor entry is
 * consistent with today's log (no online inclusion or consistency check against the live log), and
 * certificate revocation (Fulcio certificates are short-lived and have none).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { InputError, sigstoreErrorCode, VerificationError } from '../errors.js';
import { readInputText } from '../io/input-file.js';

/** What cannot be established without a network (shown to the user with every keyless verdict). */
export const SIGSTORE_OFFLINE_LIMITS = [
  'the trusted root is used as given: updates, key rotations or revocations published by Sigstore TUF after it was taken are not seen',
  'the Rekor entry is checked against its own signed checkpoint / signed entry timestamp, not against the live log (no online inclusion or consistency proof)',
] as const;

export interface SigstorePolicy {
  /** Certificate identity (SAN: e-mail, URI), matched exactly. */
  identity: string;
  /** OIDC issuer URL, matched exactly. */
  issuer: string;
  /** Path to a trusted_root.json (or a client trust config holding `trustedRoot`); default: the public-good root shipped with @sigstore/tuf. */
  trustedRoot?: string;
}

export interface SigstoreResult {
  identity: string;
  issuer: string;
  trustedRootSource: string;
  offlineLimits: readonly string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Loads the trusted root JSON and says where it came from. */
export function loadTrustedRootJson(path?: string): { json: unknown; source: string } {
  if (path !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readInputText(path, 'trusted-root'));
    } catch (e) {
      if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
      throw new InputError('TRUSTED_ROOT_INVALID', `cannot read the trusted root ${path}: ${(e as Error).message}.`, { cause: e });
    }
    // model_signing's --trust-config is a ClientTrustConfig that embeds the trusted root.
    if (typeof json === 'object' && json !== null && 'trustedRoot' in json) json = (json as { trustedRoot: unknown }).trustedRoot;
    return { json, source: path };
  }
  const require = createRequire(import.meta.url);
  let seedsPath: string;
  try {
    seedsPath = require.resolve('@sigstore/tuf/seeds.json');
  } catch (e) {
    throw new InputError('TRUSTED_ROOT_UNAVAILABLE', 'the Sigstore public-good trusted root (@sigstore/tuf seeds) is not installed; pass --trusted-root trusted_root.json.', { cause: e });
  }
  const seeds = JSON.parse(readFileSync(seedsPath, 'utf8')) as Record<string, { targets?: Record<string, string> }>;
  const target = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets?.['trusted_root.json'];
  if (typeof target !== 'string') {
    throw new InputError('TRUSTED_ROOT_UNAVAILABLE', 'the @sigstore/tuf seeds carry no public-good trusted_root.json; pass --trusted-root trusted_root.json.');
  }
  return { json: JSON.parse(Buffer.from(target, 'base64').toString('utf8')), source: `Sigstore public-good trusted root shipped in ${seedsPath}` };
}

/**
 * Verifies a keyless Sigstore bundle (already structurally parsed by us) offline. Returns the
 * verified identity; throws VerificationError with a `SIGSTORE_*` code on failure.
 */
export async function verifySigstoreBundle(bundleJson: unknown, policy: SigstorePolicy): Promise<SigstoreResult> {
  if (!policy.identity || !policy.issuer) {
    throw new InputError('USAGE', 'Sigstore verification needs both the signer identity (--sigstore-identity) and the OIDC issuer (--sigstore-issuer).');
  }
  // Loaded lazily: sigstore-js is only needed for keyless bundles.
  const [{ Verifier, toTrustMaterial, toSignedEntity, PolicyError }, { bundleFromJSON }, { TrustedRoot }] = await Promise.all([
    import('@sigstore/verify'),
    import('@sigstore/bundle'),
    import('@sigstore/protobuf-specs'),
  ]);
  const { json, source } = loadTrustedRootJson(policy.trustedRoot);
  let trustMaterial;
  try {
    trustMaterial = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (e) {
    throw new InputError('TRUSTED_ROOT_INVALID', `the trusted root from ${source} is not a Sigstore trusted_root.json (${(e as Error).message}).`, { cause: e });
  }
  let entity;
  try {
    entity = toSignedEntity(bundleFromJSON(bundleJson));
  } catch (e) {
    throw new InputError('BUNDLE_MALFORMED', `the Sigstore bundle is malformed (${(e as Error).message}).`, { cause: e });
  }
  const verifier = new Verifier(trustMaterial, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  try {
    verifier.verify(entity, {
      // sigstore-js treats the identity as a regular expression; model_signing matches it exactly.
      subjectAlternativeName: `^${escapeRegExp(policy.identity)}$`,
      extensions: { issuer: policy.issuer },
    });
  } catch (e) {
    if (e instanceof PolicyError) {
      throw new VerificationError('SIGSTORE_IDENTITY_MISMATCH', `the bundle was not signed by ${policy.identity} via ${policy.issuer}: ${e.message}.`, { cause: e });
    }
    const code = (e as { code?: string }).code ?? 'ERROR';
    throw new VerificationError(sigstoreErrorCode(code), `Sigstore verification failed (${code}): ${(e as Error).message}.`, { cause: e });
  }
  return { identity: policy.identity, issuer: policy.issuer, trustedRootSource: source, offlineLimits: SIGSTORE_OFFLINE_LIMITS };
}
