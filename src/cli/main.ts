/**
 * The `modelseal` command line. Each command lives in its own file under commands/ and exports
 * `register(program)`; this file only wires them up and maps parse errors to exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from '../errors.js';
import { packageVersion } from '../index.js';
import { takeExitCode } from './exit-code.js';

type CommandModule = { register(program: Command): void };

/**
 * Command registrations, by command name (one entry per command file; a name may need several files).
 * Only the invoked command's modules are loaded and registered; `--help` and unknown names load them
 * all. (The library behind them is one import, src/index.ts, whichever command runs.)
 */
const COMMANDS: Record<string, Array<() => Promise<CommandModule>>> = {
  // @commands
  hash: [() => import('./commands/hash.js')],
  sign: [() => import('./commands/sign.js')],
  verify: [() => import('./commands/verify.js')],
  inspect: [() => import('./commands/inspect.js')],
  attest: [() => import('./commands/attest.js'), () => import('./commands/attest-receipt.js')],
  doctor: [() => import('./commands/doctor.js')],
  demo: [() => import('./commands/demo.js')],
};

/** Runs `modelseal` with process-style arguments (`argv[0]` node, `argv[1]` the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('modelseal')
    .description('Hash, sign and verify ML model weights (OpenSSF Model Signing), fast, with attestation.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const invoked = argv[2];
  const selected = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? [COMMANDS[invoked]!] : Object.values(COMMANDS);
  for (const loaders of selected) for (const load of loaders) (await load()).register(program);
  takeExitCode();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    throw e;
  }
  return takeExitCode();
}
