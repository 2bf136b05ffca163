/** Shared helpers of the benchmark scripts: the repository root, `--name value` flags, the median, a fresh signing key, CPU-timed calls and interleaved rounds. */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const argv = process.argv.slice(2);
/** The value after `--name`, or `dflt`. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
/** Every value given as `--name value` (the option may repeat), in order. */
export const opts = (name) => argv.flatMap((a, i) => (a === `--${name}` && i + 1 < argv.length ? [argv[i + 1]] : []));
/** The `--bin` scripts given (absolute), or this checkout's bin/modelseal.js. */
export const binsOpt = () => {
  const bins = opts('bin').map((b) => resolve(b));
  return bins.length > 0 ? bins : [join(ROOT, 'bin', 'modelseal.js')];
};
/** Whether `--name` was given. */
export const flag = (name) => argv.includes(`--${name}`);

/** The median (mean of the two middle values for an even count): the library's, so the scripts and `modelseal bench` agree. */
export { median, pairedRatio } from '../dist/bench/stats.js';

/** A fresh EC key pair (`curve`, default P-256) written as PKCS#8 and SPKI PEM files. */
export function writeKeyPair(privPath, pubPath, curve = 'P-256') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  writeFileSync(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
}

/**
 * Runs `fn()` and measures it: wall seconds, and this process's user and system CPU seconds (every
 * thread) and minor page faults meanwhile (process.resourceUsage).
 */
export async function cpuTimed(fn) {
  const r0 = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const t1 = process.hrtime.bigint();
  const r1 = process.resourceUsage();
  const user = (r1.userCPUTime - r0.userCPUTime) / 1e6;
  const sys = (r1.systemCPUTime - r0.systemCPUTime) / 1e6;
  return { wall: Number(t1 - t0) / 1e9, user, sys, cpu: user + sys, minflt: r1.minorPageFault - r0.minorPageFault };
}

/**
 * `rounds` rounds of `once(mode)` over every mode, the order reversed every other round (a loaded
 * machine drifts). `once` returns its measures and `digestsOf` (the output as hex), which must
 * equal the first run's. Returns the measures per mode and the 1-minute load before and after
 * each round.
 */
export async function interleavedRounds(modes, rounds, once) {
  const load = [loadavg()[0]];
  const samples = Object.fromEntries(modes.map((m) => [m, []]));
  let ref;
  for (let i = 0; i < rounds; i++) {
    for (const m of i % 2 ? [...modes].reverse() : modes) {
      const { digestsOf, ...t } = await once(m);
      ref ??= digestsOf;
      if (digestsOf !== ref) throw new Error(`${m}: the output differs from the first run's`);
      samples[m].push(t);
    }
    load.push(loadavg()[0]);
  }
  return { samples, load };
}
