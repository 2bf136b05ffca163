/**
 * The reference `model_signing` CLI's command shapes: `sign|verify key|certificate|sigstore MODEL`,
 * with its flag spellings. The method word selects which flags are allowed, so that
 * `modelseal` can replace `model_signing` in an init container or a script unchanged.
 */
import { InputError } from '../errors.js';

/** The PKI methods of the reference CLI that modelseal implements. */
export const PKI_METHODS = ['key', 'certificate', 'sigstore'] as const;
export type PkiMethod = (typeof PKI_METHODS)[number];

/** The reference tool's other methods: named, so the error says what is missing rather than "too many arguments". */
const UNSUPPORTED_METHODS = ['pkcs11-key', 'pkcs11-certificate'];

/**
 * `verify key ./m` → { method: 'key', model: './m' }; `verify ./m` → { model: './m' }. A second
 * positional argument is only accepted after a method word.
 */
export function splitMethod(first: string, second: string | undefined, command: string): { method?: PkiMethod; model: string } {
  if (second === undefined) {
    if ((PKI_METHODS as readonly string[]).includes(first) || UNSUPPORTED_METHODS.includes(first)) {
      throw new InputError('USAGE', `${command} ${first} needs a model path: modelseal ${command} ${first} MODEL ...`);
    }
    return { model: first };
  }
  if (UNSUPPORTED_METHODS.includes(first)) {
    throw new InputError('USAGE', `${command} ${first}: PKCS #11 keys are not supported by modelseal; use model_signing for them, or export the key and use "${command} key".`);
  }
  if (!(PKI_METHODS as readonly string[]).includes(first)) {
    throw new InputError('USAGE', `${command} takes one model path (got "${first}" and "${second}"); the model_signing form is: modelseal ${command} key|certificate|sigstore MODEL ...`);
  }
  return { method: first as PkiMethod, model: second };
}

/** Refuses flags of another method (e.g. `verify key --identity ...`), which the reference rejects too. */
export function checkMethodFlags(command: string, method: PkiMethod, given: Record<PkiMethod, string[]>): void {
  for (const other of PKI_METHODS) {
    if (other === method || given[other].length === 0) continue;
    throw new InputError('USAGE', `${command} ${method} does not take ${given[other].join(', ')} (that is the ${other} method): use "${command} ${other}", or drop them.`);
  }
}
