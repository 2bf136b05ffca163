/** What the benchmark ran on: CPU model and flags, cores, memory, kernel, Node, GPU adapter. */
import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, loadavg, platform, release, totalmem } from 'node:os';
import type { GpuInfo, MachineInfo } from './types.js';

/** CPU flags that decide which hashing kernels run (the rest of /proc/cpuinfo is noise here). */
const HASHING_FLAGS = ['sha_ni', 'sse4_1', 'ssse3', 'avx', 'avx2', 'avx512f', 'avx512vl', 'vaes', 'vpclmulqdq', 'bmi2', 'sha512', 'asimd', 'sha2', 'sha3'];

function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
    const have = new Set(line.split(/\s+/));
    return HASHING_FLAGS.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

/** The machine description of a report (the GPU part is filled in by the caller from the probe). */
export function machineInfo(gpu: GpuInfo | null, gpuReason?: string): MachineInfo {
  const c = cpus();
  const m: MachineInfo = {
    cpuModel: c[0]?.model?.trim() || 'unknown',
    cpuFlags: cpuFlags(),
    cores: c.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${arch()}`,
    kernel: release(),
    node: process.version,
    loadStart: loadavg().map((x) => Math.round(x * 100) / 100),
    gpu,
    hostname: hostname(),
  };
  if (gpuReason !== undefined) m.gpuReason = gpuReason;
  return m;
}

/** One line naming the machine, for tables and the README. */
export function machineLine(m: MachineInfo): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(0);
  const gpu = m.gpu ? `; GPU ${m.gpu.adapter}` : '; no GPU';
  return `${m.cpuModel}, ${m.cores} logical cores${m.cpuFlags.length ? ` (${m.cpuFlags.join(' ')})` : ''}, ${gib} GiB, ${m.os} ${m.kernel}, Node ${m.node}${gpu}`;
}
