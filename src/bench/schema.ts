/**
 * The JSON Schema of bench.json (draft-07, validated with ajv). The same document is published as
 * docs/bench.schema.json; a test keeps the two identical. Reports read back (`--compare`) are
 * validated against it before anything is drawn from them.
 */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';
import { InputError } from '../errors.js';
import { BENCH_SCHEMA, type BenchReport } from './types.js';

const num = { type: 'number' };
const numOrNull = { type: ['number', 'null'] };
const str = { type: 'string' };
const nums = { type: 'array', items: num, maxItems: 10000 };
const strs = { type: 'array', items: str, maxItems: 10000 };
const ALGORITHMS = { enum: ['sha256', 'blake3', 'blake2b'] };
const METHODS = { enum: ['files', 'shards'] };
const BACKENDS = { enum: ['native', 'webgpu', 'hybrid', 'wasm', 'node-crypto', 'js'] };
const CHECK = { enum: ['reference', 'ok', 'mismatch', 'unchecked'] };
const STATUS = { enum: ['ok', 'failed', 'interrupted'] };
const list = (items: object) => ({ type: 'array', items, maxItems: 100000 });
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties });

export const BENCH_SCHEMA_ID = 'https://modelseal.dev/schemas/bench-v1.json';

export const BENCH_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: BENCH_SCHEMA_ID,
  title: 'modelseal bench report (bench.json)',
  description: 'One `modelseal bench` run: the machine, the settings, every raw sample, medians and ratios. Rates are bytes per second (1 GB/s = 1e9 B/s), times seconds. Unknown properties are allowed (later minor versions add fields).',
  type: 'object',
  required: ['schema', 'modelsealVersion', 'date', 'durationSeconds', 'partial', 'settings', 'machine', 'backends', 'model', 'ceilings', 'runs', 'peers', 'ratios', 'micro', 'breakdown', 'failures', 'notes'],
  properties: {
    schema: { const: BENCH_SCHEMA, description: 'Format identifier and major version.' },
    modelsealVersion: str,
    date: { type: 'string', description: 'ISO 8601 start time.' },
    durationSeconds: num,
    partial: { type: 'boolean', description: 'True when the run was interrupted: present figures are real, the rest never ran.' },
    settings: obj(['algorithms', 'methods', 'backends', 'workers', 'runs', 'shardSize', 'quick'], {
      algorithms: list(ALGORITHMS),
      methods: list(METHODS),
      backends: list(BACKENDS),
      workers: list({ type: 'integer', minimum: 1 }),
      runs: { type: 'integer', minimum: 1 },
      shardSize: { type: 'integer', minimum: 1 },
      quick: { type: 'boolean' },
      slowBackendBytes: { type: 'integer', minimum: 1 },
      peers: { type: 'boolean' },
      micro: { type: 'boolean' },
      processRuns: { type: 'boolean' },
    }),
    machine: obj(['cpuModel', 'cpuFlags', 'cores', 'memoryBytes', 'os', 'kernel', 'node', 'loadStart', 'gpu'], {
      cpuModel: str,
      cpuFlags: strs,
      cores: { type: 'integer', minimum: 1 },
      memoryBytes: num,
      os: str,
      kernel: str,
      node: str,
      loadStart: nums,
      loadEnd: nums,
      hostname: str,
      gpuReason: str,
      gpu: {
        description: 'The WebGPU adapter, or null. `software` marks a CPU implementation (lavapipe): correctness only.',
        oneOf: [
          { type: 'null' },
          obj(['adapter', 'software'], { adapter: str, vendor: str, architecture: str, device: str, description: str, software: { type: 'boolean' }, maxBufferSize: num, maxStorageBufferBindingSize: num }),
        ],
      },
    }),
    backends: list(obj(['name', 'ok'], { name: str, ok: { type: 'boolean' }, reason: str, capabilities: { type: 'object' } })),
    model: obj(['path', 'generated', 'files', 'bytes'], { path: str, generated: { type: 'boolean' }, files: { type: 'integer', minimum: 0 }, bytes: { type: 'integer', minimum: 0 } }),
    ceilings: list(obj(['id', 'label', 'bytes', 'samples', 'bytesPerSecond'], {
      id: { enum: ['page-cache-read', 'memcpy', 'gpu-upload', 'gpu-resident-sha256', 'gpu-resident-blake3'] },
      label: str,
      bytes: num,
      samples: nums,
      bytesPerSecond: numOrNull,
      software: { type: 'boolean' },
    })),
    runs: list(obj(['id', 'group', 'algorithm', 'method', 'backend', 'workers', 'timing', 'bytes', 'subset', 'status', 'seconds', 'samples', 'bytesPerSecond', 'digestCheck'], {
      id: str,
      group: str,
      algorithm: ALGORITHMS,
      method: METHODS,
      shardSize: { type: 'integer', minimum: 1 },
      backend: BACKENDS,
      kernel: str,
      workers: { type: 'integer', minimum: 0 },
      timing: { enum: ['in-process', 'process'] },
      bytes: { type: 'integer', minimum: 0 },
      files: { type: 'integer', minimum: 0 },
      subset: { type: 'boolean' },
      status: STATUS,
      error: str,
      seconds: nums,
      samples: nums,
      bytesPerSecond: { ...numOrNull, description: 'Median of samples; null for a failed run (a disagreeing backend is never a figure).' },
      spread: numOrNull,
      cpuUserSeconds: nums,
      cpuSystemSeconds: nums,
      rootDigest: str,
      digestCheck: CHECK,
      backendBytes: { type: 'object', additionalProperties: num },
    })),
    peers: obj(['found', 'missing', 'runs'], {
      found: list(obj(['name', 'path', 'version'], { name: str, path: str, version: str })),
      missing: strs,
      runs: list(obj(['id', 'group', 'peer', 'command', 'algorithm', 'method', 'threads', 'source', 'bytes', 'status', 'seconds', 'samples', 'bytesPerSecond', 'digestCheck'], {
        id: str,
        group: str,
        peer: str,
        command: str,
        algorithm: ALGORITHMS,
        method: METHODS,
        threads: { type: 'integer', minimum: 0 },
        source: { enum: ['file', 'memory'] },
        bytes: { type: 'integer', minimum: 0 },
        status: STATUS,
        error: str,
        seconds: nums,
        samples: nums,
        bytesPerSecond: numOrNull,
        digestCheck: CHECK,
      })),
    }),
    ratios: list(obj(['run', 'to', 'kind', 'ratio', 'paired'], { run: str, to: str, kind: { enum: ['peer', 'ceiling', 'workers'] }, ratio: numOrNull, paired: { type: 'boolean' } })),
    micro: list(obj(['backend', 'algorithm', 'kernel', 'bytes', 'bytesPerSecond'], { backend: BACKENDS, algorithm: ALGORITHMS, kernel: str, bytes: { type: 'integer', minimum: 1 }, bytesPerSecond: numOrNull, samples: { type: 'integer', minimum: 0 }, rme: numOrNull })),
    breakdown: list(obj(['run', 'startupSeconds', 'ioSeconds', 'uploadSeconds', 'hashSeconds', 'totalSeconds'], { run: str, startupSeconds: num, ioSeconds: num, uploadSeconds: num, hashSeconds: num, totalSeconds: num })),
    failures: list(obj(['kind', 'what', 'message'], { kind: { enum: ['digest', 'run', 'peer', 'ceiling'] }, what: str, message: str })),
    notes: strs,
  },
} as const;

let validator: ReturnType<AjvClass['compile']> | undefined;

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
}

/**
 * Checks a parsed bench.json against the schema and returns it typed; throws InputError
 * BENCH_REPORT_INVALID naming the first problems (and `source`, e.g. the file name).
 */
export function validateBenchReport(value: unknown, source = 'the report'): BenchReport {
  if (!validator) {
    // ajv loads on first use (synchronously, it is CommonJS): only `bench --compare` and tests need it
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: true, strict: false }).compile(BENCH_JSON_SCHEMA);
  }
  if (!validator(value)) {
    throw new InputError('BENCH_REPORT_INVALID', `${source} is not a modelseal bench report (${BENCH_SCHEMA}): ${describe(validator.errors)}. Give a bench.json written by \`modelseal bench\`.`);
  }
  return value as BenchReport;
}
