/** Shared test helpers: vector locations and the vectors tier, deterministic fills, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { HAVE_VECTORS, REQUIRE_VECTORS } from './vectors-tier.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export { HAVE_VECTORS, REQUIRE_VECTORS, VECTORS_DIR, VECTORS_SKIP_LINE } from './vectors-tier.js';
const RUN_VECTORS = HAVE_VECTORS || REQUIRE_VECTORS;

/** `describe` for cases that read the external vectors: skipped when they are absent (see VECTORS_SKIP_LINE). */
export const describeVectors = describe.skipIf(!RUN_VECTORS);
/** `it` for single vector cases inside a suite that otherwise runs everywhere. */
export const itVectors = it.skipIf(!RUN_VECTORS);

/**
 * Reads vector data at module level only when the tier runs; `absent` stands in for it (never asserted
 * on: every case that uses it is in a describeVectors/itVectors block).
 */
export function whenVectors<T>(read: () => T, absent: T): T {
  return RUN_VECTORS ? read() : absent;
}

/** Deterministic prime-period fill (i % 251) starting at absolute offset `offset`. */
export function fill251(length: number, offset = 0): Uint8Array {
  const out = new Uint8Array(length);
  let v = offset % 251;
  for (let i = 0; i < length; i++) {
    out[i] = v;
    v = v === 250 ? 0 : v + 1;
  }
  return out;
}

export function tempDir(prefix = 'modelseal-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** A seeded PRNG (mulberry32) in [0, 1): fuzz tests replay the same cases from the same seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
