/**
 * Progress reporting: a bar on stderr when it is a TTY (and the run lasts long enough to matter),
 * NDJSON progress events on stdout with --json, nothing otherwise.
 */
import type cliProgressTypes from 'cli-progress';
import { createRequire } from 'node:module';
import type { ProgressEvent } from '../index.js';
import { writeEvent } from './output.js';

export interface ProgressSink {
  update(e: ProgressEvent): void;
  stop(): void;
}

const JSON_EVENT_INTERVAL_MS = 250;

/** cli-progress is loaded only when a bar is drawn: importing it costs ~20-35 ms of start-up here. */
function loadCliProgress(): typeof cliProgressTypes {
  return createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
}
const BAR_DELAY_MS = 500;

export function createProgress(opts: { json: boolean; quiet: boolean; progress: boolean }): ProgressSink {
  if (opts.json) {
    let last = 0;
    return {
      update(e) {
        const now = Date.now();
        if (e.phase === 'hash' && now - last < JSON_EVENT_INTERVAL_MS && e.bytesDone < e.bytesTotal) return;
        last = now;
        writeEvent({ type: 'progress', ...e });
      },
      stop() {},
    };
  }
  if (opts.quiet || !opts.progress || !process.stderr.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: cliProgressTypes.SingleBar | undefined;
  return {
    update(e) {
      if (!bar) {
        if (Date.now() - started < BAR_DELAY_MS || e.phase !== 'hash') return;
        const cliProgress = loadCliProgress();
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: 'hashing [{bar}] {percentage}% | {value}/{total} MiB | {speed} GB/s | eta {eta}s', hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.ceil(e.bytesTotal / 2 ** 20), 0, { speed: '0.00' });
      }
      const secs = (Date.now() - started) / 1000;
      bar.update(Math.floor(e.bytesDone / 2 ** 20), { speed: (e.bytesDone / 1e9 / Math.max(secs, 1e-3)).toFixed(2) });
    },
    stop() {
      bar?.stop();
    },
  };
}

/**
 * Runs `task` with a progress sink from {@link createProgress}, handing it the `onProgress` callback
 * to pass to the library, and stops the sink (clearing a bar) however `task` ends.
 */
export async function withProgress<T>(opts: { json: boolean; quiet: boolean; progress: boolean }, task: (onProgress: (e: ProgressEvent) => void) => Promise<T>): Promise<T> {
  const progress = createProgress(opts);
  try {
    return await task((e) => progress.update(e));
  } finally {
    progress.stop();
  }
}
