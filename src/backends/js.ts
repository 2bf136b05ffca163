/**
 * `js`: the portable reference every other backend is tested against. SHA-256 and BLAKE2b-512 from
 * @noble/hashes (audited); BLAKE3 digests from @noble/hashes and subtree CVs from our reference
 * (src/backends/js/blake3.ts), since noble has no chunk-counter API. Slow by design.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { READ_BLOCK_BYTES, hashEachLeaf, pageSafeBuffer } from './file-reader.js';
import { blake3SubtreeCv } from './js/blake3.js';
import { BLAKE3_CHUNK_BYTES, type CpuBackendModule, type HashAlgorithm, type LeafBatch, type LeafHasher } from './types.js';

function streaming(algorithm: HashAlgorithm) {
  switch (algorithm) {
    case 'sha256':
      return sha256.create();
    case 'blake2b':
      return blake2b.create({ dkLen: 64 });
    case 'blake3':
      return blake3.create({});
  }
}

class JsLeafHasher implements LeafHasher {
  private readonly block = pageSafeBuffer(READ_BLOCK_BYTES);
  readonly name = 'js' as const;

  hashLeaves(batch: LeafBatch): Uint8Array[] {
    return hashEachLeaf(this.block, batch, (reader, leaf) => {
      if (leaf.output === 'cv') {
        if (batch.algorithm !== 'blake3') throw new RangeError("'cv' leaves exist only for blake3");
        return blake3SubtreeCv(reader.readAll(leaf), leaf.offset / BLAKE3_CHUNK_BYTES);
      }
      const h = streaming(batch.algorithm);
      reader.read(leaf, (b) => h.update(b));
      return h.digest();
    });
  }

  hashBytes(algorithm: HashAlgorithm, data: Uint8Array, output: 'digest' | 'cv', chunkCounter = 0): Uint8Array {
    if (output === 'cv') {
      if (algorithm !== 'blake3') throw new RangeError("'cv' output exists only for blake3");
      return blake3SubtreeCv(data, chunkCounter);
    }
    const h = streaming(algorithm);
    h.update(data);
    return h.digest();
  }
}

export const jsBackend: CpuBackendModule = {
  name: 'js',
  probe: () => ({
    ok: true,
    name: 'js',
    capabilities: { algorithms: ['sha256', 'blake2b', 'blake3'], subtrees: true, detail: '@noble/hashes + BLAKE3 reference (portable, slow)' },
  }),
  createLeafHasher: () => new JsLeafHasher(),
};
