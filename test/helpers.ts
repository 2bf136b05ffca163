/** Shared test helpers: vector locations, deterministic fills, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The vectors live beside the checkout (CI has the same copy); never copied into the repo. */
export const VECTORS_DIR = process.env.MODELSEAL_VECTORS ?? resolve(REPO_ROOT, '..', 'shared', 'vectors');

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
