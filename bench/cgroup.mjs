/**
 * Runs one command under a memory limit of its own: a fresh cgroup (v1 memory controller, or v2
 * with the memory controller enabled) holding only that process and its threads, so the pressure
 * falls on the process under test and never on the rest of the machine. Used by bench/pressure.mjs
 * and test/pressure/. Needs write access to the cgroup file system (root, or a delegated subtree).
 *
 * cgroup v1 charges page cache to the cgroup that first read a page, so a limit here also bounds the
 * cache the run builds up: the pressure that evicts mapped windows and readahead.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

function read(path) {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * Where a memory-limited cgroup can be made here: `{ ok: true, version, root }`, or `{ ok: false,
 * reason }` saying why not (one line, for a skip message).
 */
export function cgroupSupport() {
  if (process.platform !== 'linux') return { ok: false, reason: `cgroups are Linux-only (this is ${process.platform})` };
  const canWrite = (dir) => {
    try {
      accessSync(dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(join(V1_ROOT, 'memory.limit_in_bytes')) || existsSync(join(V1_ROOT, 'cgroup.procs'))) {
    if (canWrite(V1_ROOT)) return { ok: true, version: 1, root: V1_ROOT };
    return { ok: false, reason: `${V1_ROOT} (cgroup v1 memory controller) is not writable: run as root or delegate a subtree` };
  }
  for (const root of V2_ROOTS) {
    const ctl = read(join(root, 'cgroup.subtree_control'));
    if (ctl === undefined) continue;
    if (!ctl.split(/\s+/).includes('memory')) continue;
    if (canWrite(root)) return { ok: true, version: 2, root };
    return { ok: false, reason: `${root} (cgroup v2) is not writable: run as root or delegate a subtree` };
  }
  return { ok: false, reason: 'no cgroup memory controller is mounted (neither v1 /sys/fs/cgroup/memory nor v2 with +memory in cgroup.subtree_control)' };
}

let seq = 0;

/**
 * Runs `argv` in a new cgroup limited to `limitBytes` and removes the cgroup afterwards.
 * Resolves `{ status, signal, stdout, stderr, wallMs, peakBytes, oomKills }` (peakBytes: the
 * cgroup's peak charge where the kernel reports it; oomKills: OOM kills inside the cgroup).
 */
export async function runLimited({ limitBytes, argv, env = process.env, cwd = process.cwd(), timeoutMs = 600_000 }) {
  const s = cgroupSupport();
  if (!s.ok) throw new Error(s.reason);
  const dir = join(s.root, `modelseal-pressure-${process.pid}-${seq++}`);
  mkdirSync(dir);
  try {
    if (s.version === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    } else {
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      try {
        writeFileSync(join(dir, 'memory.swap.max'), '0');
      } catch {
        // no swap accounting: nothing to turn off
      }
    }
    const procs = join(dir, 'cgroup.procs');
    const t0 = performance.now();
    // the shell moves itself into the cgroup, then becomes the command: nothing else is charged there
    const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, ...argv], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [status, signal] = await new Promise((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
    clearTimeout(timer);
    const wallMs = performance.now() - t0;
    const peak = Number((read(join(dir, s.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak')) ?? '').trim());
    const events = read(join(dir, s.version === 1 ? 'memory.oom_control' : 'memory.events')) ?? '';
    const oom = /^oom_kill\s+(\d+)/m.exec(events);
    return { status, signal, stdout, stderr, wallMs, peakBytes: Number.isFinite(peak) && peak > 0 ? peak : undefined, oomKills: oom ? Number(oom[1]) : undefined };
  } finally {
    // the cgroup is empty once the child exited; its remaining page-cache charges move to the parent
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/**
 * Drops a file of our own from the page cache (fsync, then GNU dd's `iflag=nocache count=0`:
 * posix_fadvise DONTNEED over the whole file), so that a run reads it from storage. Returns false
 * where dd cannot.
 */
export async function dropFromCache(path) {
  // dirty pages cannot be dropped: write them back first
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return new Promise((resolve) => {
    const p = spawn('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('close', (code) => resolve(code === 0));
  });
}
