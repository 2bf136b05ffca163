/**
 * Argument parsing shared by the commands: sizes, integers, enumerations, hex and times. Each kind of
 * flag value is parsed here, once, into a typed value; the library trusts what it is given.
 */
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

/**
 * Parses a hex flag value of `min` to `max` bytes (`max` defaults to `min`; `Infinity` for no upper
 * bound). A `0x` prefix and surrounding spaces are accepted.
 */
export function parseHex(value: string, name: string, min: number, max = min): Uint8Array {
  const v = value.trim().replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(v)) throw new InputError('USAGE', `${name} must be hex (got "${value}").`);
  const b = new Uint8Array(Buffer.from(v, 'hex'));
  if (b.length < min || b.length > max) {
    const bytes = min === max ? `${min} bytes (${min * 2} hex digits)` : max === Infinity ? `at least ${min} byte${min === 1 ? '' : 's'} (${min * 2} hex digits)` : `${min} to ${max} bytes (${min * 2}–${max * 2} hex digits)`;
    throw new InputError('USAGE', `${name} must be ${bytes}, got ${b.length}.`);
  }
  return b;
}

/** Parses a time flag: `2025-06-01`, `2025-06-01T12:00:00Z` (ISO 8601) or `1748736000` (Unix seconds). */
export function parseTime(value: string, name: string): Date {
  const d = /^\d+$/.test(value.trim()) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new InputError('USAGE', `${name} must be an ISO 8601 time (e.g. 2025-06-01 or 2025-06-01T12:00:00Z) or Unix seconds (got "${value}").`);
  }
  return d;
}

/** Parses an integer flag in [min, max]. */
export function parseIntArg(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError('USAGE', `${name} must be an integer from ${min} to ${max} (got "${value}").`);
  }
  return n;
}

/** Checks that a flag value is one of `choices`. */
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

/** Commander argument parser for a repeatable flag: collects every value in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `1536` → `1.50 KiB`: sizes in human output. */
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
