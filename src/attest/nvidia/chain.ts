/**
 * Certificate-chain verification to pinned roots, for device (SPDM) chains: NVIDIA GPUs/NVSwitches,
 * TDISP devices and the simulated platform. Leaf first; every link's issuer name and signature are
 * checked, every certificate must be valid at the verification time, and the chain must end in (or
 * be issued by) a pinned root compared byte for byte. A chain ending in a SIMULATED root is
 * reported as simulated and accepted only with `allowSimulated`.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { buf, bytesEqual } from '../../crypto/bytes.js';
import { EVIDENCE_SIMULATED, isSimulatedCertificate, isSimulatedRoot, simulatedTrustAnchors } from '../roots/simulated.js';

export interface ChainOptions {
  /** Pinned vendor roots (DER). */
  pinnedRoots: Uint8Array[];
  at: Date;
  allowSimulated: boolean;
  simulatedRoots?: Uint8Array[] | undefined;
  /** Code prefix: NV or TDISP. */
  prefix: string;
}

export type ChainResult =
  | { ok: true; simulated: boolean; certs: X509Certificate[]; subjects: string[] }
  | { ok: false; simulated: boolean; code: string; message: string; subjects: string[] };

/** Subject CN (or the whole subject) on one line. */
export function subjectName(c: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject);
  return cn ? cn[1]! : c.subject.replace(/\n/g, ', ');
}

/** notBefore/notAfter as Dates (Node 20 gives only the OpenSSL text form). */
export function validity(c: X509Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(c.validFrom), notAfter: new Date(c.validTo) };
}

// Successful issuer-signature checks, keyed by the exact DER of child and parent. Multi-device
// evidence (8 GPUs, 4 switches) shares intermediates; only positive results are remembered, so a
// cache hit can never turn a failure into a success for different bytes.
const verifiedLinks = new Set<string>();
const LINK_CACHE_MAX = 4096;

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
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

/** Verifies `ders` (leaf first) to a pinned root; see the module comment for the rules. */
export function verifyDeviceChain(ders: Uint8Array[], o: ChainOptions): ChainResult {
  const P = o.prefix;
  const certs: X509Certificate[] = [];
  for (let i = 0; i < ders.length; i++) {
    try {
      certs.push(new X509Certificate(buf(ders[i]!)));
    } catch (e) {
      return { ok: false, simulated: false, code: `${P}_CHAIN_MALFORMED`, message: `certificate ${i} of the chain is not a valid X.509 certificate (${(e as Error).message}).`, subjects: [] };
    }
  }
  const subjects = certs.map(subjectName);
  if (certs.length === 0) {
    return { ok: false, simulated: false, code: `${P}_CHAIN_MISSING`, message: 'no certificate chain was supplied with the evidence; pass the device chain (e.g. --certs chain.pem).', subjects };
  }
  const simulated = certs.some((c) => isSimulatedCertificate(c));
  if (simulated && !o.allowSimulated) {
    return {
      ok: false,
      simulated: true,
      code: EVIDENCE_SIMULATED,
      message: 'this evidence comes from the SIMULATED platform (its certificates say SIMULATED); it proves nothing about real hardware and is refused unless simulated evidence is explicitly allowed (--allow-simulated).',
      subjects,
    };
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!signedBy(certs[i]!, certs[i + 1]!)) {
      return { ok: false, simulated, code: `${P}_CHAIN_BROKEN`, message: `"${subjects[i]}" is not issued and signed by the next certificate "${subjects[i + 1]}"; the chain is incomplete, out of order or forged.`, subjects };
    }
  }
  // Trust anchor: the last certificate is a pinned root, or is signed by one.
  // Simulated anchors must themselves be SIMULATED self-signed roots; checked only for the one used.
  const anchors = simulated ? [...(o.simulatedRoots ?? []), ...simulatedTrustAnchors()] : o.pinnedRoots;
  const acceptable = (der: Uint8Array): boolean => !simulated || isSimulatedRoot(der);
  const last = certs[certs.length - 1]!;
  const lastDer = new Uint8Array(last.raw);
  let anchor: X509Certificate | undefined;
  if (anchors.some((a) => bytesEqual(lastDer, a)) && acceptable(lastDer)) anchor = last;
  if (!anchor) {
    for (const a of anchors) {
      let ac: X509Certificate;
      try {
        ac = new X509Certificate(buf(a));
      } catch {
        continue;
      }
      if (last.issuer === ac.subject && signedBy(last, ac) && acceptable(a)) {
        anchor = ac;
        certs.push(ac);
        subjects.push(subjectName(ac));
        break;
      }
    }
  }
  if (!anchor) {
    return simulated
      ? { ok: false, simulated, code: `${P}_UNTRUSTED_ROOT`, message: `the chain ends in "${subjects[subjects.length - 1]}", which is not one of the simulated roots given (options.simulatedRoots) or created in this process.`, subjects }
      : { ok: false, simulated, code: `${P}_UNTRUSTED_ROOT`, message: `the chain ends in "${subjects[subjects.length - 1]}", which is neither the pinned root nor issued by it.`, subjects };
  }
  for (let i = 0; i < certs.length; i++) {
    const { notBefore, notAfter } = validity(certs[i]!);
    if (!(o.at >= notBefore && o.at <= notAfter)) {
      return {
        ok: false,
        simulated,
        code: `${P}_CERT_EXPIRED`,
        message: `"${subjects[i]}" is valid ${notBefore.toISOString()} .. ${notAfter.toISOString()}, not at the verification time ${o.at.toISOString()} (pass the time the evidence was taken with --at).`,
        subjects,
      };
    }
  }
  return { ok: true, simulated, certs, subjects };
}
