/**
 * Producing the attestation of a signature: device evidence first (bound by the GPU nonce), the CPU
 * report last (its REPORT_DATA covers the binding and the device evidence), all recorded in an in-toto
 * statement signed by the bundle's key.
 */
import { randomBytes } from 'node:crypto';
import { writeOutputFile } from '../../io/output-file.js';
import type { EvidenceKind } from '../types.js';
import { InputError, ModelsealError } from '../../errors.js';
import {
  BINDING_FIELD_BYTES,
  BINDING_LABEL,
  bindingDigest,
  cpuReportData,
  evidenceDigest,
  gpuNonce,
  signerKeyDigest,
  statementsDigest,
  type BindingInputs,
} from './digest.js';
import { keySigner, signEnvelope, type EnvelopeSigner } from './dsse.js';
import {
  ATTESTATION_MEDIA_TYPE,
  ATTESTATION_PREDICATE_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  roleOf,
  type AttestationFile,
  type AttestationStatement,
  type EvidenceEntry,
} from './statement.js';
import type { KeyObject } from 'node:crypto';

/** One piece of evidence as an evidence source returns it. */
export interface CollectedEvidence {
  kind: EvidenceKind;
  /** Raw evidence bytes in the platform's own layout (SNP report, TDX quote, SPDM request‖response, TDISP report). */
  data: Uint8Array;
  /** DER certificates that came with it (VCEK and chain from the cert table, GPU chain from NVML, ...). */
  certs?: Uint8Array[];
  /** configfs-tsm, sev-guest, tdx-guest, nvml, pci-tsm, simulated. */
  provider: string;
  simulated: boolean;
  collectedAt?: Date;
  details?: Record<string, unknown>;
}

/**
 * Where evidence comes from: real hardware (acquire/) or the simulated platform. The binding code only
 * sees this interface, so the order (devices first, CPU last) is enforced in one place.
 */
export interface EvidenceSource {
  /** Shown to the user, e.g. "SIMULATED platform (not real hardware)" or "sev-snp via configfs-tsm". */
  readonly description: string;
  readonly simulated: boolean;
  /** GPU / TDISP evidence taken with the 32-byte nonce; [] when the source has no devices. */
  collectDevices(nonce: Uint8Array): Promise<CollectedEvidence[]>;
  /** The CPU report with this 64-byte REPORT_DATA; null when the source has no CPU TEE (GPU only). */
  collectCpu(reportData: Uint8Array): Promise<CollectedEvidence | null>;
}

export interface AttestSignatureOptions {
  /** OMS model root digest (raw 32 bytes, or hex). */
  rootDigest: Uint8Array | string;
  /** Subject name recorded in the statement (the OMS statement's subject name); default "model". */
  subjectName?: string;
  /** The DSSE payloads of the bundle (OMS statement, then the companion statement when present). */
  statements: Uint8Array[];
  /** The bundle's signing key (EC private key: KeyObject or PEM) or a signer. */
  signer: EnvelopeSigner | KeyObject | string;
  /** 32-byte freshness nonce; default: 32 random bytes. */
  nonce?: Uint8Array;
  source: EvidenceSource;
  /** Clock (tests). */
  now?: () => Date;
  /** Recorded as predicate.tool. */
  tool?: string;
}

export interface AttestSignatureResult {
  statement: AttestationStatement;
  file: AttestationFile;
  /** The file's bytes (JSON, newline-terminated), ready for {@link writeAttestationFile}. */
  bytes: Uint8Array;
  simulated: boolean;
}

function rawDigest(v: Uint8Array | string, name: string): Uint8Array {
  if (typeof v === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new InputError('ATT_INPUT', `${name} must be 32 bytes (64 hex digits).`);
    return new Uint8Array(Buffer.from(v, 'hex'));
  }
  if (v.length !== BINDING_FIELD_BYTES) throw new InputError('ATT_INPUT', `${name} must be 32 bytes.`);
  return v;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
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
 * Attests a signature: computes the binding, takes device evidence with the GPU nonce, then the CPU
 * report with REPORT_DATA covering the binding and the device evidence, and signs the statement with
 * the bundle's key. Nothing is written; see {@link writeAttestationFile}.
 */
export async function attestSignature(options: AttestSignatureOptions): Promise<AttestSignatureResult> {
  const now = options.now ?? (() => new Date());
  const signer: EnvelopeSigner =
    typeof options.signer === 'object' && 'sign' in options.signer && 'publicKeySpki' in options.signer
      ? options.signer
      : keySigner(options.signer as KeyObject | string);
  const nonce = options.nonce ?? new Uint8Array(randomBytes(BINDING_FIELD_BYTES));
  if (nonce.length !== BINDING_FIELD_BYTES) throw new InputError('ATT_INPUT', `The attestation nonce must be ${BINDING_FIELD_BYTES} bytes.`);
  const inputs: BindingInputs = {
    rootDigest: rawDigest(options.rootDigest, 'rootDigest'),
    statementsDigest: statementsDigest(options.statements),
    signerKeyDigest: signerKeyDigest(signer.publicKeySpki),
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
  const statement: AttestationStatement = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: options.subjectName ?? 'model', digest: { sha256: hex(inputs.rootDigest) } }],
    predicateType: ATTESTATION_PREDICATE_TYPE,
    predicate: {
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
    },
  };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const file: AttestationFile = { mediaType: ATTESTATION_MEDIA_TYPE, dsseEnvelope: await signEnvelope(payload, signer) };
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8'));
  return { statement, file, bytes, simulated };
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
