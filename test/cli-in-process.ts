/**
 * Runs `modelseal ARGS` in this process (no child process, so the test runner's TypeScript sources
 * are what runs) and returns the exit code with everything written to stdout and stderr.
 */
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

export async function runCliInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(((s: string | Uint8Array, a?: unknown, b?: unknown) => {
    out += String(s);
    const cb = typeof a === 'function' ? a : b;
    if (typeof cb === 'function') process.nextTick(cb as () => void); // as a real stream, after the write
    return true;
  }) as typeof process.stdout.write);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'modelseal', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
