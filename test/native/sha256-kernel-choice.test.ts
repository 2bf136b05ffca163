/**
 * The default SHA-256 kernel is a fixed rule from CPU features: the same in every fresh process
 * (a start-up micro-timing once flipped it between runs), the one the rule names for this CPU, and
 * `doctor` says which and why; MODELSEAL_NATIVE_KERNELS still forces another.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { addon, kernels, skipReason } from './native-sha256-helpers.js';

const run = promisify(execFile);
const DIST_NATIVE = join(REPO_ROOT, 'dist', 'backends', 'native.js');
const CLI = join(REPO_ROOT, 'bin', 'modelseal.js');

/** The rule of native/sha256/sha256_dispatch.cc, written out from the features the addon reports. */
function expectedDefault(f: { shaNi: boolean; sse41: boolean; avx2: boolean; avx512f: boolean; arch: string }): string {
  if (f.arch === 'x86_64') {
    if (f.shaNi && f.sse41) return 'shani-x2';
    if (f.avx512f && f.avx2) return 'avx512-x16';
    if (f.avx2) return 'avx2-x8';
    return 'scalar';
  }
  // the SHA-2 extension bit is read from the auxiliary vector, which JS does not see: the runnable list says
  if (f.arch === 'aarch64') return kernels.includes('armv8-sha2-x2') ? 'armv8-sha2-x2' : 'scalar';
  return 'scalar';
}

/** Environment of a child process with nothing that forces a kernel. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('MODELSEAL_NATIVE_KERNELS' in extra)) delete env.MODELSEAL_NATIVE_KERNELS;
  return env;
}

/** One fresh process's choice, through the function doctor uses (the addon is loaded anew each time). */
async function choiceInFreshProcess(extraEnv: Record<string, string> = {}): Promise<{ kernel: string; reason: string; forced: boolean }> {
  const script = `import(${JSON.stringify(pathToFileURL(DIST_NATIVE).href)}).then((m) => process.stdout.write(JSON.stringify(m.sha256KernelChoice())))`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: cleanEnv(extraEnv), timeout: 60_000 });
  return JSON.parse(stdout) as { kernel: string; reason: string; forced: boolean };
}

describe.skipIf(!addon)(`native SHA-256 kernel choice${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  const a = addon!;

  it('needs the build in dist/ (npm test compiles first)', () => {
    expect(existsSync(DIST_NATIVE)).toBe(true);
  });

  it('is the rule for this CPU, in this process and in several fresh ones', async () => {
    const expected = expectedDefault(a.cpuFeatures());
    if (process.env.MODELSEAL_NATIVE_KERNELS === undefined) expect(a.sha256DefaultKernel()).toBe(expected);
    // one at a time: the old timing flipped most under load, and parallel children add load
    const choices = [];
    for (let i = 0; i < 5; i++) choices.push(await choiceInFreshProcess());
    for (const c of choices) {
      expect(c).toEqual({ kernel: expected, reason: choices[0]!.reason, forced: false });
      expect(c.reason.length).toBeGreaterThan(20);
    }
    if (expected.startsWith('shani')) expect(choices[0]!.reason).toMatch(/^SHA-NI present/);
    if (expected === 'scalar') expect(choices[0]!.reason).toMatch(/portable scalar/);
  }, 120_000);

  it('gives way to MODELSEAL_NATIVE_KERNELS, and says so', async () => {
    const other = kernels.find((k) => k !== a.sha256DefaultKernel()) ?? 'scalar';
    expect(await choiceInFreshProcess({ MODELSEAL_NATIVE_KERNELS: `sha256=${other}` })).toEqual({
      kernel: other,
      reason: 'forced by MODELSEAL_NATIVE_KERNELS',
      forced: true,
    });
  }, 60_000);

  it('is printed by doctor, in text and in --json', async () => {
    const env = cleanEnv({ MODELSEAL_DISABLE_BACKENDS: 'webgpu' });
    const json = JSON.parse((await run(process.execPath, [CLI, 'doctor', '--json'], { env, timeout: 60_000 })).stdout) as {
      native: { ok: boolean; sha256Kernel?: { kernel: string; reason: string; forced: boolean } };
    };
    expect(json.native.ok).toBe(true);
    expect(json.native.sha256Kernel?.kernel).toBe(a.sha256DefaultKernel());
    expect(json.native.sha256Kernel?.forced).toBe(false);
    const text = (await run(process.execPath, [CLI, 'doctor'], { env, timeout: 60_000 })).stdout;
    expect(text).toContain(`sha256    ${a.sha256DefaultKernel()}: ${json.native.sha256Kernel!.reason}`);
  }, 120_000);
});
