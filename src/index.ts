/**
 * modelseal: the public API. Explicit exports only — anything not listed here is internal.
 */
export { hashModel, reducePlan } from './engine/hash-model.js';
export { DEFAULT_SHARD_BYTES } from './engine/types.js';
export type { HashModelOptions, HashResult, ProgressEvent } from './engine/types.js';
export type { Manifest, Resource, Serialization, SerializationMethod } from './manifest/types.js';
export { rootDigestOf, compareResourceNames, parseShardName } from './manifest/oms.js';
export { walkModel } from './plan/walk.js';
export type { WalkOptions, WalkResult, WalkedFile } from './plan/walk.js';
export { makePlan } from './plan/plan.js';
export type { ChunkPlan, PlanOptions, PlannedResource } from './plan/plan.js';
export { probeAll, selectBackend, PREFERENCE } from './backends/dispatch.js';
export type { BackendName, HashAlgorithm, Capabilities, ProbeResult, Leaf, LeafBatch, HashBackend, LeafHasher } from './backends/types.js';
export { blake3Digest, blake3SubtreeCv, blake3Parent, blake3MergeCvs } from './backends/js/blake3.js';
export { ModelsealError, InputError, VerificationError, UnavailableError, EXIT_OK, EXIT_VERIFY_FAILED, EXIT_USAGE } from './errors.js';
export { createSampleModel } from './engine/sample-model.js';
