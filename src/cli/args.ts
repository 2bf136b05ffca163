/** Argument parsing helpers shared by the commands: sizes, integers, enumerations. */
import { InputError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** Parses a byte size: `1000000000`, `16MiB`, `1GB`, `1e9`. */
export function parseSize(value: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InputError('USAGE', `${name} must be a positive whole number of bytes, e.g. 1000000000 or 16MiB (got "${value}").`);
  }
  return n;
}

export function parseIntArg(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError('USAGE', `${name} must be an integer from ${min} to ${max} (got "${value}").`);
  }
  return n;
}

export function parseChoice<T extends string>(value: string, name: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InputError('USAGE', `${name} must be one of ${choices.join(', ')} (got "${value}").`);
  }
  return value as T;
}

/** `--kernel sha256=avx2-x8 --kernel blake3=sse41` → { sha256: 'avx2-x8', blake3: 'sse41' }. */
export function parseKernels(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const [k, kernel] = v.split('=');
    if (!k || !kernel) throw new InputError('USAGE', `--kernel takes ALGORITHM=KERNEL, e.g. sha256=shani-x2 (got "${v}").`);
    out[k] = kernel;
  }
  return out;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}

/** A throughput with a unit that keeps three significant figures (GB/s down to B/s: tiny or slow runs too). */
export function formatRate(bytes: number, seconds: number): string {
  const rate = bytes / Math.max(seconds, 1e-9);
  const units: Array<[number, string]> = [[1e9, 'GB/s'], [1e6, 'MB/s'], [1e3, 'kB/s']];
  for (const [scale, unit] of units) if (rate >= scale) return `${(rate / scale).toPrecision(3)} ${unit}`;
  return `${rate.toPrecision(3)} B/s`;
}
