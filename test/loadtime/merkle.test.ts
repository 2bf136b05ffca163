/**
 * Merkle core: RFC 9162 tree hashing against an independent stack-based implementation (the
 * RFC's iterative form), and BLAKE3 outboards: leaf CVs merged in tree order equal b3sum.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blake3Digest, blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import { rfc9162Leaf, rfc9162Root, sidecarEntries, treeRoot } from '../../src/engine/merkle.js';
import { fill251 } from '../helpers.js';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 §2.1.1 computed bottom-up (a different shape of computation from the recursive one). */
function iterativeRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  // Merkle tree of a list: repeatedly pair neighbours; an odd last node is promoted unchanged,
  // which yields the same tree as splitting at the largest power of two below n.
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha(Buffer.from([1]), level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

describe('RFC 9162 SHA-256 trees', () => {
  it('leaf = H(0x00 ‖ d), and the empty tree is H("")', () => {
    expect(rfc9162Leaf(Buffer.from('abc')).equals(sha(Buffer.from([0]), Buffer.from('abc')))).toBe(true);
    expect(rfc9162Root([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('matches the bottom-up computation for 1..70 leaves', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => rfc9162Leaf(fill251(i * 3 + 1, i)));
    for (let n = 1; n <= 70; n++) expect(rfc9162Root(leaves.slice(0, n)).equals(iterativeRoot(leaves.slice(0, n)))).toBe(true);
  });

  it('RFC 6962 test tree: root of the 8 reference leaves', () => {
    // the leaf inputs of certificate-transparency-go's merkletree tests (RFC 6962 §2.1 example)
    const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
    const root = rfc9162Root(inputs.map(rfc9162Leaf)).toString('hex');
    expect(root).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });
});

describe('BLAKE3 outboards', () => {
  it.each([1024, 4096])('leaf CVs (leaf %i) merge into the file digest for sizes around leaf edges', (leaf) => {
    for (const size of [leaf + 1, 2 * leaf - 1, 2 * leaf, 2 * leaf + 1, 5 * leaf, 7 * leaf + 13]) {
      const data = fill251(size);
      const cvs: Uint8Array[] = [];
      for (let o = 0; o < size; o += leaf) cvs.push(blake3SubtreeCv(data.subarray(o, Math.min(size, o + leaf)), o / 1024));
      expect(sidecarEntries('blake3-outboard', size, leaf)).toBe(cvs.length);
      expect(treeRoot('blake3-outboard', cvs).equals(Buffer.from(blake3Digest(data)))).toBe(true);
    }
    expect(sidecarEntries('blake3-outboard', leaf, leaf)).toBe(0);
  });
});
