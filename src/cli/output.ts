/**
 * CLI output conventions: results on stdout (one JSON object with --json), human text and progress
 * on stderr; errors as one sentence (never a stack trace) and a documented exit code.
 */
import { ModelsealError } from '../errors.js';
import { removePendingOutputs } from '../index.js';
import { setExitCode } from './exit-code.js';

/** How a command prints: `--json` (one JSON result on stdout) and `--quiet` (no human text on stderr). */
export interface CommandContext {
  json: boolean;
  quiet: boolean;
}

/** One JSON object and a newline on stdout (bigints as strings, bytes as hex). */
export function writeJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, jsonReplacer) + '\n');
}

/** One NDJSON progress/event line on stdout (used with --json). */
export function writeEvent(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj, jsonReplacer) + '\n');
}

/** One line of human text on stderr, unless quiet. */
export function info(ctx: CommandContext, line: string): void {
  if (!ctx.quiet) process.stderr.write(line + '\n');
}

function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v;
}

/** A command's output context from its `--json` / `-q` flags (`quiet` overrides for commands without -q). */
export function contextOf(flags: { json?: boolean; quiet?: boolean }, quiet = flags.quiet === true): CommandContext {
  return { json: flags.json === true, quiet };
}

/** A commander action's whole run: {@link runCommand}, then its exit code recorded for `main`. */
export async function runAction(ctx: CommandContext, body: () => Promise<number>): Promise<void> {
  setExitCode(await runCommand(ctx, body));
}

/**
 * Runs a command body, mapping errors to exit codes: ModelsealError → its exit code with its message;
 * anything else → exit 70 with a one-line internal error (set MODELSEAL_DEBUG=1 for the stack).
 */
export async function runCommand(ctx: CommandContext, body: () => Promise<number>): Promise<number> {
  const onSigint = () => interrupted(ctx);
  process.once('SIGINT', onSigint);
  try {
    return await body();
  } catch (e) {
    return reportError(ctx, e);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/**
 * Ctrl-C: say so (as JSON too with --json), then die by SIGINT itself. Exiting normally would wait for
 * the worker threads, and a worker inside one native hashing call only returns when its file is done
 * (seconds on a large file); dying by the signal is immediate, and the parent shell sees the
 * conventional status 130 (128 + SIGINT) and knows the run was interrupted. Nothing has been written
 * yet at any point a hash can be interrupted: outputs are written after hashing.
 */
function interrupted(ctx: CommandContext): void {
  if (ctx.json) writeJson({ ok: false, error: { code: 'INTERRUPTED', kind: 'interrupted', message: 'interrupted (SIGINT); nothing was written.' } });
  process.stderr.write('\nmodelseal: interrupted\n');
  removePendingOutputs(); // this handler may run before the output writer's own: no temporary file is left
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
}

/** Prints an error (JSON too with --json) and returns its exit code: a ModelsealError's own, else 70. */
export function reportError(ctx: CommandContext, e: unknown): number {
  if (e instanceof ModelsealError) {
    if (ctx.json) writeJson({ ok: false, error: e.toJSON() });
    process.stderr.write(`modelseal: error [${e.code}]: ${e.message}\n`);
    return e.exitCode;
  }
  if (ctx.json) writeJson({ ok: false, error: { code: 'INTERNAL', message: String((e as Error)?.message ?? e) } });
  process.stderr.write(`modelseal: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.MODELSEAL_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return 70;
}
