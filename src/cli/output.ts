/**
 * CLI output conventions: results on stdout (one JSON object with --json), human text and progress
 * on stderr; errors as one sentence (never a stack trace) and a documented exit code.
 */
import { EXIT_INTERRUPTED, ModelsealError } from '../errors.js';

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

/**
 * Runs a command body, mapping errors to exit codes: ModelsealError → its exit code with its message;
 * anything else → exit 70 with a one-line internal error (set MODELSEAL_DEBUG=1 for the stack).
 */
export async function runCommand(ctx: CommandContext, body: () => Promise<number>): Promise<number> {
  const onSigint = () => {
    process.stderr.write('\nmodelseal: interrupted\n');
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', onSigint);
  try {
    return await body();
  } catch (e) {
    return reportError(ctx, e);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
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
