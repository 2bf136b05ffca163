/**
 * Certificate-chain verification to pinned roots, for device (SPDM) chains: NVIDIA GPUs/NVSwitches,
 * TDISP devices and the simulated platform. Leaf first; every link's issuer name and signature are
 * checked, every certificate must be valid at the verification time, and the chain must end in (or
 * be issued by) a pinned root compared byte for byte. A chain ending in a SIMULATED root is
 * reported as simulated and accepted only with `allowSimulated`. The path itself is built and
 * checked by the one chain verifier (src/crypto/chain.ts, `as-given` order); this module words its
 * verdicts with the NV / NV_RIM / TDISP codes.
 */
import { X509Certificate } from 'node:crypto';
import { buf } from '../../crypto/bytes.js';
import { chainCert, verifyCertChain, type ChainCert } from '../../crypto/chain.js';
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

/** Anchors that parse; a simulated chain may end only at a simulated self-signed root. */
function anchorCerts(ders: Uint8Array[], simulated: boolean): ChainCert[] {
  const out: ChainCert[] = [];
  for (const a of ders) {
    if (simulated && !isSimulatedRoot(a)) continue;
    try {
      out.push(chainCert(new X509Certificate(buf(a))));
    } catch {
      continue;
    }
  }
  return out;
}

/** Verifies `ders` (leaf first) to a pinned root; see the module comment for the rules. */
export function verifyDeviceChain(ders: Uint8Array[], o: ChainOptions): ChainResult {
  const P = o.prefix;
  const certs: ChainCert[] = [];
  for (let i = 0; i < ders.length; i++) {
    try {
      certs.push(chainCert(new X509Certificate(buf(ders[i]!))));
    } catch (e) {
      return { ok: false, simulated: false, code: `${P}_CHAIN_MALFORMED`, message: `certificate ${i} of the chain is not a valid X.509 certificate (${(e as Error).message}).`, subjects: [] };
    }
  }
  const subjects = certs.map((c) => subjectName(c.x509));
  if (certs.length === 0) {
    return { ok: false, simulated: false, code: `${P}_CHAIN_MISSING`, message: 'no certificate chain was supplied with the evidence; pass the device chain (e.g. --certs chain.pem).', subjects };
  }
  const simulated = certs.some((c) => isSimulatedCertificate(c.x509));
  if (simulated && !o.allowSimulated) {
    return {
      ok: false,
      simulated: true,
      code: EVIDENCE_SIMULATED,
      message: 'this evidence comes from the SIMULATED platform (its certificates say SIMULATED); it proves nothing about real hardware and is refused unless simulated evidence is explicitly allowed (--allow-simulated).',
      subjects,
    };
  }
  // Simulated chains were allowed above; they are checked against simulated anchors only.
  const anchors = anchorCerts(simulated ? [...(o.simulatedRoots ?? []), ...simulatedTrustAnchors()] : o.pinnedRoots, simulated);
  const v = verifyCertChain(certs[0]!, certs.slice(1), {
    at: o.at,
    anchors,
    order: 'as-given',
    // The path is the device's own chain plus at most its anchor.
    maxLength: certs.length + 1,
    requireCA: false,
    validity: 'whole-path',
  });
  if (v.ok) return { ok: true, simulated, certs: v.path.map((c) => c.x509), subjects: v.path.map((c) => subjectName(c.x509)) };
  switch (v.reason) {
    case 'expired':
    case 'not-yet-valid': {
      const { notBefore, notAfter } = validity(v.cert.x509);
      return {
        ok: false,
        simulated,
        code: `${P}_CERT_EXPIRED`,
        message: `"${subjectName(v.cert.x509)}" is valid ${notBefore.toISOString()} .. ${notAfter.toISOString()}, not at the verification time ${o.at.toISOString()} (pass the time the evidence was taken with --at).`,
        subjects: v.path.map((c) => subjectName(c.x509)),
      };
    }
    case 'no-issuer':
      if (v.index + 1 < certs.length) {
        return { ok: false, simulated, code: `${P}_CHAIN_BROKEN`, message: `"${subjects[v.index]}" is not issued and signed by the next certificate "${subjects[v.index + 1]}"; the chain is incomplete, out of order or forged.`, subjects };
      }
      break;
    default:
      // anchor-not-self-signed cannot happen (pinned roots are self-signed, simulated ones filtered
      // above); too-long, issuer-not-ca and the rest are not asked for in `as-given` order.
      break;
  }
  return simulated
    ? { ok: false, simulated, code: `${P}_UNTRUSTED_ROOT`, message: `the chain ends in "${subjects[subjects.length - 1]}", which is not one of the simulated roots given (options.simulatedRoots) or created in this process.`, subjects }
    : { ok: false, simulated, code: `${P}_UNTRUSTED_ROOT`, message: `the chain ends in "${subjects[subjects.length - 1]}", which is neither the pinned root nor issued by it.`, subjects };
}
