/**
 * X.509 chain verification for OMS `certificate` bundles, following model_signing's rules:
 * the user's root certificates are the trust anchors, the bundle's further certificates are
 * untrusted intermediates, the chain is checked at the leaf's notBefore (so a chain whose
 * certificates have since expired still verifies, as with the reference), issuers must be CAs,
 * and the leaf must allow digitalSignature (key usage) or codeSigning (extended key usage).
 *
 * As with model_signing and `openssl verify`, only a self-signed root is a trust anchor: a
 * `--cert-root` certificate that is not self-signed (an intermediate CA) may carry the chain towards
 * a root given beside it, but a chain that ends there is refused (CERT_CHAIN_PARTIAL) unless
 * `allowPartialChain` (`--allow-partial-chain`) accepts it as the anchor, like OpenSSL's
 * X509_V_FLAG_PARTIAL_CHAIN.
 *
 * The path is built and checked by the one chain verifier (src/crypto/chain.ts); signatures are
 * checked with node:crypto; @sigstore/core parses the extensions.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { isSelfSigned, verifyCertChain, type ChainCert } from '../crypto/chain.js';
import { InputError, VerificationError } from '../errors.js';

/**
 * @sigstore/core is loaded on first use, synchronously (it is CommonJS): importing it costs ~40 ms
 * that commands which never read a certificate (hash, digest, doctor) would pay at start-up.
 */
function sigstoreCert(): typeof import('@sigstore/core').X509Certificate {
  return (createRequire(import.meta.url)('@sigstore/core') as typeof import('@sigstore/core')).X509Certificate;
}

const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
/** Certificates below the trust anchor, the leaf included. */
const MAX_CHAIN_DEPTH = 10;

export interface ChainResult {
  /** Subjects from the leaf to the trust anchor. */
  path: string[];
  /** The instant the chain was checked at (the leaf's notBefore). */
  checkedAt: Date;
  leaf: X509Certificate;
}

/** Options of {@link verifyCertificateChain}. */
export interface CertChainOptions {
  /**
   * Accept a trusted root that is not self-signed (an intermediate CA) as the trust anchor, as
   * OpenSSL's partial-chain flag does. Off by default: the chain must reach a self-signed root.
   */
  allowPartialChain?: boolean;
}

/** What the chain check needs from a certificate, all read eagerly so a corrupt field fails here. */
interface Parsed extends ChainCert {
  digitalSignature: boolean;
  /** Extended key usage OIDs. */
  eku: string[];
}

function parseDer(der: Buffer | Uint8Array, what: string): Parsed {
  try {
    const x509 = new X509Certificate(der);
    // @sigstore/core parses extensions lazily; touching them here turns a corrupt extension into
    // CERT_INVALID instead of a TypeError later.
    const ext = sigstoreCert().parse(Buffer.from(der));
    const notBefore = ext.notBefore;
    const notAfter = ext.notAfter;
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new Error('invalid validity dates');
    return { x509, notBefore, notAfter, isCA: ext.isCA, digitalSignature: ext.extKeyUsage?.digitalSignature === true, eku: x509.keyUsage ?? [] };
  } catch (e) {
    throw new InputError('CERT_INVALID', `${what} cannot be parsed (${(e as Error).message}); the certificate is corrupt.`, { cause: e });
  }
}

function oneLine(name: string | undefined): string {
  return name ? name.replace(/\n/g, ', ') : '(empty subject)';
}

function validAt(c: Parsed, t: Date): boolean {
  return c.notBefore.getTime() <= t.getTime() && t.getTime() <= c.notAfter.getTime();
}

/**
 * Verifies that `chainDer[0]` (the leaf) chains to one of `roots` through the other bundle
 * certificates. Throws VerificationError `CERT_CHAIN_INVALID` / `CERT_CHAIN_PARTIAL` /
 * `CERT_USAGE_INVALID`, InputError `CERT_ROOT_MISSING` / `CERT_ROOT_NOT_CA` / `CERT_INVALID`.
 */
export function verifyCertificateChain(chainDer: Buffer[], roots: X509Certificate[], options: CertChainOptions = {}): ChainResult {
  if (roots.length === 0) throw new InputError('CERT_ROOT_MISSING', 'no trusted root certificate was given; pass --cert-root CA.pem.');
  const certs = chainDer.map((d, i) => parseDer(d, `certificate ${i} in the bundle`));
  const leaf = certs[0]!;
  const t = leaf.notBefore;
  const rootExt = roots.map((r) => parseDer(r.raw, `the trusted root ${oneLine(r.subject)}`));
  roots.forEach((r, i) => {
    // A trust anchor must be a CA; pinning a leaf this way would bypass the issuer checks.
    if (!rootExt[i]!.isCA) {
      throw new InputError('CERT_ROOT_NOT_CA', `the trusted root ${oneLine(r.subject)} is not a CA certificate; pass the root (or intermediate) CA that issued the signing certificate.`);
    }
  });

  if (!(leaf.digitalSignature || leaf.eku.includes(EKU_CODE_SIGNING))) {
    throw new VerificationError('CERT_USAGE_INVALID', 'the signing certificate allows neither digitalSignature (key usage) nor codeSigning (extended key usage); it may not sign models.');
  }
  const isRoot = (c: ChainCert) => roots.some((r) => r.raw.equals(c.x509.raw));
  if (isRoot(leaf)) {
    if (!validAt(leaf, t)) throw new VerificationError('CERT_CHAIN_INVALID', `certificate ${oneLine(leaf.x509.subject)} is not valid at ${t.toISOString()} (the leaf's notBefore).`);
    throw new VerificationError('CERT_CHAIN_INVALID', 'the signing certificate is itself a CA given as trust root; a signing certificate must be issued by the root.');
  }

  // Without the partial-chain allowance a root that is not self-signed is a trusted intermediate:
  // it may lead to a self-signed root given beside it, but cannot end the chain itself.
  const partial = options.allowPartialChain === true;
  const intermediateRoots = partial ? [] : rootExt.filter((r) => !isSelfSigned(r.x509));
  const anchors = rootExt.filter((r) => !intermediateRoots.includes(r));
  const v = verifyCertChain(leaf, [...intermediateRoots, ...certs.slice(1)], {
    at: t,
    anchors,
    allowPartialChain: partial,
    order: 'search',
    maxLength: MAX_CHAIN_DEPTH + 1,
    requireCA: true,
    validity: 'each-step',
  });
  const path = v.path.map((c) => oneLine(c.x509.subject));
  if (v.ok) return { path, checkedAt: t, leaf: leaf.x509 };

  const cur = v.cert;
  const at = v.path.length - 1;
  const reached = v.path.findIndex((c) => intermediateRoots.includes(c as Parsed));
  if (reached >= 0 && !(at === reached && (v.reason === 'expired' || v.reason === 'not-yet-valid'))) {
    const ca = oneLine(v.path[reached]!.x509.subject);
    throw new VerificationError(
      'CERT_CHAIN_PARTIAL',
      `the chain ends at ${ca}, a trusted root that is not self-signed (an intermediate CA); like model_signing and openssl verify, only a self-signed root is a trust anchor. Pass the root CA that issued it as well (--cert-root), or accept the intermediate as the anchor with --allow-partial-chain (library: allowPartialChain).`,
      { details: { path, anchor: ca } },
    );
  }
  switch (v.reason) {
    case 'expired':
    case 'not-yet-valid':
      if (at > 0 && isRoot(cur)) throw new VerificationError('CERT_CHAIN_INVALID', `the trusted root ${oneLine(cur.x509.subject)} is not valid at ${t.toISOString()}.`);
      throw new VerificationError('CERT_CHAIN_INVALID', `certificate ${oneLine(cur.x509.subject)} is not valid at ${t.toISOString()} (the leaf's notBefore).`);
    case 'issuer-not-ca':
      throw new VerificationError('CERT_CHAIN_INVALID', `certificate ${oneLine(v.issuer.x509.subject)} issued another certificate but is not a CA.`);
    case 'too-long':
      throw new VerificationError('CERT_CHAIN_INVALID', `the certificate chain is longer than ${MAX_CHAIN_DEPTH}; refused.`);
    default:
      // no-issuer, and a self-signed certificate that is not a given root (its issuer is itself)
      throw new VerificationError(
        'CERT_CHAIN_INVALID',
        `the signing certificate does not chain to the given root: no issuer found for ${oneLine(cur.x509.subject)} (issuer ${oneLine(cur.x509.issuer)}) among the bundle's certificates and the trusted roots. Pass the root CA that issued this chain with --cert-root.`,
        { details: { path } },
      );
  }
}
