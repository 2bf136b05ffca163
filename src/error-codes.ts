/**
 * The error-code catalogue: every `code` a {@link ModelsealError} may carry, with the CLI exit code it
 * ends in and one sentence saying what it means. This is the one place to add a code: the
 * `ErrorCode` type, the error classes and docs/errors.md (checked by test/errors-catalogue.test.ts)
 * all follow this table.
 *
 * Exit 1: verification failed (the model, signature or evidence is not what was signed, or is
 * refused). Exit 2: usage, unreadable or malformed input, or something unavailable here. A thrown
 * value that is not a ModelsealError is a bug: the CLI prints it as `INTERNAL` and exits 70.
 *
 * Codes are grouped by the area that throws them; the groups are for readers, not for the type.
 */

/** One catalogue entry. */
export interface ErrorCodeEntry {
  /** The CLI exit code an error with this code ends in. */
  readonly exit: 1 | 2;
  /** What the code means, in one sentence. */
  readonly sentence: string;
}

const usage = (sentence: string) => ({ exit: 2, sentence }) as const;
const refused = (sentence: string) => ({ exit: 1, sentence }) as const;

/** The catalogue, grouped by area. */
export const ERROR_CODES = {
  // ── command line and library options ─────────────────────────────────────────────────────────
  USAGE: usage('A command-line flag or library option is missing, malformed or out of range; the message names it.'),
  BAD_HASH: usage('The hash algorithm asked for is not sha256, blake2b or blake3.'),
  BAD_METHOD: usage('The hashing method asked for is not files or shards.'),
  BAD_SHARD_SIZE: usage('The shard size is not a positive whole number of bytes.'),
  BAD_WORKERS: usage('The worker count is not an integer from 1 to 256.'),
  SHARD_SIZE_WITHOUT_SHARDS: usage('A shard size was given without the shards method.'),
  BLAKE3_NOT_SHARDED: usage('BLAKE3 was asked for with the shards method; OMS hashes BLAKE3 by whole file only.'),
  ONLY_PATTERN_INVALID: usage('An --only pattern is malformed (a backslash, an absolute path or a parent step).'),
  ABORTED: usage('The operation was cancelled through its AbortSignal.'),

  // ── the model on disk ────────────────────────────────────────────────────────────────────────
  MODEL_NOT_FOUND: usage('The model path does not exist.'),
  MODEL_UNREADABLE: usage('The model path exists but cannot be read.'),
  MODEL_EMPTY: usage('The model holds no data to hash after ignores.'),
  SUBSET_EMPTY: usage('No file of the model matches the requested subset.'),
  FILE_NOT_FOUND: usage('A file of the model disappeared before or while it was read.'),
  FILE_UNREADABLE: usage('A file of the model cannot be read (permission denied); fix its permissions or ignore it.'),
  FILE_CHANGED: usage('A file changed size or content while it was being hashed; hash again once the model is stable.'),
  IO_ERROR: usage('Reading a file failed with an operating-system error; the message carries it.'),
  UNSUPPORTED_FILE_TYPE: usage('A path is not a regular file or directory (a device, pipe or socket) and cannot be hashed.'),
  SYMLINK_REFUSED: usage('The model contains a symbolic link and links were not allowed.'),
  SYMLINK_ESCAPES: usage('A symbolic link points outside the model root.'),
  SYMLINK_BROKEN: usage('A symbolic link points at nothing.'),
  NAME_NOT_UTF8: usage('A file name is not valid UTF-8, which OMS resource names must be.'),
  NAME_HAS_COLON: usage("A file name contains ':', which shard resource names (path:start:end) cannot carry."),
  SHARD_NAME_COLON: usage("A file name contains ':', which model_signing cannot verify in shards mode."),
  OUTPUT_EXISTS: usage('The output file already exists and --force was not given.'),
  OUTPUT_UNWRITABLE: usage('The output file cannot be written.'),

  // ── hostile inputs and faults (issue 11; src/io, src/match) ──────────────────────────────────
  OUTPUT_NOT_REGULAR: usage('The output path is a device, FIFO, socket, directory or link, which is never replaced (not even with --force).'),
  OUTPUT_NO_SPACE: usage('The disk or quota holding the output is full; nothing was written.'),
  OUTPUT_IO_ERROR: usage('An I/O error occurred while writing the output; nothing was written.'),
  OUTPUT_PATH_EMPTY: usage('The output path is empty.'),
  INPUT_NOT_REGULAR: usage('An input file (key, certificate, policy, evidence, ...) is not a regular file (a FIFO, device or directory).'),
  INPUT_TOO_LARGE: usage('An input file is larger than the cap for its kind (docs/limits.md).'),
  INPUT_PATH_EMPTY: usage('An input file path is empty.'),
  MODEL_PATH_EMPTY: usage('The model path is empty.'),
  PATH_TOO_DEEP: usage('A path in the model is nested too deeply for the system to open.'),
  BAD_OPTION: usage('A library function was called with an option of the wrong type; the message names it.'),
  ONLY_PATTERN_EMPTY: usage('An --only pattern is empty.'),
  CHAIN_TOO_LONG: usage('The certificate chain to sign with holds more certificates than verification accepts (16 with the leaf).'),

  // ── backends ─────────────────────────────────────────────────────────────────────────────────
  BACKEND_UNKNOWN: usage('The backend name asked for is not one modelseal has.'),
  BACKEND_UNAVAILABLE: usage('The backend asked for cannot run here (no addon, no GPU adapter, ...); the message says why.'),
  BACKEND_ALGORITHM: usage('The backend asked for does not compute the hash algorithm asked for.'),
  BACKEND_CLOSED: usage('A backend was used after it was closed (a caller bug).'),
  NO_BACKEND: usage('No backend on this machine computes the hash algorithm asked for.'),
  ALGORITHM_UNAVAILABLE: usage('The native backend does not compute this hash algorithm; use node-crypto or js.'),
  ALGORITHM_UNSUPPORTED: usage('GPU-resident hashing was asked for an algorithm other than sha256 or blake3.'),
  KERNEL_UNAVAILABLE: usage('The native kernel forced by name cannot run on this CPU.'),
  BAD_ARGUMENT: usage('The native addon was called with an argument of the wrong type or range (a caller bug).'),
  OUT_OF_MEMORY: usage('The native addon could not allocate its read buffers.'),
  WEBGPU_UNAVAILABLE: usage('The webgpu package (Dawn) cannot be loaded here.'),
  WEBGPU_NO_ADAPTER: usage('No WebGPU adapter is available on this machine.'),
  WEBGPU_DEVICE_LOST: usage('The GPU device was lost while hashing; hash again or use a CPU backend.'),
  GPU_BUFFER_NOT_STORAGE: usage('The GPUBuffer to hash was not created with STORAGE usage.'),
  NOT_BUILT: usage('The compiled worker in dist/ is missing; run `npm run build:ts`.'),
  INTERNAL: usage('An internal invariant failed (a bug in modelseal); please report it with the message.'),

  // ── keys, certificates and signing ───────────────────────────────────────────────────────────
  KEY_FILE_NOT_FOUND: usage('The key file does not exist.'),
  KEY_FILE_UNREADABLE: usage('The key file cannot be read.'),
  KEY_INVALID: usage('The key is not a usable PEM key of the kind required.'),
  KEY_PASSWORD: usage('The private key is encrypted and its password is missing or wrong (set MODELSEAL_KEY_PASSWORD, or pass --password).'),
  KEY_UNSUPPORTED: usage('The key is on a curve or of a type OMS signatures do not use (P-256, P-384, P-521 only).'),
  CERT_FILE_UNREADABLE: usage('A certificate file cannot be read.'),
  CERT_INVALID: usage('A certificate file holds no usable PEM certificate.'),
  CERT_MALFORMED: usage('A certificate does not parse as DER X.509, or one of its extensions is malformed.'),
  CERT_KEY_MISMATCH: usage("The signing certificate's public key is not the private key's."),
  CERT_ROOT_MISSING: usage('No trusted root certificate was given.'),
  CERT_ROOT_NOT_CA: usage('A certificate given as trusted root is not a CA certificate.'),
  SIGNER_BROKEN: usage("A fresh signature does not verify with the signer's own public key: the key and certificate disagree."),
  DER_MALFORMED: usage('A DER structure is malformed; the message says where.'),
  CRL_MALFORMED: usage('A certificate revocation list does not parse.'),
  IDENTITY_TOKEN_INVALID: usage('The OIDC identity token for keyless signing is not a JWT, or Fulcio refused it.'),
  IDENTITY_TOKEN_MISSING: usage('Keyless signing found no OIDC identity token: none was given and no ambient CI credentials exist.'),
  KEYLESS_SIGNING_FAILED: usage('Keyless signing could not get a certificate from Fulcio or an entry in Rekor (network access is needed).'),
  SIGSTORE_SIGN_UNAVAILABLE: usage("The '@sigstore/sign' package that keyless signing needs could not be loaded."),

  // ── plain manifest files (hash --output / hash --check) ──────────────────────────────────────
  SUMS_NOT_FOUND: usage('The manifest file given to hash --check does not exist.'),
  SUMS_UNREADABLE: usage('The manifest file given to hash --check cannot be read or is not a regular file.'),
  SUMS_TOO_LARGE: usage('The manifest file is over the size limit for manifest files.'),
  SUMS_INVALID: usage('The manifest file is not one hash --output writes, or was edited so that its lines and root digest disagree.'),

  // ── bundles and statements ───────────────────────────────────────────────────────────────────
  BUNDLE_NOT_FOUND: usage('The signature bundle does not exist.'),
  BUNDLE_UNREADABLE: usage('The signature bundle cannot be read.'),
  BUNDLE_TOO_LARGE: usage('The signature bundle is larger than any real OMS bundle and is refused.'),
  BUNDLE_JSON_INVALID: usage('The signature bundle is empty or not JSON.'),
  BUNDLE_MALFORMED: usage('The signature bundle does not have the Sigstore bundle shape.'),
  BUNDLE_MEDIA_TYPE_UNSUPPORTED: usage('The bundle mediaType names a Sigstore bundle version this tool does not accept.'),
  BUNDLE_MATERIAL_MISSING: usage('The bundle has no verificationMaterial.'),
  BUNDLE_ENVELOPE_MISSING: usage('The bundle has no DSSE envelope (message-signature bundles are not model signatures).'),
  BUNDLE_SIGNATURE_MISSING: usage('The DSSE envelope in the bundle has no signature.'),
  BUNDLE_BASE64_INVALID: usage('A base64 field of the bundle is not valid base64.'),
  BUNDLE_TLOG_MISSING: usage('A keyless bundle has no transparency-log entry.'),
  DSSE_PAYLOAD_TYPE_UNSUPPORTED: usage('The DSSE payloadType is not the in-toto one.'),
  STATEMENT_MALFORMED: usage('The signed payload is not an in-toto statement.'),
  STATEMENT_TYPE_UNSUPPORTED: usage('The statement _type is not in-toto Statement v1.'),
  STATEMENT_PREDICATE_UNSUPPORTED: usage('The statement predicateType is not an OMS one.'),
  STATEMENT_SUBJECT_INVALID: usage('The statement subject is not one model root digest.'),
  STATEMENT_SERIALIZATION_INVALID: usage('The statement serialization block is missing or malformed.'),
  STATEMENT_HASH_UNSUPPORTED: usage('The statement names a hash algorithm this tool does not compute.'),
  STATEMENT_IGNORE_PATH_INVALID: usage('An ignore path recorded in the statement is malformed.'),
  STATEMENT_RESOURCES_INVALID: usage('The statement resources list is missing or malformed.'),
  STATEMENT_TOO_MANY_RESOURCES: usage('The statement lists more resources than the limit and is refused.'),
  RESOURCE_NAME_INVALID: usage('A resource name in the statement is malformed or escapes the model.'),
  RESOURCE_DIGEST_INVALID: usage('A resource digest in the statement is not hex of the right length.'),
  RESOURCE_ALGORITHM_MISMATCH: usage('A resource names a different algorithm than the statement.'),
  RESOURCE_DUPLICATE: usage('The statement lists a resource twice.'),
  VERIFIER_MISMATCH: usage('The bundle was signed with another method (key, certificate, Sigstore) than the one given to verify it.'),
  TRUSTED_ROOT_UNAVAILABLE: usage('No Sigstore trusted root is installed or given.'),
  TRUSTED_ROOT_INVALID: usage('The Sigstore trusted root file cannot be read or parsed.'),

  // ── verification verdicts (exit 1) ───────────────────────────────────────────────────────────
  ROOT_DIGEST_MISMATCH: refused('The statement root digest is not the digest of its resources: the statement was altered.'),
  SIGNATURE_INVALID: refused('The bundle signature does not verify with the given key or certificate.'),
  SIGNATURE_MALFORMED: refused('The bundle signature is not a DER ECDSA signature: the bundle was damaged.'),
  KEY_MISMATCH: refused('The bundle was signed by another key than the one given.'),
  CERT_CHAIN_INVALID: refused('The signing certificate does not chain to the trusted root at signing time.'),
  CERT_USAGE_INVALID: refused('The signing certificate may not sign code (key usage or extended key usage).'),
  CERT_CHAIN_PARTIAL: refused('The signing certificate chains only to a trusted root that is not self-signed (an intermediate CA), and partial chains were not allowed.'),
  SIGSTORE_IDENTITY_MISMATCH: refused('A keyless bundle was not signed by the expected identity and issuer.'),
  SIGSTORE_ERROR: refused('Sigstore verification of a keyless bundle failed for a reason sigstore-js did not name.'),
  SIGSTORE_NOT_IMPLEMENTED: refused('The keyless bundle needs a Sigstore check sigstore-js does not implement.'),
  SIGSTORE_TLOG: refused("The keyless bundle's transparency-log entry does not verify."),
  SIGSTORE_TLOG_INCLUSION_PROOF: refused("The keyless bundle's transparency-log inclusion proof does not verify."),
  SIGSTORE_TLOG_INCLUSION_PROMISE: refused("The keyless bundle's transparency-log inclusion promise does not verify."),
  SIGSTORE_TLOG_MISSING_INCLUSION: refused('The keyless bundle carries neither an inclusion proof nor a promise.'),
  SIGSTORE_TLOG_BODY: refused("The keyless bundle's transparency-log entry body does not match the bundle."),
  SIGSTORE_CERTIFICATE: refused('The keyless signing certificate does not chain to the Sigstore trusted root.'),
  SIGSTORE_PUBLIC_KEY: refused("The keyless bundle's public key is not trusted."),
  SIGSTORE_SIGNATURE: refused('The keyless bundle signature does not verify.'),
  SIGSTORE_TIMESTAMP: refused("The keyless bundle's signing time cannot be established from a trusted timestamp."),

  // ── attestation: binding, receipts, acquisition ──────────────────────────────────────────────
  ATT_INPUT: usage('A value handed to the attestation library (root digest, nonce, statements, signer key) is malformed.'),
  ATT_KEY: usage("The key needed to attest or check an attestation is missing, unreadable or not the bundle's signer."),
  ATT_FORMAT: usage('The attestation file does not have the modelseal attestation shape.'),
  ATT_EXISTS: usage('The attestation file already exists and --force was not given.'),
  ATT_UNREADABLE: usage('The attestation file cannot be read.'),
  ATT_WRITE: usage('The attestation file cannot be written.'),
  ATT_NO_EVIDENCE: usage('The evidence source produced no evidence.'),
  ATT_UNBOUND: usage('TDISP evidence was asked for without a CPU report to bind it.'),
  ATT_SOURCE: usage('An evidence source returned evidence of the wrong role (a bug in the source).'),
  EVIDENCE_UNAVAILABLE: usage('No evidence of the kinds asked for can be collected on this machine (or this build has no evidence collection).'),
  RECEIPT_INPUT: usage('A value handed to receipt creation (verification result, root digest, nonce) is malformed.'),
  RECEIPT_FORMAT: usage('The receipt file does not have the modelseal receipt shape.'),
  RECEIPT_NO_CPU: usage('A receipt was asked for on a platform with no CPU TEE report.'),
  POLICY_UNREADABLE: usage('The attestation policy file cannot be read.'),
  POLICY_INVALID: usage('The attestation policy does not follow docs/policy.schema.json.'),
  TSM_UNAVAILABLE: usage('The configfs-tsm interface is not available on this kernel or machine.'),
  TSM_PERMISSION: usage('Creating a configfs-tsm report needs root or CAP_SYS_ADMIN.'),
  TSM_RACE: usage('Another process kept changing the configfs-tsm report while it was read.'),
  TSM_EMPTY: usage('The configfs-tsm provider produced empty evidence.'),
  SNP_FIRMWARE_ERROR: usage('The SEV firmware refused the attestation report request.'),

  // ── evidence parsing ─────────────────────────────────────────────────────────────────────────
  EVIDENCE_EMPTY: usage('The evidence input is empty.'),
  EVIDENCE_ENCODING: usage('The evidence is not valid hex or base64.'),
  EVIDENCE_MALFORMED: usage('The evidence bytes do not have the layout of their format.'),
  EVIDENCE_TRUNCATED: usage('The evidence is shorter than its own length fields say.'),
  EVIDENCE_UNRECOGNIZED: usage('The evidence is not a format this tool recognises.'),
  EVIDENCE_UNSUPPORTED_VERSION: usage('The evidence is of a format version this tool does not verify.'),
  COLLATERAL_UNREADABLE: usage('The TDX collateral directory cannot be read.'),
  TDX_COLLATERAL_MALFORMED: usage('A TDX collateral file (TCB info, QE identity) is malformed.'),
  TDX_REPORT_MALFORMED: usage('A TDX TDREPORT is malformed.'),
  TDX_PCK_EXTENSION: usage('A PCK certificate lacks or garbles its Intel SGX extension.'),
  SNP_NOT_A_VEK: usage('The certificate given as VCEK/VLEK is neither.'),
  NV_MALFORMED_REPORT: usage('The NVIDIA GPU evidence cannot be read.'),
  NV_UNSUPPORTED_VERSION: usage('The NVIDIA SPDM report version is one this verifier does not implement.'),
  NV_RIM_MALFORMED: usage('An NVIDIA reference integrity manifest (RIM) is not well-formed XML of the supported kind.'),
  NV_RIM_UNSUPPORTED: usage('An NVIDIA RIM is signed with an algorithm this verifier does not implement.'),
  TDISP_MALFORMED: usage('The TDISP evidence is malformed.'),
  TDISP_UNSUPPORTED_VERSION: usage('The TDISP message version is not 1.0.'),

  RECEIPT_SIGNATURE: refused('The signature over a receipt does not verify with the key the receipt names.'),
  ATT_SIGNATURE: refused('The signature over an attestation or receipt statement does not verify with the signer key.'),

  // ── evidence verification (exit 1) ───────────────────────────────────────────────────────────
  EVIDENCE_SIMULATED: refused('The evidence chains to a SIMULATED root and simulated evidence was not allowed.'),
  EC_KEY_INVALID: refused('A public key in the evidence is not a valid curve point.'),
  CERT_EXPIRED: refused('A certificate of the evidence chain has expired at the verification time.'),
  CERT_NOT_YET_VALID: refused('A certificate of the evidence chain is not yet valid at the verification time.'),
  SNP_UNSIGNED: refused('The SEV-SNP report carries no signature.'),
  SNP_UNSUPPORTED_SIGNATURE_ALGO: refused('The SEV-SNP report is signed with an algorithm other than ECDSA P-384.'),
  SNP_BAD_SIGNATURE: refused('The SEV-SNP report signature does not verify with its VCEK/VLEK.'),
  SNP_CHAIN_BROKEN: refused('The VCEK/VLEK does not chain to a pinned AMD root.'),
  SNP_HWID_MISMATCH: refused("The VCEK was issued for another chip than the report's."),
  SNP_PRODUCT_MISMATCH: refused("The certificate chain is for another AMD product than the report's."),
  SNP_REPORT_DATA_MISMATCH: refused('The SEV-SNP REPORT_DATA is not the expected binding.'),
  SNP_RESERVED_NONZERO: refused('Reserved bytes of the SEV-SNP report are not zero.'),
  SNP_TCB_MISMATCH: refused("The VCEK's TCB is not the report's reported TCB."),
  SNP_VEK_MISSING: refused('No VCEK or VLEK was given or found for the SEV-SNP report.'),
  SNP_UNKNOWN_PRODUCT: refused('The SEV-SNP report comes from an AMD product with no pinned root.'),
  TDX_QUOTE_SIGNATURE: refused('The TDX quote signature does not verify with its attestation key.'),
  TDX_QE_REPORT_SIGNATURE: refused('The TDX QE report signature does not verify with the PCK.'),
  TDX_QE_BINDING: refused('The TDX QE report does not bind the quote attestation key.'),
  TDX_QE_VENDOR: refused('The TDX quote names a QE vendor other than Intel.'),
  TDX_QE_IDENTITY_MISMATCH: refused('The TDX QE does not match the QE identity collateral.'),
  TDX_PCK_CHAIN: refused('The TDX PCK certificate does not chain to the pinned Intel SGX root.'),
  TDX_PCK_REVOKED: refused('A certificate of the TDX PCK chain is revoked.'),
  TDX_COLLATERAL_UNUSABLE: refused('A collateral directory was given but holds no TCB Info and no QE Identity, so the collateral checks cannot be made.'),
  TDX_COLLATERAL_FMSPC_MISMATCH: refused("The TDX TCB Info given is for another FMSPC or PCE ID than the quote's, so no TCB status can be judged (unless signature-only checks were asked for)."),
  AZURE_RUNTIME_DATA_MISMATCH: refused("The hash of an Azure HCL report's runtime data (vTPM keys, VM configuration) is not the start of its hardware report's REPORT_DATA."),
  NV_RIM_INCOMPLETE: refused('The NVIDIA RIMs given lack the driver or the VBIOS RIM, both of which a GPU firmware verdict needs.'),
  TDX_COLLATERAL_CHAIN: refused('The TDX collateral signing chain does not chain to the pinned Intel root.'),
  TDX_COLLATERAL_SIGNATURE: refused('A TDX collateral document signature does not verify.'),
  TDX_COLLATERAL_UNSUPPORTED: refused('The TDX collateral is of a version or kind this verifier does not read.'),
  TDX_TCB_MODULE_MISMATCH: refused('The TDX TCB info has no identity for the quote TDX module.'),
  TDX_REPORT_DATA_MISMATCH: refused('The TDX REPORTDATA is not the expected binding.'),
  TDX_UNSUPPORTED_KEY_TYPE: refused('The TDX quote attestation key is not ECDSA P-256.'),

  // ── load-time verification: Merkle companion, verified reads, tensor headers ─────────────────
  COMPANION_MALFORMED: usage('The Merkle companion statement is not valid JSON of its schema, or needs an oversized sidecar; re-create it with sign --merkle.'),
  SIDECAR_NOT_FOUND: usage('The Merkle sidecar (<companion>.tree) is missing; copy it beside the companion.'),
  SIDECAR_UNREADABLE: usage('The Merkle sidecar cannot be read or is not a regular file.'),
  LEAF_SIZE_INVALID: usage('The Merkle leaf size is not a power of two from 1 KiB to 1 GiB.'),
  RANGE_INVALID: usage('A verified read asks for bytes outside the file, or a --range is malformed.'),
  RANGE_TOO_COARSE: usage('Without a Merkle companion the unit to verify (a whole file) is over the in-memory limit; sign with --merkle or --method shards.'),
  FILE_NOT_SIGNED: usage('The path given to a verified read is not a file of the signed model.'),
  PATH_ESCAPES_MODEL: usage('A signed file name resolves outside the model root through a directory link.'),
  TENSOR_HEADER_INVALID: usage('A safetensors or GGUF header is malformed or hostile (sizes, offsets, types, overlaps).'),
  TENSOR_NOT_FOUND: usage('The file has no tensor of the name asked for.'),
  NOT_A_TENSOR_FILE: usage('The file is neither safetensors nor GGUF, so it has no tensors to list.'),
  GPU_LEAVES_UNSUPPORTED: usage('GPU leaf layouts need a Merkle companion (sign --merkle) for the file.'),
  MODEL_CLOSED: usage('A verified read was made after the model was closed.'),
  COMPANION_SIGNATURE_INVALID: refused('The Merkle companion is not signed by the signer of the OMS bundle (another key, or altered).'),
  COMPANION_SUBJECT_MISMATCH: refused('The Merkle companion is bound to another OMS root digest (made for another model or signature).'),
  COMPANION_INCONSISTENT: refused('A Merkle companion file is not in the signed manifest, or its tree, size or BLAKE3 root disagrees with it.'),
  COMPANION_PREDICATE_UNKNOWN: refused('The Merkle companion has a predicate type this version does not read.'),
  SIDECAR_TRUNCATED: refused('The Merkle sidecar is shorter than its companion needs.'),
  SIDECAR_MALFORMED: refused('The Merkle sidecar is longer than its companion needs or has a bad magic.'),
  SIDECAR_MISMATCH: refused('A file\'s Merkle sidecar entries do not reproduce its signed root.'),
  RANGE_MISMATCH: refused('Bytes read through a verified read do not match the signed leaf, shard or file; the details name the file, range and tensors.'),
  FILE_SIZE_MISMATCH: refused('A signed file has another size than the signature records.'),
  FILE_MISSING: refused('A signed file is missing from the model.'),
  // ── benchmark reports (modelseal bench --compare) ────────────────────────────────────────────
  BENCH_REPORT_UNREADABLE: usage('A bench.json given to compare cannot be opened, or is not a regular file.'),
  BENCH_REPORT_INVALID: usage('A bench.json given to compare is not JSON, too large, or does not follow docs/bench.schema.json.'),
} as const satisfies Record<string, ErrorCodeEntry>;

/** Every error code modelseal throws. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes whose errors end in exit 1 (verification failed). */
export type VerificationCode = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['exit'] extends 1 ? K : never }[ErrorCode];

/** Codes whose errors end in exit 2 (usage, bad input, unavailable). */
export type InputCode = Exclude<ErrorCode, VerificationCode>;

/**
 * The code for a sigstore-js verification failure: `SIGSTORE_` and sigstore-js' own code without its
 * `_ERROR` suffix; a code this catalogue does not know is `SIGSTORE_ERROR`.
 */
export function sigstoreErrorCode(sigstoreCode: string): VerificationCode {
  const code = `SIGSTORE_${sigstoreCode.replace(/_ERROR$/, '')}`;
  return isErrorCode(code) && ERROR_CODES[code].exit === 1 ? (code as VerificationCode) : 'SIGSTORE_ERROR';
}

/** Whether a string read back from elsewhere (a worker, the addon) is a catalogued code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
