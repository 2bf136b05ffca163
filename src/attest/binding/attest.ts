/**
 * Binding evidence to a signature: device evidence first (bound by the GPU nonce), the CPU report last
 * (its REPORT_DATA covers the binding and the device evidence), all recorded in an unsigned in-toto
 * statement. sign/ signs it with the bundle's key (sign/attest-signature.ts).
 */
import { randomBytes } from 'node:crypto';
import { writeOutputFile } from '../../io/output-file.js';
import type { CollectedEvidence, EvidenceSource } from '../core/types.js';
import { InputError, ModelsealError } from '../../errors.js';
import { toHex as hex } from '../../crypto/bytes.js';
import { BINDING_FIELD_BYTES, BINDING_LABEL, attestationNonce, bindingDigest, cpuReportData, evidenceDigest, gpuNonce, rootDigestBytes, signerKeyDigest, statementsDigest } from './digest.js';
import type { AttestationNonce, BindingInputs } from './digest.js';
import {
  ATTESTATION_PREDICATE_TYPE,
  roleOf,
  type AttestationFile,
  type AttestationStatement,
  type EvidenceEntry,
} from './statement.js';
import type { KeyObject } from 'node:crypto';
import { encodeStatement, modelStatement } from '../../crypto/in-toto.js';

export interface BindEvidenceOptions {
  /** OMS model root digest (raw 32 bytes, or hex). */
  rootDigest: Uint8Array | string;
  /** Subject name recorded in the statement (the OMS statement's subject name); default "model". */
  subjectName?: string;
  /** The DSSE payloads of the bundle (OMS statement, then the companion statement when present). */
  statements: Uint8Array[];
  /** The public key that will sign the statement (KeyObject, PEM or DER SPKI): the binding names it. */
  signerPublicKey: KeyObject | string | Uint8Array;
  /** The attestation nonce, validated by the caller ({@link attestationNonce}); default: 32 random bytes. */
  nonce?: AttestationNonce;
  source: EvidenceSource;
  /** Clock (tests). */
  now?: () => Date;
  /** Recorded as predicate.tool. */
  tool?: string;
}

/** The unsigned attestation statement and what it was made from. */
export interface BoundEvidence {
  statement: AttestationStatement;
  /** The statement's bytes as they are to be signed (compact JSON). */
  payload: Uint8Array;
  simulated: boolean;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function entry(e: CollectedEvidence, now: Date): EvidenceEntry {
  return {
    kind: e.kind,
    role: roleOf(e.kind),
    encoding: 'base64',
    data: b64(e.data),
    certs: (e.certs ?? []).map(b64),
    provider: e.provider,
    simulated: e.simulated,
    collectedAt: (e.collectedAt ?? now).toISOString(),
    sha256: hex(evidenceDigest(e.data)),
    ...(e.details ? { details: e.details } : {}),
  };
}

/**
 * Computes the binding, takes device evidence with the GPU nonce, then the CPU report with
 * REPORT_DATA covering the binding and the device evidence, and returns the unsigned attestation
 * statement. Nothing is signed or written: sign/'s `attestSignature` signs it with the bundle's key.
 */
export async function bindEvidence(options: BindEvidenceOptions): Promise<BoundEvidence> {
  const now = options.now ?? (() => new Date());
  const nonce = options.nonce ?? attestationNonce(new Uint8Array(randomBytes(BINDING_FIELD_BYTES)));
  const inputs: BindingInputs = {
    rootDigest: rootDigestBytes(options.rootDigest),
    statementsDigest: statementsDigest(options.statements),
    signerKeyDigest: signerKeyDigest(options.signerPublicKey),
    nonce,
  };
  const binding = bindingDigest(inputs);
  const deviceNonce = gpuNonce(inputs);

  const devices = await options.source.collectDevices(deviceNonce);
  for (const d of devices) {
    if (roleOf(d.kind) !== 'device') throw new ModelsealError('ATT_SOURCE', `The evidence source returned ${d.kind} evidence as device evidence.`, { kind: 'internal' });
  }
  const reportData = cpuReportData(inputs, devices.map((d) => d.data));
  const cpu = await options.source.collectCpu(reportData);
  if (cpu && roleOf(cpu.kind) !== 'cpu') throw new ModelsealError('ATT_SOURCE', `The evidence source returned ${cpu.kind} evidence as the CPU report.`, { kind: 'internal' });
  if (!cpu && devices.length === 0) {
    throw new InputError('ATT_NO_EVIDENCE', `The evidence source (${options.source.description}) produced no evidence.`);
  }
  if (!cpu && devices.some((d) => d.kind === 'tdisp')) {
    // A TDISP interface report carries no nonce: only a CPU report can vouch for it.
    throw new InputError('ATT_UNBOUND', 'TDISP evidence can only be bound through a CPU report (SEV-SNP or TDX), and none was taken.');
  }

  const at = now();
  const evidence = [...devices, ...(cpu ? [cpu] : [])].map((e) => entry(e, at));
  const simulated = evidence.some((e) => e.simulated) || options.source.simulated;
  const statement: AttestationStatement = modelStatement(options.subjectName ?? 'model', hex(inputs.rootDigest), ATTESTATION_PREDICATE_TYPE, {
    bindingInputs: {
      label: BINDING_LABEL,
      rootDigest: hex(inputs.rootDigest),
      statementsDigest: hex(inputs.statementsDigest),
      signerKeyDigest: hex(inputs.signerKeyDigest),
      nonce: hex(nonce),
    },
    bindingDigest: hex(binding),
    gpuNonce: devices.length > 0 ? hex(deviceNonce) : '',
    reportData: cpu ? hex(reportData) : '',
    evidence,
    simulated,
    createdAt: at.toISOString(),
    tool: options.tool ?? 'modelseal',
  });
  return { statement, payload: encodeStatement(statement), simulated };
}

/** The `.att` file around a signed statement envelope, as bytes (JSON, newline-terminated). */
export function attestationFileBytes(file: AttestationFile): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8'));
}

/** The conventional attestation path beside a bundle. */
export function attestationPathFor(bundlePath: string): string {
  return `${bundlePath}.att`;
}

/**
 * Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename), refusing to
 * replace an existing file unless `force`.
 */
export function writeAttestationFile(path: string, bytes: Uint8Array, options: { force?: boolean } = {}): void {
  writeOutputFile(path, bytes, { force: options.force === true, what: 'the attestation', existsCode: 'ATT_EXISTS', failCode: 'ATT_WRITE' });
}
