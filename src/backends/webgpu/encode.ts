/**
 * Command encoding: records the planner's passes (./planner.ts) into a command encoder, with the
 * scratch buffers (descriptors, nodes, states, readback) each owner reuses across calls.
 */
import { BUFFER_USAGE } from './device.js';
import type { Pipelines } from './pipelines.js';
import { descriptorLayout, DESC_WORDS, dispatchGrid, shaDispatch, type B3Plan } from './planner.js';
import { SHA_MULTI_BINDINGS } from './tuning.js';

/** Reusable scratch buffers, grown on demand (labels name their owner). */
export class ScratchBuffers {
  private readonly buffers = new Map<string, GPUBuffer>();
  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  get(name: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(256, Math.ceil(bytes / 256) * 256);
    const have = this.buffers.get(name);
    if (have && have.size >= size) return have;
    have?.destroy();
    const b = this.device.createBuffer({ label: `${this.label} ${name}`, size: Math.max(size, (have?.size ?? 0) * 2), usage });
    this.buffers.set(name, b);
    return b;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

/** A byte window of a storage buffer bound as the kernels' `data` (offset 256-aligned, size 4-aligned). */
export interface DataWindow {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

function dispatch2d(pass: GPUComputePassEncoder, groups: number): void {
  pass.dispatchWorkgroups(...dispatchGrid(groups));
}

const STORAGE_SRC_DST = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;

/** One BLAKE3 plan over one data window, with the scratch buffers it may use. */
export interface B3Job {
  window: DataWindow;
  plan: B3Plan;
  scratch: ScratchBuffers;
}

/**
 * Encodes the BLAKE3 passes of several jobs into one compute pass, level by level: every job's chunk
 * dispatch first, then every job's first parent pass, and so on. Each job has its own node buffer, so
 * the chunk dispatches of different windows need no barrier between them (a barrier after a write
 * waits for all earlier compute work, so job-by-job order would drain the GPU 4 times per window).
 * Returns each job's node buffer; its first 8 words per piece are the results. Descriptors are written
 * with queue.writeBuffer, which is ordered before the next submit.
 */
export function encodeBlake3Jobs(device: GPUDevice, pipelines: Pipelines, encoder: GPUCommandEncoder, jobs: readonly B3Job[]): GPUBuffer[] {
  const align = device.limits.minStorageBufferOffsetAlignment;
  const prepared = jobs.map((job) => {
    const { offsets, totalBytes: total } = descriptorLayout(job.plan, align);
    const groupsBuf = job.scratch.get('blake3 group descriptors', total, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
    const nodes = job.scratch.get('blake3 nodes', job.plan.nodeCount * 32, STORAGE_SRC_DST);
    job.plan.passes.forEach((p, i) => device.queue.writeBuffer(groupsBuf, offsets[i]!, p.groups));
    return { job, offsets, groupsBuf, nodes };
  });
  const levels = Math.max(0, ...jobs.map((j) => j.plan.passes.length));
  const pass = encoder.beginComputePass({ label: 'modelseal blake3 pass' });
  for (let level = 0; level < levels; level++) {
    for (const { job, offsets, groupsBuf, nodes } of prepared) {
      const p = job.plan.passes[level];
      if (!p) continue;
      const groupsBinding = { buffer: groupsBuf, offset: offsets[level]!, size: p.count * DESC_WORDS * 4 };
      const w = job.window;
      if (p.kind === 'chunks') {
        pass.setPipeline(pipelines.blake3Chunks);
        pass.setBindGroup(
          0,
          device.createBindGroup({
            label: 'modelseal blake3 chunks bind group',
            layout: pipelines.blake3Chunks.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: w.buffer, offset: w.offset, size: w.size } },
              { binding: 1, resource: groupsBinding },
              { binding: 2, resource: { buffer: nodes } },
            ],
          }),
        );
      } else {
        pass.setPipeline(pipelines.blake3Parents);
        pass.setBindGroup(
          0,
          device.createBindGroup({
            label: `modelseal blake3 parents bind group ${level}`,
            layout: pipelines.blake3Parents.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: groupsBinding },
              { binding: 1, resource: { buffer: nodes } },
            ],
          }),
        );
      }
      dispatch2d(pass, p.count);
    }
  }
  pass.end();
  return prepared.map((p) => p.nodes);
}

/** encodeBlake3Jobs for one window. */
export function encodeBlake3(
  device: GPUDevice,
  pipelines: Pipelines,
  encoder: GPUCommandEncoder,
  window: DataWindow,
  plan: B3Plan,
  scratch: ScratchBuffers,
): GPUBuffer {
  return encodeBlake3Jobs(device, pipelines, encoder, [{ window, plan, scratch }])[0]!;
}

/**
 * Encodes one SHA-256 dispatch over up to `pipelines.tuning.shaBindings` windows (segment.binding
 * picks one); returns the states buffer (8 words per segment; big-endian digest words when final).
 */
export function encodeSha256(
  device: GPUDevice,
  pipelines: Pipelines,
  encoder: GPUCommandEncoder,
  windows: readonly DataWindow[],
  plan: { segments: Uint32Array; initStates: Uint32Array | null },
  scratch: ScratchBuffers,
  /** An open compute pass to record into. */
  openPass?: GPUComputePassEncoder,
): GPUBuffer {
  const bindings = pipelines.tuning.shaBindings;
  // The one-binding kernel is sha256_leaves.wgsl; any other count runs the multi kernel, whose
  // SHA_MULTI_BINDINGS bindings are all bound (the spare ones repeat window 0).
  const declared = bindings > 1 ? SHA_MULTI_BINDINGS : 1;
  if (windows.length < 1 || windows.length > bindings) throw new RangeError(`1 to ${bindings} data windows per SHA-256 dispatch`);
  const n = plan.segments.length / DESC_WORDS;
  const segBuf = scratch.get('sha256 segment descriptors', n * DESC_WORDS * 4, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
  const states = scratch.get('sha256 states', n * 32, STORAGE_SRC_DST);
  device.queue.writeBuffer(segBuf, 0, plan.segments);
  if (plan.initStates) device.queue.writeBuffer(states, 0, plan.initStates);
  const shape = shaDispatch(n, pipelines.tuning);
  const pipeline = shape.small ? pipelines.sha256Small : pipelines.sha256;
  const pass = openPass ?? encoder.beginComputePass({ label: 'modelseal sha256 pass' });
  pass.setPipeline(pipeline);
  const entries: GPUBindGroupEntry[] = [];
  for (let k = 0; k < declared; k++) {
    const w = windows[k] ?? windows[0]!;
    entries.push({ binding: k, resource: { buffer: w.buffer, offset: w.offset, size: w.size } });
  }
  entries.push({ binding: declared, resource: { buffer: segBuf, offset: 0, size: n * DESC_WORDS * 4 } });
  entries.push({ binding: declared + 1, resource: { buffer: states } });
  pass.setBindGroup(0, device.createBindGroup({ label: 'modelseal sha256 bind group', layout: pipeline.getBindGroupLayout(0), entries }));
  dispatch2d(pass, shape.workgroups);
  if (!openPass) pass.end();
  return states;
}
