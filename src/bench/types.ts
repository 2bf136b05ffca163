/**
 * The shapes of a benchmark run (`bench.json`, schema `docs/bench.schema.json`). Rates are bytes per
 * second (1 GB/s = 1e9 B/s); times are seconds; every figure keeps its raw samples.
 */
import type { BackendName, HashAlgorithm, ProbeResult } from '../backends/types.js';
import type { SerializationMethod } from '../manifest/types.js';

/** The schema identifier written into every report. */
export const BENCH_SCHEMA = 'modelseal-bench/v1';

/** What a whole-model run executes on: a backend, or CPU workers and the GPU together. */
export type BenchBackend = BackendName | 'hybrid';
export const BENCH_BACKENDS: readonly BenchBackend[] = ['native', 'webgpu', 'hybrid', 'wasm', 'node-crypto', 'js'];

export interface BenchSettings {
  algorithms: HashAlgorithm[];
  methods: SerializationMethod[];
  backends: BenchBackend[];
  workers: number[];
  runs: number;
  shardSize: number;
  quick: boolean;
  /** Bytes the slow portable backends (js, wasm) hash: a subset of whole files, labelled as such. */
  slowBackendBytes: number;
  peers: boolean;
  micro: boolean;
  /** Also time `modelseal hash` as a whole process (start-up included). */
  processRuns: boolean;
}

export interface GpuInfo {
  adapter: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface MachineInfo {
  cpuModel: string;
  cpuFlags: string[];
  cores: number;
  memoryBytes: number;
  os: string;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages at the start and the end of the run. */
  loadStart: number[];
  loadEnd?: number[];
  gpu: GpuInfo | null;
  /** Why there is no GPU figure (no adapter, webgpu not installed, ...). */
  gpuReason?: string;
  hostname?: string;
}

export interface ModelInfo {
  path: string;
  generated: boolean;
  files: number;
  bytes: number;
}

/** A machine limit measured in the same run, against which results are read. */
export interface CeilingResult {
  id: 'page-cache-read' | 'memcpy' | 'gpu-upload' | 'gpu-resident-sha256' | 'gpu-resident-blake3';
  label: string;
  bytes: number;
  /** Bytes per second of each round. */
  samples: number[];
  bytesPerSecond: number | null;
  /** GPU ceilings on a software adapter measure the CPU. */
  software?: boolean;
}

export type DigestCheck = 'reference' | 'ok' | 'mismatch' | 'unchecked';

/** One whole-model configuration, timed over the rounds. */
export interface RunResult {
  id: string;
  group: string;
  algorithm: HashAlgorithm;
  method: SerializationMethod;
  shardSize?: number;
  backend: BenchBackend;
  /** The native kernels used, by algorithm (e.g. sha256=shani-x2), or the adapter for webgpu. */
  kernel?: string;
  workers: number;
  timing: 'in-process' | 'process';
  bytes: number;
  files: number;
  /** True when this run hashed only some of the model's files (slow backends): its resource digests are still checked. */
  subset: boolean;
  status: 'ok' | 'failed' | 'interrupted';
  error?: string;
  seconds: number[];
  samples: number[];
  bytesPerSecond: number | null;
  spread: number | null;
  /** CPU seconds of the process per round (user space and kernel), all threads. */
  cpuUserSeconds?: number[];
  cpuSystemSeconds?: number[];
  rootDigest?: string;
  digestCheck: DigestCheck;
  /** Bytes hashed by each backend (hybrid runs). */
  backendBytes?: Partial<Record<BackendName, number>>;
}

export interface PeerInfo {
  name: string;
  path: string;
  version: string;
}

export interface PeerRun {
  id: string;
  group: string;
  peer: string;
  command: string;
  algorithm: HashAlgorithm;
  method: SerializationMethod;
  threads: number;
  /** 'file' for peers hashing the model's files; 'memory' for `openssl speed` (no I/O). */
  source: 'file' | 'memory';
  bytes: number;
  status: 'ok' | 'failed' | 'interrupted';
  error?: string;
  seconds: number[];
  samples: number[];
  bytesPerSecond: number | null;
  digestCheck: DigestCheck;
}

export interface RatioResult {
  run: string;
  to: string;
  kind: 'peer' | 'ceiling' | 'workers';
  ratio: number | null;
  /** Median of per-round ratios (same rounds) rather than a ratio of medians. */
  paired: boolean;
}

export interface MicroResult {
  backend: BackendName;
  algorithm: HashAlgorithm;
  kernel: string;
  bytes: number;
  bytesPerSecond: number | null;
  /** tinybench latency samples count and relative margin of error (percent). */
  samples: number;
  rme: number | null;
}

/** Where the time of one run goes, estimated from the ceilings and a tiny-model run. */
export interface BreakdownResult {
  run: string;
  startupSeconds: number;
  ioSeconds: number;
  uploadSeconds: number;
  hashSeconds: number;
  totalSeconds: number;
}

export interface BenchFailure {
  /** digest: results disagree (a bug); run: a whole-model run threw; peer / ceiling: a tool or measurement failed. */
  kind: 'digest' | 'run' | 'peer' | 'ceiling';
  what: string;
  message: string;
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  modelsealVersion: string;
  date: string;
  durationSeconds: number;
  /** Interrupted (Ctrl-C or an aborted signal): the figures present are real, the rest never ran. */
  partial: boolean;
  settings: BenchSettings;
  machine: MachineInfo;
  backends: ProbeResult[];
  model: ModelInfo;
  ceilings: CeilingResult[];
  runs: RunResult[];
  peers: { found: PeerInfo[]; missing: string[]; runs: PeerRun[] };
  ratios: RatioResult[];
  micro: MicroResult[];
  breakdown: BreakdownResult[];
  failures: BenchFailure[];
  notes: string[];
}

/** A progress event of a benchmark run. */
export interface BenchProgress {
  step: string;
  done: number;
  total: number;
  detail?: string;
}
