/**
 * The addon loader (src/native/addon.ts): which binary loads, and the reason when none does. Each case
 * imports a fresh copy of the module (the load is cached per thread) with its own environment.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

const SOURCE_BUILD = join(REPO_ROOT, 'build', 'Release', 'modelseal.node');
// Without a source build these cases skip, except where the native tier is required (CI).
const HAVE_BUILD = existsSync(SOURCE_BUILD) || process.env.MODELSEAL_REQUIRE_NATIVE === '1';

async function freshLoad(env: Record<string, string>) {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.resetModules();
  const m = await import('../../src/native/addon.js');
  return m.loadNative();
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('native addon loader', () => {
  it('MODELSEAL_DISABLE_NATIVE=1: none, and says so', async () => {
    const r = await freshLoad({ MODELSEAL_DISABLE_NATIVE: '1' });
    expect(r).toEqual({ ok: false, reason: 'disabled by MODELSEAL_DISABLE_NATIVE=1' });
  });

  it('MODELSEAL_NATIVE_PATH naming a missing file: none, naming the file', async () => {
    const r = await freshLoad({ MODELSEAL_NATIVE_PATH: '/nonexistent/modelseal.node' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('/nonexistent/modelseal.node');
  });

  it('a file that is not an addon: none, with the loader error and the way to build one', async () => {
    const r = await freshLoad({ MODELSEAL_NATIVE_PATH: join(REPO_ROOT, 'package.json') });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/package\.json (is not a modelseal addon|failed to load)/);
  });

  it.skipIf(!HAVE_BUILD)('a source build in build/Release is preferred and reported as such', async () => {
    const r = await freshLoad({});
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.origin).toBe('source build');
      expect(r.path).toBe(SOURCE_BUILD);
      expect(typeof r.addon.cpuFeatures().arch).toBe('string');
    }
  });

  it.skipIf(!HAVE_BUILD)('MODELSEAL_NATIVE_PATH loads the named binary and says why', async () => {
    const r = await freshLoad({ MODELSEAL_NATIVE_PATH: SOURCE_BUILD });
    expect(r.ok && r.origin).toBe('MODELSEAL_NATIVE_PATH');
    if (r.ok) expect(r.why).toBe(`MODELSEAL_NATIVE_PATH=${SOURCE_BUILD}`);
  });

  it('doctor reports which addon loaded and why, or none with the reason', async () => {
    vi.resetModules();
    const { doctorReport } = await import('../../src/index.js');
    const r = await doctorReport();
    if (r.native.ok) {
      expect(['prebuilt', 'source build', 'MODELSEAL_NATIVE_PATH']).toContain(r.native.origin);
      expect(r.native.why.length).toBeGreaterThan(0);
    } else {
      expect(r.native.origin).toBe('none');
      expect(r.native.reason.length).toBeGreaterThan(0);
    }
    vi.stubEnv('MODELSEAL_DISABLE_NATIVE', '1');
    vi.resetModules();
    const off = await (await import('../../src/index.js')).doctorReport();
    expect(off.native).toEqual({ ok: false, origin: 'none', reason: 'disabled by MODELSEAL_DISABLE_NATIVE=1' });
  });
});
