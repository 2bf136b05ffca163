/**
 * The one X.509 chain verifier. Three callers use it, each with its own trust policy and its own
 * error vocabulary:
 *
 * - OMS `certificate` bundles (src/verify/cert-chain.ts): the user's `--cert-root` certificates are
 *   the anchors, the bundle's other certificates untrusted intermediates searched in any order, the
 *   time is the leaf's notBefore (as model_signing does), at most 10 certificates below the anchor;
 * - AMD SEV-SNP and Intel TDX evidence (`verifyChain` in src/crypto/x509.ts): pinned vendor roots
 *   plus, when allowed, simulated roots; AMD's ARK/ASK are RSASSA-PSS, Intel's and the VCEK ECDSA;
 * - NVIDIA / TDISP device chains and RIM signer chains (src/attest/nvidia/chain.ts): the chain is
 *   taken exactly as the device returned it (leaf first), and validity is judged once the whole
 *   path is known.
 *
 * The verifier decides *what* is wrong and returns it as a {@link ChainFailure}; each caller words
 * it (codes and messages are the caller's contract with its users). Certificate signatures are
 * checked by node:crypto (OpenSSL), which handles RSASSA-PSS as well as ECDSA; no caller restricts
 * signature algorithms, so there is no such parameter. Nothing here checks revocation: the only CRLs
 * the project reads are Intel's, checked by the TDX verifier against the path this returns.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { isSimulatedCertificate } from './simulated-marker.js';

/** What the chain verifier needs from a certificate; `Certificate` of x509.ts is one. */
export interface ChainCert {
  x509: X509Certificate;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA, as the caller reads it. */
  isCA: boolean;
}

/** A {@link ChainCert} from node's certificate object alone (validity from its text form, cA from OpenSSL). */
export function chainCert(x509: X509Certificate): ChainCert {
  return { x509, notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo), isCA: x509.ca };
}

/** The rules one caller verifies a chain under. */
export interface ChainPolicy<C extends ChainCert> {
  /** Verification time. */
  at: Date;
  /** Trust anchors: a certificate byte-equal to one of them ends the path. */
  anchors: readonly C[];
  /** Anchors of the simulated platform: ending there is a `simulated` path, refused unless allowSimulated. */
  simulatedAnchors?: readonly C[];
  allowSimulated?: boolean;
  /**
   * Accept an anchor that is not self-signed (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN). Off: the anchor
   * reached must verify under its own key.
   */
  allowPartialChain?: boolean;
  /**
   * `search`: the first certificate is the leaf, the others an unordered pool of untrusted
   * intermediates, issuers are searched among anchors first, and a self-signed certificate that is
   * not an anchor ends the search. `as-given`: the certificates are the path itself, leaf first;
   * each must be issued by the next, and the last must be an anchor or issued by one.
   */
  order: 'search' | 'as-given';
  /** Most certificates in the path, anchor included. */
  maxLength: number;
  /** Every issuer (anchor included) must be a CA. */
  requireCA: boolean;
  /** `each-step`: validity is checked as the path grows; `whole-path`: once, after the path is complete. */
  validity: 'each-step' | 'whole-path';
}

/** Why a chain was refused; `path` is the path built so far, leaf first. */
export type ChainFailure<C extends ChainCert> =
  | { reason: 'expired' | 'not-yet-valid'; cert: C; index: number; path: C[] }
  | { reason: 'anchor-not-self-signed'; cert: C; path: C[] }
  | { reason: 'simulated-anchor'; cert: C; path: C[] }
  /** A self-signed certificate that is no anchor ends the search; `marked` when it names the simulated platform. */
  | { reason: 'untrusted-self-signed'; cert: C; marked: boolean; path: C[] }
  | { reason: 'too-long'; cert: C; path: C[] }
  /** No issuer of `cert`: `candidates` are the certificates whose names matched but whose keys did not verify. */
  | { reason: 'no-issuer'; cert: C; index: number; candidates: C[]; path: C[] }
  | { reason: 'issuer-not-ca'; cert: C; issuer: C; path: C[] };

/** The verdict: a path from the leaf to an anchor, or the first thing wrong. */
export type ChainVerdict<C extends ChainCert> = { ok: true; path: C[]; anchor: C; simulated: boolean } | ({ ok: false } & ChainFailure<C>);

// Successful issuer-signature checks, keyed by the exact DER of child and parent. Multi-device
// evidence (8 GPUs, 4 switches) shares intermediates; only positive results are remembered, so a
// cache hit can never turn a failure into a success for different bytes.
const verifiedLinks = new Set<string>();
const LINK_CACHE_MAX = 4096;

/** True when `parent`'s name matches `child`'s issuer and `parent`'s key verifies `child`'s signature. */
export function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const key = createHash('sha256').update(child.raw).update(parent.raw).digest('hex');
  if (verifiedLinks.has(key)) return true;
  let ok = false;
  try {
    ok = child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    ok = false;
  }
  if (ok) {
    if (verifiedLinks.size >= LINK_CACHE_MAX) verifiedLinks.clear();
    verifiedLinks.add(key);
  }
  return ok;
}

/** True when the certificate names itself as issuer and verifies under its own key. */
export function isSelfSigned(c: X509Certificate): boolean {
  return signedBy(c, c);
}

function sameDer(a: ChainCert, b: ChainCert): boolean {
  return a === b || a.x509.raw.equals(b.x509.raw);
}

function validityReason(c: ChainCert, at: Date): 'expired' | 'not-yet-valid' | undefined {
  // Negated comparisons, so an unreadable (NaN) date fails rather than passes.
  if (!(at.getTime() <= c.notAfter.getTime())) return 'expired';
  if (!(at.getTime() >= c.notBefore.getTime())) return 'not-yet-valid';
  return undefined;
}

/**
 * Builds and checks the path from `leaf` through `others` to an anchor under `policy` (see
 * {@link ChainPolicy} for what each rule does). Never throws for a bad chain: the first thing
 * wrong comes back as a {@link ChainFailure}.
 */
export function verifyCertChain<C extends ChainCert>(leaf: C, others: readonly C[], policy: ChainPolicy<C>): ChainVerdict<C> {
  const anchors = [...policy.anchors.map((cert) => ({ cert, simulated: false })), ...(policy.simulatedAnchors ?? []).map((cert) => ({ cert, simulated: true }))];
  const givenOrder = policy.order === 'as-given';
  const path: C[] = [leaf];
  let cur = leaf;
  for (;;) {
    const index = path.length - 1;
    if (policy.validity === 'each-step') {
      const reason = validityReason(cur, policy.at);
      if (reason) return { ok: false, reason, cert: cur, index, path };
    }
    // A given path may pass through an anchor's bytes; only its end is compared with the anchors.
    const anchor = !givenOrder || index >= others.length ? anchors.find((a) => sameDer(a.cert, cur)) : undefined;
    if (anchor) {
      if (!policy.allowPartialChain && !isSelfSigned(cur.x509)) return { ok: false, reason: 'anchor-not-self-signed', cert: cur, path };
      if (anchor.simulated && !policy.allowSimulated) return { ok: false, reason: 'simulated-anchor', cert: cur, path };
      break;
    }
    if (!givenOrder && isSelfSigned(cur.x509)) {
      return { ok: false, reason: 'untrusted-self-signed', cert: cur, marked: isSimulatedCertificate(cur.x509), path };
    }
    if (path.length >= policy.maxLength) return { ok: false, reason: 'too-long', cert: cur, path };
    let pool: C[];
    if (givenOrder) pool = index < others.length ? [others[index]!] : anchors.map((a) => a.cert);
    else pool = [...anchors.map((a) => a.cert), ...others].filter((c) => !path.some((p) => sameDer(p, c)));
    const candidates = pool.filter((c) => cur.x509.checkIssued(c.x509));
    const issuer = candidates.find((c) => signedBy(cur.x509, c.x509));
    if (!issuer) return { ok: false, reason: 'no-issuer', cert: cur, index, candidates, path };
    if (policy.requireCA && !issuer.isCA) return { ok: false, reason: 'issuer-not-ca', cert: cur, issuer, path };
    path.push(issuer);
    cur = issuer;
  }
  if (policy.validity === 'whole-path') {
    for (let index = 0; index < path.length; index++) {
      const reason = validityReason(path[index]!, policy.at);
      if (reason) return { ok: false, reason, cert: path[index]!, index, path };
    }
  }
  const simulated = anchors.find((a) => sameDer(a.cert, cur))!.simulated;
  return { ok: true, path, anchor: cur, simulated };
}
