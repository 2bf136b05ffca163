/**
 * The `modelseal` command line. Each command lives in its own file under commands/ and exports
 * `register(program)`; this file only wires them up and maps parse errors to exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../native/addon.js';
import { EXIT_USAGE } from '../errors.js';

// Command registrations (one line per command file).
const COMMANDS: Array<() => Promise<{ register(program: Command): void }>> = [
  // @commands
  () => import('./commands/attest.js'),
  () => import('./commands/attest-receipt.js'),
  () => import('./commands/hash.js'),
  () => import('./commands/doctor.js'),
  () => import('./commands/demo.js'),
  () => import('./commands/sign.js'),
  () => import('./commands/verify.js'),
  () => import('./commands/inspect.js'),
];

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Hash, sign and verify ML model weights (OpenSSF Model Signing), fast, with attestation.')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  exitCode = 0;
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    throw e;
  }
  return exitCode;
}

let exitCode = 0;

/** Commands call this with their exit code (commander actions cannot return one). */
export function setExitCode(code: number): void {
  exitCode = code;
}
