/**
 * A worker thread terminated while its native async calls are still running must not take the
 * process down. The calls complete on the pool after the worker's environment is gone; node-addon-api
 * then cannot settle their promises, and with C++ exceptions on it used to throw out of the completion
 * callback ("terminate called after throwing an instance of 'Napi::Error'", exit 134) until the addon
 * was built with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (CMakeLists.txt).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/addon.js';
import { fill251, tempDir } from '../helpers.js';

const load = loadNative();
const usable = load.ok && typeof load.addon.verifiedUnitsAsync === 'function';
const why = load.ok ? 'this addon build has no verifiedUnitsAsync; run `npm run build:native`' : load.reason;

// The worker queues more calls than the pool has threads (or 24 tasks on a 2-thread UnitsPipeline),
// tells the main thread, and is terminated with most of them still queued or running; the main
// thread then waits for them to finish.
const script = (queue: string) => `
const { Worker } = require('node:worker_threads');
const [addonPath, file] = process.argv.slice(2);
const inner = \`
  const { parentPort, workerData } = require('node:worker_threads');
  const fs = require('node:fs');
  const a = require(workerData.addonPath);
  const fd = fs.openSync(workerData.file, 'r');
  const n = 4 << 20;
  ${queue}
  parentPort.postMessage('queued');
\`;
const w = new Worker(inner, { eval: true, workerData: { addonPath, file } });
w.on('message', async () => {
  await w.terminate();
  setTimeout(() => { console.log('survived'); process.exit(0); }, 1500);
});
`;

const ASYNC_CALLS = `
  for (let i = 0; i < 24; i++) {
    const alg = i % 2 ? 'blake3' : 'sha256';
    a.verifiedUnitsAsync(fd, Float64Array.of(0), Float64Array.of(n), Uint8Array.of(0), alg, new Uint8Array(a.alignedBuffer(n)), new Uint8Array(32), 1).catch(() => {});
  }`;
// The pipeline's teardown runs in the worker's environment cleanup: its threads stop after their
// current item and the tasks still queued are dropped with the thread-safe function.
const PIPELINE_TASKS = `
  const p = new a.UnitsPipeline(2, () => {});
  for (let i = 0; i < 24; i++) {
    const alg = i % 2 ? 'blake3' : 'sha256';
    p.submit(i, fd, Float64Array.of(0), Float64Array.of(n), Uint8Array.of(0), alg, new Uint8Array(a.alignedBuffer(n)), new Uint8Array(32));
  }`;
const pipelineUsable = load.ok && typeof load.addon.UnitsPipeline === 'function';

describe.skipIf(!usable)(`native calls of a terminated worker${usable ? '' : ` (skipped: ${why})`}`, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  function survives(name: string, queue: string): void {
    const file = join(dir.path, 'eight.bin');
    writeFileSync(file, fill251(8 << 20));
    const path = join(dir.path, name);
    writeFileSync(path, script(queue));
    const addon = (load as { path: string }).path;
    for (let round = 0; round < 3; round++) {
      const r = spawnSync(process.execPath, [path, addon, file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).not.toContain('terminate called');
      expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'survived' });
    }
  }

  it('the process survives a worker terminated with verifiedUnitsAsync calls in flight', () => survives('terminate.cjs', ASYNC_CALLS));

  it.skipIf(!pipelineUsable)(`the process survives a worker terminated with UnitsPipeline tasks in flight${pipelineUsable ? '' : ' (skipped: this addon build has no UnitsPipeline)'}`, () =>
    survives('terminate-pipeline.cjs', PIPELINE_TASKS));
});
