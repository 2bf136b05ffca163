/**
 * The `modelseal` command line. Each command lives in its own file under commands/ and exports
 * `register(program)`; this file only wires them up and maps parse errors to exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from '../errors.js';
import { endQuietlyOnClosedOutput, packageVersion } from '../index.js';
import { takeExitCode } from './exit-code.js';
import { reportError, writeJson } from './output.js';

type CommandModule = { register(program: Command): void };

/**
 * Command registrations, by command name (one entry per command file; a name may need several files).
 * Only the invoked command's modules are loaded and registered; `--version` loads none, `--help` and
 * unknown names load them all. (The library behind them is one import, src/index.ts, whichever command runs.)
 */
const COMMANDS: Record<string, Array<() => Promise<CommandModule>>> = {
  // @commands
  hash: [() => import('./commands/hash.js')],
  digest: [() => import('./commands/digest.js')],
  sign: [() => import('./commands/sign.js')],
  verify: [() => import('./commands/verify.js')],
  inspect: [() => import('./commands/inspect.js')],
  attest: [() => import('./commands/attest.js'), () => import('./commands/attest-receipt.js')],
  doctor: [() => import('./commands/doctor.js')],
  demo: [() => import('./commands/demo.js')],
  cat: [() => import('./commands/cat.js')],
  bench: [() => import('./commands/bench.js')],
};

/** Whether --json was asked for, read from the raw arguments (a parse error happens before flags exist). */
function wantsJson(argv: string[]): boolean {
  const dashDash = argv.indexOf('--');
  return (dashDash < 0 ? argv : argv.slice(0, dashDash)).slice(2).includes('--json');
}

/** Runs `modelseal` with process-style arguments (`argv[0]` node, `argv[1]` the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedOutput();
  const program = new Command('modelseal')
    .description('Hash, sign and verify ML model weights (OpenSSF Model Signing), fast, with attestation.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const invoked = argv[2];
  const selected =
    invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? [COMMANDS[invoked]!] : invoked === '-v' || invoked === '--version' ? [] : Object.values(COMMANDS);
  takeExitCode();
  if (argv.length <= 2) {
    // no subcommand is a usage error: say so, show the commands, exit 2
    process.stderr.write('modelseal: error: no command given.\n');
    for (const loaders of selected) for (const load of loaders) (await load()).register(program);
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    for (const loaders of selected) for (const load of loaders) (await load()).register(program);
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // commander has already written its line to stderr; --json callers also get the error on stdout
      if (wantsJson(argv)) writeJson({ ok: false, error: { code: 'USAGE', kind: 'usage', message: e.message.replace(/^error: /, ''), parser: e.code } });
      return EXIT_USAGE;
    }
    return reportError({ json: wantsJson(argv), quiet: false }, e);
  }
  return takeExitCode();
}
