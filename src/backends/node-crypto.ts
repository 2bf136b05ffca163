/**
 * `node-crypto`: OpenSSL through node:crypto (SHA-NI where the CPU has it). SHA-256 and BLAKE2b-512;
 * OpenSSL has no BLAKE3.
 */
import { createHash, getHashes } from 'node:crypto';
import { READ_BLOCK_BYTES, hashEachLeaf, pageSafeBuffer } from './file-reader.js';
import type { CpuBackendModule, HashAlgorithm, LeafBatch, LeafHasher } from './types.js';

const OPENSSL_NAMES: Partial<Record<HashAlgorithm, string>> = { sha256: 'sha256', blake2b: 'blake2b512' };

function opensslName(algorithm: HashAlgorithm, output: 'digest' | 'cv'): string {
  const n = OPENSSL_NAMES[algorithm];
  if (!n || output !== 'digest') throw new RangeError(`node-crypto does not compute ${algorithm} ${output}s`);
  return n;
}

class NodeCryptoLeafHasher implements LeafHasher {
  private readonly block = pageSafeBuffer(READ_BLOCK_BYTES);
  readonly name = 'node-crypto' as const;

  hashLeaves(batch: LeafBatch): Uint8Array[] {
    return hashEachLeaf(this.block, batch, (reader, leaf) => {
      const h = createHash(opensslName(batch.algorithm, leaf.output));
      reader.read(leaf, (b) => h.update(b));
      return new Uint8Array(h.digest());
    });
  }

  hashBytes(algorithm: HashAlgorithm, data: Uint8Array, output: 'digest' | 'cv'): Uint8Array {
    return new Uint8Array(createHash(opensslName(algorithm, output)).update(data).digest());
  }
}

export const nodeCryptoBackend: CpuBackendModule = {
  name: 'node-crypto',
  probe: () => {
    const have = new Set(getHashes());
    const algorithms = (Object.keys(OPENSSL_NAMES) as HashAlgorithm[]).filter((a) => have.has(OPENSSL_NAMES[a]!));
    if (algorithms.length === 0) return { ok: false, name: 'node-crypto', reason: 'OpenSSL offers neither sha256 nor blake2b512' };
    return {
      ok: true,
      name: 'node-crypto',
      capabilities: { algorithms, subtrees: false, detail: `OpenSSL ${process.versions.openssl}` },
    };
  },
  createLeafHasher: () => new NodeCryptoLeafHasher(),
};
