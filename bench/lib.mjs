/** Shared helpers of the benchmark scripts: the repository root, `--name value` flags, the median. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const argv = process.argv.slice(2);
/** The value after `--name`, or `dflt`. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
/** Whether `--name` was given. */
export const flag = (name) => argv.includes(`--${name}`);

/** The median (mean of the two middle values for an even count): the library's, so the scripts and `modelseal bench` agree. */
export { median, pairedRatio } from '../dist/bench/stats.js';
