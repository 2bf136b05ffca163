/**
 * `modelseal bench` end to end: the quick run CI executes (figures are not asserted: only that every
 * backend agreed, the files were written and they follow the schema), and the usage errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateBenchReport } from '../../src/bench/schema.js';
import { runCliInProcess } from '../cli-in-process.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('modelseal-bench-cli-');
afterAll(() => tmp.cleanup());
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'bench-quick.json');

describe('modelseal bench', () => {
  it('--quick runs every available backend, checks digests across them, writes the three reports', { timeout: 600_000 }, () => {
    const out = join(tmp.path, 'quick');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'modelseal.js'), 'bench', '--quick', '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.at(-1)!;
    expect(result.type, r.stderr).toBe('result');
    expect(lines.some((l) => l.type === 'progress')).toBe(true);
    const report = validateBenchReport(JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')));
    expect(report.failures.filter((f) => f.kind === 'digest' || f.kind === 'run')).toEqual([]);
    expect(r.status).toBe(0);
    expect(report.partial).toBe(false);
    expect(report.runs.length).toBeGreaterThan(0);
    for (const run of report.runs) {
      expect(run.status, run.id).toBe('ok');
      expect(['ok', 'reference'], run.id).toContain(run.digestCheck);
    }
    // every whole-model CPU backend that probed ok took part
    for (const p of report.backends.filter((b) => b.ok && b.name !== 'webgpu')) expect(report.runs.some((x) => x.backend === p.name)).toBe(true);
    expect(report.ceilings.map((c) => c.id)).toEqual(expect.arrayContaining(['page-cache-read', 'memcpy']));
    expect(report.peers.found.length + report.peers.missing.length).toBe(5);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it.each([
    [['--runs', '0']],
    [['--workers', '1,x']],
    [['--backends', 'quantum']],
    [['--algorithms', 'md5']],
    [['--size', 'big']],
    [['a', 'b']],
    [['--compare', 'only-one.json']],
  ])('bench %j is a usage error (exit 2, no stack)', async (args) => {
    const r = await runCliInProcess(['bench', ...args, '--out', join(tmp.path, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/modelseal: error \[/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(tmp.path, 'never', 'bench.json'))).toBe(false);
  });

  it('--compare renders two reports; a file that is not a report is refused', async () => {
    const out = join(tmp.path, 'cmp');
    const ok = await runCliInProcess(['bench', '--compare', FIXTURE, FIXTURE, '--out', out]);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toContain('1.00x');
    const bad = join(tmp.path, 'bad.json');
    writeFileSync(bad, '{"schema":"nope"}');
    const r = await runCliInProcess(['bench', '--compare', FIXTURE, bad, '--json', '--out', out]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out.trim().split('\n').pop()!).error.code).toBe('BENCH_REPORT_INVALID');
  });
});
