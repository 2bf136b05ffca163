/**
 * GPU tier gate: the tests run when a WebGPU adapter exists (a real GPU or Mesa lavapipe), skip with
 * the probe's reason when not, and FAIL instead of skipping when MODELSEAL_REQUIRE_GPU=1 (CI).
 */
import { probeWebGpu } from '../../src/backends/webgpu/index.js';

export const probe = await probeWebGpu();
export const required = process.env.MODELSEAL_REQUIRE_GPU === '1';
/** The reason to skip, or null when the GPU tier runs. */
export const skipReason: string | null = probe.ok ? null : probe.reason;

if (skipReason !== null) {
  if (required) throw new Error(`MODELSEAL_REQUIRE_GPU=1 but no WebGPU adapter: ${skipReason}`);
  console.warn(`GPU tests skipped: ${skipReason}`);
} else if (probe.ok) {
  console.info(`GPU tests on ${probe.capabilities.detail}`);
}
