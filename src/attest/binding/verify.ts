/**
 * Verifying an attestation statement (cryptography only; policy is validate, in policy/):
 *   1. the DSSE signature, with the key that signed the bundle;
 *   2. the binding inputs against what the caller verified: model root, the bundle's statements, the
 *      signer key, and the relying party's nonce when it has one;
 *   3. each piece of evidence with its platform verifier (vendor chain to a pinned root);
 *   4. the binding itself: the GPU nonce in device evidence, REPORT_DATA of the CPU report recomputed
 *      over the binding inputs and the device evidence actually present.
 * Simulated evidence is refused unless `allowSimulated`, and the result always says when it is simulated.
 */
import type { KeyObject } from 'node:crypto';
import type { EvidenceKind, EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { InputError } from '../../errors.js';
import { isSimulatedRoot } from '../roots/simulated.js';
import {
  BINDING_LABEL,
  bindingDigest,
  cpuReportData,
  evidenceDigest,
  gpuNonce,
  signerKeyDigest,
  statementsDigest,
  rootDigestBytes,
  type BindingInputs,
} from './digest.js';
import { bytesEqual as equal, toHex as hex } from '../../crypto/bytes.js';
import { decodeBase64, verifyEnvelope } from '../../crypto/dsse.js';
import { boundValueFromBytes, boundValueFromClaims } from './bound-values.js';
import { parseAttestationFile, parseAttestationStatement, type AttestationStatement, type EvidenceRole } from './statement.js';
import { verifyEvidence } from '../evidence/index.js';

/** A platform verifier: `verifyEvidence` of src/attest/evidence/, or a stand-in in tests. */
export type EvidenceVerifier = (data: Uint8Array, options: VerifyEvidenceOptions) => Promise<EvidenceVerdict> | EvidenceVerdict;

export interface VerifyAttestationOptions {
  /** The model root digest the bundle verified (raw 32 bytes or hex). */
  rootDigest: Uint8Array | string;
  /** The bundle's DSSE payloads, in the order they were attested (OMS statement first). */
  statements: Uint8Array[];
  /** The key the bundle verified with (public key: KeyObject, PEM or DER SPKI). */
  signerPublicKey: KeyObject | string | Uint8Array;
  /** The relying party's 32-byte nonce, when it asked for a fresh attestation. */
  expectedNonce?: Uint8Array;
  allowSimulated?: boolean;
  /** Verification time for certificates and collateral (default now). */
  at?: Date;
  collateralDir?: string;
  /** NVIDIA RIMs, passed through to the GPU verifier. */
  rims?: Uint8Array[];
  /** Defaults to `verifyEvidence` from src/attest/evidence/. */
  verifyEvidence?: EvidenceVerifier;
}

/** A verdict with the time its evidence was taken: what the policy validator reads. */
export type TimedVerdict = EvidenceVerdict & { collectedAt?: string; provider?: string };

export interface VerifiedEvidence {
  index: number;
  kind: EvidenceKind;
  role: EvidenceRole;
  provider: string;
  simulated: boolean;
  collectedAt: string;
  sha256: string;
  /** true when the evidence carries the expected GPU nonce / REPORT_DATA (tdisp: covered by the CPU report). */
  bound: boolean;
  verdict: EvidenceVerdict;
}

export interface AttestationFailure {
  code: string;
  message: string;
}

export interface AttestationVerification {
  /** true only when the signature, every piece of evidence and the binding verified (and simulated evidence was allowed). */
  ok: boolean;
  /** The first failure's code (ATT_SIGNATURE, ATT_BINDING_MISMATCH, ATT_NONCE_MISMATCH, ATT_EVIDENCE, ATT_SIMULATED, ATT_UNBOUND). */
  code?: string;
  message: string;
  /** true when any evidence is simulated: it then proves nothing about real hardware. */
  simulated: boolean;
  failures: AttestationFailure[];
  statement?: AttestationStatement;
  evidence: VerifiedEvidence[];
  /** Verdicts with their collection time, for `validatePolicy`. */
  verdicts: TimedVerdict[];
  /** The nonce the attestation was taken with (hex). */
  nonce?: string;
}


/** Runs a platform verifier; a throw (unparseable evidence) becomes a failed verdict, never a crash. */
export async function verifyOne(
  verify: EvidenceVerifier,
  kind: EvidenceKind,
  data: Uint8Array,
  certs: Uint8Array[],
  o: { at?: Date | undefined; allowSimulated?: boolean | undefined; collateralDir?: string | undefined; rims?: Uint8Array[] | undefined },
): Promise<EvidenceVerdict> {
  const options: VerifyEvidenceOptions = {
    ...(o.at ? { at: o.at } : {}),
    allowSimulated: o.allowSimulated === true,
    certs,
    // Only self-signed roots that say SIMULATED, and verifiers accept them only with allowSimulated.
    simulatedRoots: certs.filter((c) => isSimulatedRoot(c)),
    ...(o.collateralDir ? { collateralDir: o.collateralDir } : {}),
    ...(o.rims ? { rims: o.rims } : {}),
  };
  try {
    return await verify(data, options);
  } catch (e) {
    const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'EVIDENCE_UNREADABLE';
    return { kind, verified: false, simulated: false, code, message: (e as Error).message ?? String(e), chain: [], claims: {}, warnings: [] };
  }
}

/** Verifies an attestation file's bytes (see module doc). Throws InputError only for unreadable input. */
export async function verifyAttestation(file: Uint8Array | string, options: VerifyAttestationOptions): Promise<AttestationVerification> {
  const failures: AttestationFailure[] = [];
  const evidence: VerifiedEvidence[] = [];
  const result = (statement?: AttestationStatement, nonce?: string): AttestationVerification => {
    const simulated = evidence.some((e) => e.simulated) || statement?.predicate.simulated === true;
    const ok = failures.length === 0;
    const verdicts: TimedVerdict[] = evidence.map((e) => ({ ...e.verdict, collectedAt: e.collectedAt, provider: e.provider }));
    const kinds = evidence.map((e) => e.kind).join(' + ');
    const message = ok
      ? `Attestation verified: ${kinds} evidence bound to the model root and the signer key${simulated ? ' (SIMULATED platform: proves nothing about real hardware)' : ''}.`
      : failures[0]!.message;
    return { ok, ...(ok ? {} : { code: failures[0]!.code }), message, simulated, failures, ...(statement ? { statement } : {}), evidence, verdicts, ...(nonce ? { nonce } : {}) };
  };

  const parsed = parseAttestationFile(file);
  let payload: Uint8Array;
  try {
    payload = verifyEnvelope(parsed.dsseEnvelope, options.signerPublicKey);
  } catch (e) {
    if (e instanceof InputError && e.code === 'ATT_KEY') throw e; // the caller's key, not the file
    failures.push({ code: 'ATT_SIGNATURE', message: (e as Error).message });
    return result();
  }
  const statement = parseAttestationStatement(payload);
  const p = statement.predicate;
  if (p.bindingInputs.label !== BINDING_LABEL) {
    throw new InputError('ATT_FORMAT', `Unknown binding label "${p.bindingInputs.label}" (this version understands ${BINDING_LABEL}).`);
  }

  // 2. The binding inputs must be the ones the caller verified.
  const root = rootDigestBytes(options.rootDigest);
  const inputs: BindingInputs = {
    rootDigest: root,
    statementsDigest: statementsDigest(options.statements),
    signerKeyDigest: signerKeyDigest(options.signerPublicKey),
    nonce: new Uint8Array(Buffer.from(p.bindingInputs.nonce, 'hex')),
  };
  const mismatch = (what: string) => failures.push({ code: 'ATT_BINDING_MISMATCH', message: what });
  if (statement.subject[0]!.digest.sha256 !== hex(root) || p.bindingInputs.rootDigest !== hex(root)) {
    mismatch('The attestation is for another model: its root digest differs from the verified model\'s.');
  }
  if (p.bindingInputs.statementsDigest !== hex(inputs.statementsDigest)) {
    mismatch('The attestation covers other signed statements than this bundle\'s.');
  }
  if (p.bindingInputs.signerKeyDigest !== hex(inputs.signerKeyDigest)) {
    mismatch('The attestation names another signer key than the bundle\'s.');
  }
  if (options.expectedNonce !== undefined && !equal(options.expectedNonce, inputs.nonce)) {
    failures.push({ code: 'ATT_NONCE_MISMATCH', message: 'The attestation was taken with another nonce than the one expected: it is not fresh for this request.' });
  }

  // Recompute everything from the (caller-verified) inputs; the recorded values are only cross-checked.
  const entries = p.evidence;
  const cpuIndexes = entries.flatMap((e, i) => (e.role === 'cpu' ? [i] : []));
  if (cpuIndexes.length > 1 || (cpuIndexes.length === 1 && cpuIndexes[0] !== entries.length - 1)) {
    throw new InputError('ATT_FORMAT', 'The attestation must hold at most one CPU report, and it must come last.');
  }
  const datas = entries.map((e, i) => decodeBase64(e.data, `evidence[${i}].data`));
  const deviceDatas = datas.filter((_, i) => entries[i]!.role === 'device');
  const expectedGpuNonce = gpuNonce(inputs);
  const expectedReportData = cpuReportData(inputs, deviceDatas);
  if (p.bindingDigest !== hex(bindingDigest(inputs))) mismatch('The recorded binding digest does not match the binding inputs.');
  if (deviceDatas.length > 0 && p.gpuNonce !== hex(expectedGpuNonce)) mismatch('The recorded GPU nonce does not match the binding inputs.');
  if (cpuIndexes.length === 1 && p.reportData !== hex(expectedReportData)) {
    mismatch('The recorded REPORT_DATA does not match the binding inputs and the device evidence.');
  }
  if (cpuIndexes.length === 0 && entries.some((e) => e.kind === 'tdisp')) {
    failures.push({ code: 'ATT_UNBOUND', message: 'TDISP evidence is present but no CPU report covers it: it is not bound to the signature.' });
  }

  // 3 + 4. Each piece of evidence: platform verification, then its bound value.
  const verify = options.verifyEvidence ?? verifyEvidence;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const data = datas[i]!;
    const certs = e.certs.map((c, j) => decodeBase64(c, `evidence[${i}].certs[${j}]`));
    const verdict = await verifyOne(verify, e.kind, data, certs, options);
    const simulated = verdict.simulated || e.simulated;
    let bound = false;
    if (verdict.kind !== e.kind) {
      failures.push({ code: 'ATT_EVIDENCE', message: `evidence[${i}] is recorded as ${e.kind} but its content is ${verdict.kind}.` });
    } else if (hex(evidenceDigest(data)) !== e.sha256) {
      mismatch(`evidence[${i}] (${e.kind}): the recorded SHA-256 does not match its bytes.`);
    } else if (verdict.simulated && !e.simulated) {
      failures.push({ code: 'ATT_EVIDENCE', message: `evidence[${i}] (${e.kind}) is labelled real but chains to a SIMULATED root.` });
    } else if (simulated && !options.allowSimulated) {
      failures.push({
        code: 'ATT_SIMULATED',
        message: `evidence[${i}] (${e.kind}) comes from the SIMULATED platform and proves nothing about real hardware; refused (pass --allow-simulated / allowSimulated for tests and demos).`,
      });
    } else if (!verdict.verified) {
      failures.push({ code: 'ATT_EVIDENCE', message: `evidence[${i}] (${e.kind}) did not verify [${verdict.code ?? 'UNKNOWN'}]: ${verdict.message}` });
    } else if (e.kind === 'tdisp') {
      // Covered by the CPU report's REPORT_DATA (checked below); a signed SPDM transcript, when the
      // report has one, must also carry the GPU nonce.
      const nonce = boundValueFromClaims('tdisp', verdict.claims);
      if (nonce && !equal(nonce, expectedGpuNonce)) {
        mismatch(`evidence[${i}] (tdisp): the SPDM transcript's nonce is not the one derived from this model, these statements and this key.`);
      } else bound = cpuIndexes.length === 1;
    } else {
      const expected = e.role === 'cpu' ? expectedReportData : expectedGpuNonce;
      // Raw layouts are read here; envelopes (e.g. nvtrust JSON around the SPDM bytes) only by the verifier.
      const fromBytes = boundValueFromBytes(e.kind, data);
      const fromClaims = boundValueFromClaims(e.kind, verdict.claims);
      const value = fromBytes ?? fromClaims;
      if (!value) {
        failures.push({ code: 'ATT_EVIDENCE', message: `evidence[${i}] (${e.kind}): its ${e.role === 'cpu' ? 'REPORT_DATA' : 'nonce'} could not be read.` });
      } else if (fromBytes && fromClaims && !equal(fromClaims, fromBytes)) {
        failures.push({ code: 'ATT_EVIDENCE', message: `evidence[${i}] (${e.kind}): the verifier and the binding read different ${e.role === 'cpu' ? 'REPORT_DATA' : 'nonces'}.` });
      } else if (!equal(value, expected)) {
        mismatch(
          e.role === 'cpu'
            ? `evidence[${i}] (${e.kind}): REPORT_DATA is not the binding of this model, these statements, this key and the device evidence present.`
            : `evidence[${i}] (${e.kind}): the GPU nonce is not the one derived from this model, these statements and this key.`,
        );
      } else bound = true;
    }
    evidence.push({ index: i, kind: e.kind, role: e.role, provider: e.provider, simulated, collectedAt: e.collectedAt, sha256: e.sha256, bound, verdict });
  }
  // A TDISP report is bound only if the CPU report it relies on is.
  const cpuBound = cpuIndexes.length === 1 && evidence[cpuIndexes[0]!]!.bound;
  for (const ev of evidence) if (ev.kind === 'tdisp') ev.bound = ev.bound && cpuBound;

  return result(statement, p.bindingInputs.nonce);
}
