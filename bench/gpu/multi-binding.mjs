#!/usr/bin/env node
/**
 * The multi-binding SHA-256 kernel alone, in its own process: one GPU buffer of --gib GiB (default
 * 16) hashed as 1 MiB leaves with shaBindings 1 (one dispatch per maxStorageBufferBindingSize window)
 * and with every binding the device allows (all leaves in one dispatch), each checked leaf by leaf
 * against node:crypto. Kept apart from bench/gpu/run.mjs because this kernel never finished on Mesa
 * lavapipe: run it under `timeout` so that a hang costs only this script.
 *
 *   npx tsc -p tsconfig.json && timeout 120 node bench/gpu/multi-binding.mjs [--gib 16] [--reps 3]
 *
 * Prints one JSON line per variant and a summary line; with $BENCH_OUT, writes multi-binding.json there.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { hashGpuBuffer, acquireDevice, adapterLine, resolveTuning, tuningLabel } = await import(join(ROOT, 'dist/backends/webgpu/index.js'));

const args = process.argv.slice(2);
const num = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MiB = 2 ** 20;
const { device, description } = await acquireDevice('modelseal multi-binding bench');
const software = description.software;
const bytes = software ? 64 * MiB : Math.min(num('--gib', 16) * 1024 * MiB, description.maxBufferSize);
const reps = num('--reps', 3);
console.error(`adapter: ${adapterLine(description)}; buffer ${bytes / MiB} MiB; maxStorageBufferBindingSize ${description.maxStorageBufferBindingSize}`);

// The buffer: 256 MiB (64 MiB on software) of random bytes repeated, with byte 0 of each copy set to
// its index, so the CPU reference needs one hash per distinct leaf.
const UP = Math.min(software ? 64 * MiB : 256 * MiB, bytes);
const host = new Uint8Array(UP);
randomFillSync(host);
const buf = device.createBuffer({ label: 'multi-binding bench data', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
for (let o = 0; o < bytes; o += UP) {
  host[0] = (o / UP) & 0xff;
  device.queue.writeBuffer(buf, o, host, 0, Math.min(UP, bytes - o));
  await device.queue.onSubmittedWorkDone();
}
const ranges = [];
for (let o = 0; o < bytes; o += MiB) ranges.push({ offset: o, length: Math.min(MiB, bytes - o) });
const inner = new Map();
const want = ranges.map((r) => {
  const inBlock = r.offset % UP;
  if (inBlock !== 0) {
    if (!inner.has(inBlock)) inner.set(inBlock, createHash('sha256').update(host.subarray(inBlock, inBlock + r.length)).digest('hex'));
    return inner.get(inBlock);
  }
  host[0] = (r.offset / UP) & 0xff;
  return createHash('sha256').update(host.subarray(0, r.length)).digest('hex');
});

const maxBindings = resolveTuning(device, {}, {}).shaBindings;
const variants = [1, ...(maxBindings > 1 ? [maxBindings] : [])].flatMap((shaBindings) => [{ shaBindings, shaPrefetch: false }, { shaBindings, shaPrefetch: true }]);
const rows = [];
for (const tuning of variants) {
  const label = tuningLabel(resolveTuning(device, tuning, {}));
  const t0 = performance.now();
  const got = await hashGpuBuffer(device, buf, { algorithm: 'sha256', ranges }, { tuning });
  const firstMs = performance.now() - t0;
  const ok = got.length === want.length && got.every((d, i) => d === want[i]);
  const ms = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await hashGpuBuffer(device, buf, { algorithm: 'sha256', ranges }, { tuning });
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const med = ms[ms.length >> 1];
  const row = { label, tuning, leaves: ranges.length, bytes, firstMs, ms, medianMs: med, GBps: bytes / 1e6 / med, ok };
  rows.push(row);
  console.log(JSON.stringify(row));
}
buf.destroy();
device.destroy();
const out = { kind: 'modelseal-gpu-multi-binding', date: new Date().toISOString(), adapter: adapterLine(description), software, rows };
if (process.env.BENCH_OUT) writeFileSync(join(process.env.BENCH_OUT, 'multi-binding.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(rows.map((r) => `${r.label}: ${r.GBps.toFixed(1)} GB/s ${r.ok ? 'ok' : 'MISMATCH'}`).join(' | '));
process.exit(rows.every((r) => r.ok) ? 0 : 1);
