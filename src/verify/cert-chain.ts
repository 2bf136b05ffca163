/**
 * X.509 chain verification for OMS `certificate` bundles, following model_signing's rules:
 * the user's root certificates are the trust anchors, the bundle's further certificates are
 * untrusted intermediates, the chain is checked at the leaf's notBefore (so a chain whose
 * certificates have since expired still verifies, as with the reference), issuers must be CAs,
 * and the leaf must allow digitalSignature (key usage) or codeSigning (extended key usage).
 *
 * Signatures are checked with node:crypto; @sigstore/core parses the extensions.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * @sigstore/core is loaded on first use, synchronously (it is CommonJS): importing it costs ~40 ms
 * that commands which never read a certificate (hash, digest, doctor) would pay at start-up.
 */
function sigstoreCert(): typeof import('@sigstore/core').X509Certificate {
  return (createRequire(import.meta.url)('@sigstore/core') as typeof import('@sigstore/core')).X509Certificate;
}
import { InputError, VerificationError } from '../errors.js';

const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_DEPTH = 10;

export interface ChainResult {
  /** Subjects from the leaf to the trust anchor. */
  path: string[];
  /** The instant the chain was checked at (the leaf's notBefore). */
  checkedAt: Date;
  leaf: X509Certificate;
}

/** What the chain check needs from a certificate, all read eagerly so a corrupt field fails here. */
interface Parsed {
  node: X509Certificate;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  digitalSignature: boolean;
  /** Extended key usage OIDs. */
  eku: string[];
}

function parseDer(der: Buffer | Uint8Array, what: string): Parsed {
  try {
    const node = new X509Certificate(der);
    // @sigstore/core parses extensions lazily; touching them here turns a corrupt extension into
    // CERT_INVALID instead of a TypeError later.
    const ext = sigstoreCert().parse(Buffer.from(der));
    const notBefore = ext.notBefore;
    const notAfter = ext.notAfter;
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new Error('invalid validity dates');
    return { node, notBefore, notAfter, isCA: ext.isCA, digitalSignature: ext.extKeyUsage?.digitalSignature === true, eku: node.keyUsage ?? [] };
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
 * certificates. Throws VerificationError `CERT_CHAIN_INVALID` / `CERT_USAGE_INVALID`.
 */
export function verifyCertificateChain(chainDer: Buffer[], roots: X509Certificate[]): ChainResult {
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
  const path: string[] = [oneLine(leaf.node.subject)];

  if (!(leaf.digitalSignature || leaf.eku.includes(EKU_CODE_SIGNING))) {
    throw new VerificationError('CERT_USAGE_INVALID', 'the signing certificate allows neither digitalSignature (key usage) nor codeSigning (extended key usage); it may not sign models.');
  }

  let current = leaf;
  const used = new Set<number>([0]);
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (!validAt(current, t)) {
      throw new VerificationError('CERT_CHAIN_INVALID', `certificate ${oneLine(current.node.subject)} is not valid at ${t.toISOString()} (the leaf's notBefore).`);
    }
    // A trust anchor that is the current certificate itself, or that issued it, ends the path.
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      if (root.raw.equals(current.node.raw)) {
        if (current === leaf) throw new VerificationError('CERT_CHAIN_INVALID', 'the signing certificate is itself a CA given as trust root; a signing certificate must be issued by the root.');
        return { path, checkedAt: t, leaf: leaf.node };
      }
      if (current.node.checkIssued(root) && current.node.verify(root.publicKey)) {
        if (!validAt(rootExt[r]!, t)) {
          throw new VerificationError('CERT_CHAIN_INVALID', `the trusted root ${oneLine(root.subject)} is not valid at ${t.toISOString()}.`);
        }
        path.push(oneLine(root.subject));
        return { path, checkedAt: t, leaf: leaf.node };
      }
    }
    let next = -1;
    for (let i = 1; i < certs.length; i++) {
      if (used.has(i)) continue;
      const cand = certs[i]!;
      if (current.node.checkIssued(cand.node) && current.node.verify(cand.node.publicKey)) {
        next = i;
        break;
      }
    }
    if (next < 0) {
      throw new VerificationError(
        'CERT_CHAIN_INVALID',
        `the signing certificate does not chain to the given root: no issuer found for ${oneLine(current.node.subject)} (issuer ${oneLine(current.node.issuer)}) among the bundle's certificates and the trusted roots. Pass the root CA that issued this chain with --cert-root.`,
        { details: { path } },
      );
    }
    const issuer = certs[next]!;
    if (!issuer.isCA) {
      throw new VerificationError('CERT_CHAIN_INVALID', `certificate ${oneLine(issuer.node.subject)} issued another certificate but is not a CA.`);
    }
    used.add(next);
    path.push(oneLine(issuer.node.subject));
    current = issuer;
  }
  throw new VerificationError('CERT_CHAIN_INVALID', `the certificate chain is longer than ${MAX_CHAIN_DEPTH}; refused.`);
}
