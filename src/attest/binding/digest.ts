/**
 * The binding of a model signature to TEE evidence (DESIGN §5), as pure functions over bytes.
 *
 *   bindingDigest = SHA-512(LABEL ‖ root ‖ SHA-256(statements) ‖ SHA-256(signer SPKI DER) ‖ nonce)   (64 B)
 *   gpuNonce      = SHA-256(the same inputs)                                                          (32 B)
 *   reportData    = SHA-512(the same inputs ‖ D1 ‖ … ‖ Dn)                                            (64 B)
 *                   Di = SHA-256(raw bytes of device evidence i), in statement order; with no device
 *                   evidence (n = 0) reportData == bindingDigest.
 *
 * Every input before the digests has a fixed size (LABEL is a constant, the root, the two digests and the
 * nonce are 32 bytes each), so the encoding is unambiguous: the number of device digests is the only
 * variable and it is fixed by the input length. That is why the nonce is exactly 32 bytes.
 *
 * "statements" is the ordered list of DSSE payloads the signer signed (the OMS statement of the bundle,
 * then the Merkle companion statement when there is one). Each is framed by its length (u64 big-endian)
 * before hashing so that two statements can never be re-cut into two others with the same digest.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { InputError, type InputCode } from '../../errors.js';

/** Domain-separation label of the signature ↔ evidence binding (ASCII, no terminator). */
export const BINDING_LABEL = 'modelseal/attest/v1';
/** Size of every fixed binding input (root, digests, nonce). */
export const BINDING_FIELD_BYTES = 32;
/** Size of SNP / TDX REPORT_DATA, and of the binding digest. */
export const REPORT_DATA_BYTES = 64;

declare const NONCE_BRAND: unique symbol;

/**
 * A 32-byte attestation nonce that has been checked where it entered (library options, CLI flags):
 * inner layers take this type and trust it.
 */
export type AttestationNonce = Uint8Array & { readonly [NONCE_BRAND]: true };

/**
 * Validates an attestation nonce (raw bytes, or hex with an optional `0x`) once, at the boundary.
 * @throws InputError ATT_INPUT when it is not exactly 32 bytes.
 */
export function attestationNonce(value: Uint8Array | string): AttestationNonce {
  let bytes: Uint8Array;
  if (typeof value === 'string') {
    const v = value.trim().replace(/^0x/i, '');
    if (!/^[0-9a-fA-F]*$/.test(v) || v.length % 2 !== 0) throw new InputError('ATT_INPUT', 'The attestation nonce must be hex.');
    bytes = new Uint8Array(Buffer.from(v, 'hex'));
  } else if (value instanceof Uint8Array) bytes = value;
  else throw new TypeError('nonce must be a Uint8Array or a hex string');
  if (bytes.length !== BINDING_FIELD_BYTES) throw new InputError('ATT_INPUT', `The attestation nonce must be ${BINDING_FIELD_BYTES} bytes.`);
  return bytes as AttestationNonce;
}

/** The inputs the binding is computed from, all raw bytes. */
export interface BindingInputs {
  /** OMS model root digest (SHA-256, raw 32 bytes). */
  rootDigest: Uint8Array;
  /** SHA-256 over the framed signed statements (see {@link statementsDigest}). */
  statementsDigest: Uint8Array;
  /** SHA-256 of the signer's SubjectPublicKeyInfo, DER. */
  signerKeyDigest: Uint8Array;
  /** Freshness nonce: the relying party's, or 32 random bytes. */
  nonce: Uint8Array;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function checkLength(value: Uint8Array, length: number, name: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length !== length) {
    throw new InputError('ATT_INPUT', `${name} must be exactly ${length} bytes, got ${value.length}.`);
  }
}

/**
 * The model root digest as raw bytes, from raw bytes or hex, checked once where it enters.
 * @throws InputError `code` (ATT_INPUT, or RECEIPT_INPUT for receipts) when it is not 32 bytes.
 */
export function rootDigestBytes(v: Uint8Array | string, code: InputCode = 'ATT_INPUT', name = 'rootDigest'): Uint8Array {
  if (typeof v === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new InputError(code, `${name} must be 32 bytes (64 hex digits).`);
    return new Uint8Array(Buffer.from(v, 'hex'));
  }
  if (v.length !== BINDING_FIELD_BYTES) throw new InputError(code, `${name} must be 32 bytes.`);
  return v;
}

/** SHA-256 over the statements, each framed by its length as u64 big-endian. */
export function statementsDigest(statements: readonly Uint8Array[]): Uint8Array {
  if (statements.length === 0) throw new InputError('ATT_INPUT', 'At least one signed statement is required for the binding.');
  const h = createHash('sha256');
  for (const s of statements) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(s.length));
    h.update(len);
    h.update(s);
  }
  return new Uint8Array(h.digest());
}

/** DER SubjectPublicKeyInfo of a public key given as KeyObject, PEM text or DER bytes (private keys give their public half). */
export function spkiDer(key: KeyObject | string | Uint8Array): Uint8Array {
  let pub: KeyObject;
  try {
    if (typeof key === 'string') pub = createPublicKey(key);
    else if (key instanceof Uint8Array) pub = createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
    else pub = key.type === 'public' ? key : createPublicKey(key);
  } catch (e) {
    throw new InputError('ATT_INPUT', 'The signer key could not be read as a public key (PEM or DER SPKI expected).', { cause: e });
  }
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

/** SHA-256 of the signer's DER SPKI. */
export function signerKeyDigest(key: KeyObject | string | Uint8Array): Uint8Array {
  return sha256(spkiDer(key));
}

function checkInputs(inputs: BindingInputs): void {
  checkLength(inputs.rootDigest, BINDING_FIELD_BYTES, 'rootDigest');
  checkLength(inputs.statementsDigest, BINDING_FIELD_BYTES, 'statementsDigest');
  checkLength(inputs.signerKeyDigest, BINDING_FIELD_BYTES, 'signerKeyDigest');
  checkLength(inputs.nonce, BINDING_FIELD_BYTES, 'nonce');
}

function preimage(inputs: BindingInputs): Uint8Array[] {
  checkInputs(inputs);
  return [Buffer.from(BINDING_LABEL, 'ascii'), inputs.rootDigest, inputs.statementsDigest, inputs.signerKeyDigest, inputs.nonce];
}

/** The 64-byte binding digest of DESIGN §5. */
export function bindingDigest(inputs: BindingInputs): Uint8Array {
  return sha512(...preimage(inputs));
}

/** The 32-byte nonce given to device evidence (NVIDIA SPDM requester nonce) before the CPU report is taken. */
export function gpuNonce(inputs: BindingInputs): Uint8Array {
  return sha256(...preimage(inputs));
}

/** SHA-256 of one piece of device evidence, as covered by the CPU report. */
export function evidenceDigest(data: Uint8Array): Uint8Array {
  return sha256(data);
}

/**
 * The CPU report's 64-byte REPORT_DATA: the binding digest extended with the digests of the device
 * evidence (GPU, TDISP) taken before it, in order; equal to {@link bindingDigest} when there is none.
 */
export function cpuReportData(inputs: BindingInputs, deviceEvidence: readonly Uint8Array[]): Uint8Array {
  if (deviceEvidence.length === 0) return bindingDigest(inputs);
  return sha512(...preimage(inputs), ...deviceEvidence.map(evidenceDigest));
}
