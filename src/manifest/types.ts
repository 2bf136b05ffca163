import type { HashAlgorithm, SerializationMethod } from '../hash/vocabulary.js';

export type { SerializationMethod };

/** Everything that changes a digest, recorded next to the digests (OMS `serialization`). */
export interface Serialization {
  method: SerializationMethod;
  hashType: HashAlgorithm;
  /** Only for method 'shards'. */
  shardSize?: number;
  allowSymlinks: boolean;
  /** POSIX paths relative to the model root (the four git names included when defaults are on). */
  ignorePaths: string[];
}

/** One OMS resource: a file or a shard `path:start:end`. */
export interface Resource {
  name: string;
  /** `sha256` | `blake2b` | `blake3` for files, `<hash>-sharded-<N>` for shards. */
  algorithm: string;
  /** lowercase hex */
  digest: string;
}

export interface Manifest {
  /** Model name (subject name): the model directory's or file's basename. */
  modelName: string;
  serialization: Serialization;
  /** In the reference tool's order (path components, then numeric shard offsets). */
  resources: Resource[];
  /** SHA-256 over the concatenated raw resource digests, lowercase hex. */
  rootDigest: string;
}
