/// <reference types="@webgpu/types" preserve="true" />
/**
 * modelseal: the public API. Explicit exports only — anything not listed here is internal.
 * (The reference above: the GPU-buffer exports name GPUBuffer & co., so the published declarations
 * carry @webgpu/types themselves and type-check under `strict` without `skipLibCheck`.)
 */
export { hashModel, reducePlan } from './engine/hash-model.js';
export { DEFAULT_SHARD_BYTES, HASH_ALGORITHMS, DIGEST_BYTES, BLAKE3_CHUNK_BYTES, BLAKE3_SUBTREE_BYTES } from './hash/vocabulary.js';
export type { HashAlgorithm, Leaf, LeafBatch } from './hash/vocabulary.js';
export type { HashModelOptions, HashResult, ProgressEvent } from './engine/types.js';
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
export type { SignModelOptions, SignModelResult, Signer, KeySource } from './sign/index.js';
export { verifyModel, inspectBundle, verifyBundleSignature } from './verify/index.js';
export type { VerifyModelOptions, VerifyModelResult, BundleInspection, TrustOptions, SignerInfo } from './verify/index.js';

// Attestation: evidence parsing and offline verification, binding, policy, receipts, acquisition
export { verifyEvidence, inspectEvidence, detectEvidence } from './attest/index.js';
export type { EvidenceKind, EvidenceVerdict, VerifyEvidenceOptions } from './attest/index.js';
export { parseNvidiaEvidence, verifyNvidiaEvidence } from './attest/nvidia/index.js';
export { parseTdispReport, verifyTdispReport } from './attest/tdisp/index.js';
export { createSimulatedPlatform } from './attest/simulated/index.js';
export type { SimulatedPlatform } from './attest/simulated/index.js';
export { collectEvidence, createHardwareEvidenceSource } from './attest/acquire/index.js';
export { bindingDigest, attestSignature, verifyAttestation } from './attest/binding/index.js';
export type { AttestSignatureOptions, AttestSignatureResult, AttestationVerification, VerifyAttestationOptions } from './attest/binding/index.js';
export { validatePolicy, loadPolicy, parsePolicy } from './attest/policy/index.js';
export type { Policy, PolicyResult } from './attest/policy/index.js';
export { createReceipt, verifyReceipt } from './attest/receipt/index.js';

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
