/**
 * The worker pool: the one owner of CPU concurrency. Worker threads call the backends synchronously.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Piscina } from 'piscina';
import { ModelsealError, reviveError } from '../errors.js';
import type { WorkerReply, WorkerTask } from './worker.js';

/**
 * The compiled worker. Under the test runner this module is loaded from src/*.ts, where workers
 * cannot load TypeScript: use the build in dist/ (`npm test` compiles first).
 */
function workerUrl(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const built = here.replace(/[\\/]src[\\/]engine[\\/]pool\.ts$/, '/dist/engine/worker.js');
    if (!existsSync(built)) throw new ModelsealError('NOT_BUILT', `the worker ${built} is missing; run \`npm run build:ts\` first.`, { kind: 'internal' });
    return pathToFileURL(built).href;
  }
  return new URL('./worker.js', import.meta.url).href;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * piscina, loaded once on the first pool: a command that never hashes (verify of a bundle alone,
 * inspect, doctor) does not pay its ~40 ms import at start-up.
 */
let piscinaClass: Promise<typeof Piscina> | undefined;

export class HashPool {
  private readonly piscina: Promise<Piscina>;
  readonly workers: number;

  constructor(workers: number) {
    this.workers = workers;
    this.piscina = (piscinaClass ??= import('piscina').then((m) => m.Piscina)).then(
      (PiscinaClass) =>
        new PiscinaClass({
          filename: workerUrl(),
          minThreads: workers,
          maxThreads: workers,
          // one task per worker in flight plus one queued keeps every core busy without memory growth
          concurrentTasksPerWorker: 1,
          idleTimeout: 1000,
        }),
    );
    // a failed load surfaces from run() or close(); this keeps it from being reported as unhandled first
    this.piscina.catch(() => undefined);
  }

  async run(task: WorkerTask, signal?: AbortSignal): Promise<Uint8Array[]> {
    const reply = (await (await this.piscina).run(task, signal ? { signal } : {})) as WorkerReply;
    if ('error' in reply) {
      throw reviveError(reply.error);
    }
    return reply.digests;
  }

  /** `run` for a task that also asks for Merkle leaf hashes (WorkerTask.merkle). */
  async runWithLeaves(task: WorkerTask, signal?: AbortSignal): Promise<{ digests: Uint8Array[]; leafHashes?: Uint8Array }> {
    const reply = (await (await this.piscina).run(task, signal ? { signal } : {})) as WorkerReply;
    if ('error' in reply) throw reviveError(reply.error);
    return reply;
  }

  /** Runs a named export of the worker module (e.g. `hashUnit`) on the pool. */
  async runNamed<T>(name: string, task: unknown, transferList?: ArrayBuffer[]): Promise<T> {
    return (await (await this.piscina).run(task, { name, ...(transferList ? { transferList } : {}) })) as T;
  }

  async close(): Promise<void> {
    await (await this.piscina).destroy();
  }
}
