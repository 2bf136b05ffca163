/**
 * Shared set-up of the native SHA-256 tests: the addon (through the one loader, so
 * MODELSEAL_NATIVE_PATH and MODELSEAL_DISABLE_NATIVE apply), its kernels, and the NIST vectors.
 *
 * The native tier skips, with the loader's reason, only when the addon is not built. With
 * MODELSEAL_REQUIRE_NATIVE=1 (CI) a missing addon throws here, at import, which fails the suite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../../src/native/addon.js';
import { VECTORS_DIR } from '../helpers.js';

export interface Sha256Addon {
  sha256Leaves(paths: string[], offsets: number[], lengths: number[], out: Uint8Array, kernel?: string, options?: { io?: 'pread' | 'mmap'; chunkBytes?: number }): void;
  sha256LeavesAsync(paths: string[], offsets: number[], lengths: number[], out: Uint8Array, kernel?: string, options?: { io?: 'mmap' | 'pread'; chunkBytes?: number }, threads?: number): Promise<void>;
  sha256Bytes(data: Uint8Array, kernel?: string): Uint8Array;
  sha256BytesMulti(datas: Uint8Array[], kernel?: string): Uint8Array;
  sha256Kernels(): string[];
  sha256DefaultKernel(): string;
  cpuFeatures(): { shaNi: boolean; avx2: boolean; avx512f: boolean; sse41: boolean; arch: string };
}

/** Every SHA-256 kernel name the addon knows, runnable here or not. */
export const ALL_SHA256_KERNELS = ['scalar', 'shani', 'shani-x2', 'shani-x4', 'avx2-x8', 'avx512-x16', 'armv8-sha2', 'armv8-sha2-x2'] as const;

const load = loadNative();
const hasSha = load.ok && typeof load.addon.sha256Leaves === 'function';
if (!hasSha && process.env.MODELSEAL_REQUIRE_NATIVE === '1') {
  throw new Error(
    `MODELSEAL_REQUIRE_NATIVE=1 but the native SHA-256 addon is unavailable: ${load.ok ? 'it has no sha256Leaves (outdated build)' : load.reason}`,
  );
}

/** The addon, or undefined (then `skipReason` says why). */
export const addon: Sha256Addon | undefined = hasSha ? (load.addon as unknown as Sha256Addon) : undefined;
export const skipReason = load.ok ? (hasSha ? '' : 'the native addon has no SHA-256 functions (outdated build)') : load.reason;
/** Kernels runnable on this CPU (each test runs on every one of them, forced by name). */
export const kernels: string[] = addon ? addon.sha256Kernels() : [];

export interface KnownAnswer {
  msg: Uint8Array;
  md: string;
}

/** NIST CAVP SHAVS byte-oriented vectors (`Len` in bits; for Len = 0 the message is empty). */
export function nistVectors(file: 'SHA256ShortMsg.rsp' | 'SHA256LongMsg.rsp'): KnownAnswer[] {
  const text = readFileSync(join(VECTORS_DIR, 'sha256', file), 'utf8');
  const out: KnownAnswer[] = [];
  let len = -1;
  let msg = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(Len|Msg|MD)\s*=\s*([0-9a-fA-F]*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'Len') len = Number(m[2]);
    else if (m[1] === 'Msg') msg = m[2]!;
    else {
      out.push({ msg: Uint8Array.from(Buffer.from(msg, 'hex').subarray(0, len / 8)), md: m[2]!.toLowerCase() });
    }
  }
  return out;
}
