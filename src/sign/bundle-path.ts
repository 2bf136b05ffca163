/**
 * The default bundle path, in a module of its own: `verify` needs it at start-up, and taking it from
 * sign-model.ts loaded the signing pipeline (sign-model, sign/companion: ~10 KB bundled) into every
 * `verify` run (issue 13 target 5).
 */
import { resolve } from 'node:path';

/** The default bundle path for a model: `<model>.sig` beside the directory or file. */
export function defaultBundlePath(modelPath: string): string {
  return resolve(modelPath) + '.sig';
}
