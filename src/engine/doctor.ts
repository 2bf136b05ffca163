/**
 * What `modelseal doctor` prints: the runtime, the CPU features the native addon sees, every
 * backend's probe (available, or why not), the `auto` preference order and the TEE device paths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { PREFERENCE, probeAll } from '../backends/dispatch.js';
import type { ProbeResult } from '../backends/types.js';
import type { KernelChoice } from '../backends/native.js';
import { PACKAGE_ROOT, loadNative, type NativeCpuFeatures, type NativeOrigin } from '../native/addon.js';

/** Device paths probed for confidential-computing evidence (acquisition lives in src/attest/acquire). */
const TEE_PATHS = ['/sys/kernel/config/tsm/report', '/dev/sev-guest', '/dev/tdx_guest'];

/** The environment report: plain data, printed as it is with `doctor --json`. */
export interface DoctorReport {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  /** Which addon loaded (a prebuilt binary, a source build, or none) and why. */
  native:
    | {
        ok: true;
        origin: NativeOrigin;
        why: string;
        path: string;
        cpuFeatures: NativeCpuFeatures;
        /** The SHA-256 kernel hashing uses by default here, and the rule (or variable) that chose it; absent if the addon has no SHA-256. */
        sha256Kernel?: KernelChoice;
      }
    | { ok: false; origin: 'none'; reason: string };
  backends: ProbeResult[];
  preference: typeof PREFERENCE;
  /** TEE device path → present. */
  tee: Record<string, boolean>;
}

/** Probes this machine once: never throws for an unavailable backend or addon (each is a value with a reason). */
export async function doctorReport(): Promise<DoctorReport> {
  const native = loadNative();
  const backends = await probeAll();
  // loaded here, not at the top: the backend module is otherwise imported only where hashing runs
  const sha256Kernel = native.ok ? (await import('../backends/native.js')).sha256KernelChoice() : undefined;
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch} (kernel ${release()})`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    native: native.ok
      ? { ok: true, origin: native.origin, why: native.why, path: native.path, cpuFeatures: native.addon.cpuFeatures(), ...(sha256Kernel ? { sha256Kernel } : {}) }
      : { ok: false, origin: 'none', reason: native.reason },
    backends,
    preference: PREFERENCE,
    tee: Object.fromEntries(TEE_PATHS.map((p) => [p, existsSync(p)])),
  };
}

/** This package's version from its package.json, or `unknown` where that cannot be read. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
