/**
 * Memory stays bounded whatever the model size: hashing a 10 GiB model (a sparse file, so no 10 GiB
 * of disk or page cache is needed) keeps the process's peak RSS under 300 MiB.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

let d: { path: string; cleanup: () => void };
beforeAll(() => {
  d = tempDir();
  const fd = openSync(join(d.path, 'model.safetensors'), 'w');
  ftruncateSync(fd, 10 * 2 ** 30);
  writeSync(fd, fill251(2 ** 20), 0, 2 ** 20, 5 * 2 ** 30);
  closeSync(fd);
});
afterAll(() => d.cleanup());

it('peak RSS stays under 300 MiB while hashing a 10 GiB model (shards and files)', () => {
  for (const extra of [['--method', 'shards', '--shard-size', '16MiB'], ['--hash', 'blake3']]) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'modelseal.js'), 'hash', d.path, '--json', ...extra], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res.bytes).toBe(10 * 2 ** 30);
    expect(res.peakRssBytes).toBeLessThan(300 * 2 ** 20);
  }
}, 600_000);
