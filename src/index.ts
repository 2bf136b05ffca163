/// <reference types="@webgpu/types" preserve="true" />
/**
 * modelseal: the public API. Explicit exports only — anything not listed here is internal.
 * (The reference above: the GPU-buffer exports name GPUBuffer & co., so the published declarations
 * carry @webgpu/types themselves and type-check under `strict` without `skipLibCheck`.)
 */
export { hashModel, reducePlan } from './engine/hash-model.js';
export { DEFAULT_SHARD_BYTES, HASH_ALGORITHMS, DIGEST_BYTES, BLAKE3_CHUNK_BYTES, BLAKE3_SUBTREE_BYTES } from './hash/vocabulary.js';
export type { HashAlgorithm, Leaf, LeafBatch } from './hash/vocabulary.js';
export type { HashModelOptions, HashPhases, HashResult, ProgressEvent } from './engine/types.js';
export type { Manifest, Resource, Serialization } from './manifest/types.js';
export type { SerializationMethod } from './hash/vocabulary.js';
export { rootDigestOf, compareResourceNames, parseShardName } from './manifest/oms.js';
export { walkModel } from './plan/walk.js';
export type { WalkOptions, WalkResult, WalkedFile } from './plan/walk.js';
export { makePlan } from './plan/plan.js';
export type { ChunkPlan, PlanFile, PlanOptions, PlannedResource } from './plan/plan.js';
export { probeAll, selectBackend, PREFERENCE } from './backends/dispatch.js';
export type { BackendName, Capabilities, ProbeResult, HashBackend, LeafHasher } from './backends/types.js';
export { blake3Digest, blake3SubtreeCv, blake3Parent, blake3MergeCvs } from './backends/js/blake3.js';
export { ModelsealError, InputError, VerificationError, UnavailableError, EXIT_OK, EXIT_VERIFY_FAILED, EXIT_USAGE } from './errors.js';
export { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeEntry } from './errors.js';
export { createSampleModel } from './engine/sample-model.js';

// Signing and verification (OMS / Sigstore bundles)
export { signModel, signStatement, createKeySigner, createCertificateSigner } from './sign/index.js';
export { signModelKeyless, readIdentityToken, SIGSTORE_PUBLIC_GOOD, SIGSTORE_STAGING } from './sign/index.js';
export type { KeylessSignOptions } from './sign/index.js';
export type { SignModelOptions, SignModelResult, Signer, KeySource } from './sign/index.js';
export { verifyModel, inspectBundle, verifyBundleSignature } from './verify/index.js';
export type { VerifyModelOptions, VerifyModelResult, BundleInspection, TrustOptions, SignerInfo } from './verify/index.js';

// Attestation: evidence parsing and offline verification, binding, policy, receipts, acquisition
export { verifyEvidence, inspectEvidence, detectEvidence } from './attest/index.js';
export type { EvidenceKind, EvidenceVerdict, VerifyEvidenceOptions } from './attest/index.js';
export { parseNvidiaEvidence, verifyNvidiaEvidence } from './attest/nvidia/index.js';
export { parseTdispReport, verifyTdispReport } from './attest/tdisp/index.js';
export { parseAzureHclReport, checkHclRuntimeData, parseRim, verifyRim } from './attest/index.js';
export type { AzureHclReport, HclRuntimeDataCheck, InspectedEvidence, ParsedRim } from './attest/index.js';
export { createSimulatedPlatform } from './attest/simulated/index.js';
export type { SimulatedPlatform } from './attest/simulated/index.js';
export { collectEvidence, createHardwareEvidenceSource } from './attest/acquire/index.js';
export { bindingDigest, attestationNonce, attestationPathFor, verifyAttestation } from './attest/binding/index.js';
export type { AttestationNonce, AttestationVerification, VerifyAttestationOptions, CollectedEvidence, EvidenceSource } from './attest/binding/index.js';
export { attestSignature } from './sign/index.js';
export type { AttestSignatureOptions, AttestSignatureResult } from './sign/index.js';
export { evidenceSourceFor } from './attest/sources.js';
export type { EvidenceSourceOptions } from './attest/sources.js';
export { ATTEST_MODES } from './attest/modes.js';
export type { AttestMode } from './attest/modes.js';

// Attesting a signed bundle and checking a bundle's attestation (with receipts): the library steps
// behind `sign --attest` and `verify --attestation / --policy / --receipt`.
export { attestBundle } from './sign/index.js';
export type { AttestBundleOptions, AttestBundleResult } from './sign/index.js';
export { checkAttestation, writeVerificationReceipt } from './verify/index.js';
export { loadAttestSteps } from './verify/index.js';
export type { AttestSteps } from './verify/index.js';
export type { CheckAttestationOptions, CheckAttestationResult, VerificationReceiptOptions, VerifiedModelRef } from './verify/index.js';
export { validatePolicy, loadPolicy, parsePolicy } from './attest/policy/index.js';
export type { Policy, PolicyResult } from './attest/policy/index.js';
export { createReceipt, verifyReceipt } from './attest/receipt/index.js';
export type { ReceiptResult, VerifyReceiptOptions } from './attest/receipt/index.js';

// GPU-resident verification (bytes already in a caller's GPUBuffer)
export { hashGpuBuffer, verifyGpuBuffer, probeWebGpu, createWebGpuBackend } from './backends/webgpu/index.js';
export type { GpuBufferLayout, GpuBufferRange, GpuRangeVerdict, GpuVerifyResult, HashGpuBufferOptions } from './backends/webgpu/index.js';
export { readBundleFile } from './verify/index.js';
export type { ResourceMismatch } from './verify/index.js';
export type { SigstoreBundleJson, CertificateSignerOptions } from './sign/index.js';
export { manifestToStatement, statementToManifest, OMS_PREDICATE_TYPE } from './manifest/statement.js';
export type { OmsStatement } from './manifest/statement.js';

// What the CLI needs beyond the above (the CLI imports nothing but this module and errors.ts)
export { BACKEND_NAMES } from './backends/types.js';
export { defaultBundlePath } from './sign/index.js';
export { doctorReport, packageVersion } from './engine/doctor.js';
export type { DoctorReport } from './engine/doctor.js';

// Load-time verification: Merkle companion, verified reads, tensor-file headers (issue 14)
export { openVerified, verifyTensors, VerifiedModel, MAX_UNIT_BYTES } from './verify/open-verified.js';
export { loadOpenVerified } from './verify/index.js';
export type { OpenVerifiedModule } from './verify/index.js';
export type { OpenVerifiedOptions, ChunkOptions, VerifiedChunk, GpuLeafLayout, Granularity, VerifiedFileInfo, VerifiedReadStats, TensorVerdict, VerifyTensorsResult } from './verify/open-verified.js';
export { verifyCompanion, findCompanion, inspectCompanion } from './verify/companion.js';
export type { VerifiedCompanion, CompanionInspection } from './verify/companion.js';
export type { CompanionVerdict } from './verify/companion-check.js';
export { buildCompanion, companionPaths } from './sign/companion.js';
export { COMPANION_PREDICATE_TYPE, DEFAULT_LEAF_BYTES, parseCompanionPayload, companionToStatement } from './manifest/companion.js';
export type { Companion, CompanionFile, CompanionStatement, CompanionTree } from './manifest/companion.js';
export { rfc9162Leaf, rfc9162Node, rfc9162Root } from './engine/merkle.js';
export { parseSafetensorsHeader, readSafetensorsIndex, readGgufIndex, detectTensorFormat } from './formats/index.js';
export type { TensorIndex, TensorRange, ByteSource } from './formats/index.js';
// Benchmark (`modelseal bench`): whole-model runs, peers, ceilings, kernels, reports
export {
  runBench,
  benchSettings,
  writeBenchReports,
  readBenchReport,
  renderMarkdown as renderBenchMarkdown,
  renderHtml as renderBenchHtml,
  compareBenchReports,
  renderCompareMarkdown,
  renderCompareHtml,
  validateBenchReport,
  BENCH_JSON_SCHEMA,
  BENCH_SCHEMA,
  BENCH_BACKENDS,
  machineLine,
} from './bench/index.js';
export type { RunBenchOptions, BenchReport, BenchSettings, BenchProgress, BenchBackend, RunResult as BenchRunResult, BenchComparison } from './bench/index.js';
// Plain (unsigned) manifest files: `hash --output FILE` / `hash --check FILE`
export { formatSumsFile, parseSumsFile, SUMS_MAGIC } from './manifest/sums.js';
export type { SumsFile } from './manifest/sums.js';
export { checkModelSums, readSumsFile, writeSumsFile, MAX_SUMS_BYTES } from './verify/check-sums.js';
export type { CheckSumsOptions, CheckSumsResult } from './verify/check-sums.js';
// issue 11: the one output writer and the one bounded input reader (hostile paths, full disks)
export { writeOutputFile, removePendingOutputs } from './io/output-file.js';
export type { WriteOutputOptions } from './io/output-file.js';
export { readInputFile, readInputText, INPUT_CAP_BYTES } from './io/input-file.js';
export type { InputKind } from './io/input-file.js';
export { endQuietlyOnClosedOutput, EXIT_PIPE_CLOSED } from './io/stdio.js';
