/**
 * The reference `model_signing` CLI's command shapes: `sign|verify key|certificate|sigstore MODEL`,
 * with its flag spellings. The method word selects which flags are allowed, so that
 * `modelseal` can replace `model_signing` in an init container or a script unchanged.
 */
import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { collect } from './args.js';

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

/**
 * Adds the reference CLI's spellings of options as hidden aliases: they parse, but `--help` shows
 * only modelseal's own names. `repeatable` ones collect every occurrence, like their modelseal twins.
 */
export function addModelSigningSpellings(cmd: Command, single: string[], repeatable: string[] = []): Command {
  for (const spec of single) cmd.addOption(new Option(spec).hideHelp());
  for (const spec of repeatable) cmd.addOption(new Option(spec).argParser(collect).hideHelp());
  return cmd;
}

/** The value of a flag given under one or more of its spellings; different values are a usage error. */
export function oneSpelling(name: string, ...values: Array<string | undefined>): string | undefined {
  const given = values.filter((v): v is string => v !== undefined);
  if (given.length > 1 && new Set(given).size > 1) throw new InputError('USAGE', `${name} was given twice with different values.`);
  return given[0];
}
