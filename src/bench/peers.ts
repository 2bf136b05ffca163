/**
 * Peers: other tools that compute the same digests, found on PATH and run in the same rounds as
 * modelseal so that their ratios are paired. Missing peers are listed, never invented.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HashAlgorithm } from '../backends/types.js';
import type { SerializationMethod } from '../manifest/types.js';
import type { PeerInfo } from './types.js';

/** The peers looked for, in report order. */
export const PEER_NAMES = ['openssl', 'sha256sum', 'b3sum', 'b2sum', 'model_signing'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** A peer's output is small (one line per file); anything bigger is not what we asked for. */
const MAX_PEER_OUTPUT_BYTES = 16 * 2 ** 20;
/** Beyond this many files the argument list gets too long for one command line: peers are skipped. */
export const MAX_PEER_FILES = 4096;

/** The first regular, executable file called `name` on PATH, or null. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function versionOf(path: string, name: PeerName): string {
  const args = name === 'openssl' ? ['version'] : ['--version'];
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 10_000, maxBuffer: 1 << 20 });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? '';
  return line.trim().slice(0, 200) || 'unknown';
}

/** The peers present on PATH (with their version lines) and the names not found. */
export function findPeers(path = process.env.PATH ?? ''): { found: PeerInfo[]; missing: string[] } {
  const found: PeerInfo[] = [];
  const missing: string[] = [];
  for (const name of PEER_NAMES) {
    const p = findOnPath(name, path);
    if (p) found.push({ name, path: p, version: versionOf(p, name) });
    else missing.push(name);
  }
  return { found, missing };
}

/** One peer command of a group, and how to read its digests. */
export interface PeerCommand {
  id: string;
  peer: PeerName;
  algorithm: HashAlgorithm;
  method: SerializationMethod;
  threads: number;
  source: 'file' | 'memory';
  command: string;
  args: string[];
  /** Per-file digests from stdout (absolute path → hex), the root digest, or a rate (openssl speed). */
  parse: 'sum' | 'openssl-dgst' | 'openssl-speed' | 'root';
}

/**
 * The peer commands that compute what a group computes: whole-file digests (sha256sum, openssl dgst,
 * b3sum at each thread count, b2sum), the model's root digest (model_signing), and for SHA-256 the
 * single-thread in-memory OpenSSL kernel (`openssl speed -evp sha256`, 16 MiB blocks).
 */
export function peerCommands(
  found: readonly PeerInfo[],
  group: { algorithm: HashAlgorithm; method: SerializationMethod; files: readonly string[]; model: string; threads: readonly number[]; speedSeconds: number },
): PeerCommand[] {
  const at = (n: PeerName) => found.find((p) => p.name === n)?.path;
  const out: PeerCommand[] = [];
  const { algorithm, method, files } = group;
  const base = { algorithm, method };
  const fileArgs = files.length <= MAX_PEER_FILES ? [...files] : null;
  if (method === 'files' && fileArgs) {
    if (algorithm === 'sha256') {
      const s = at('sha256sum');
      if (s) out.push({ ...base, id: 'sha256sum', peer: 'sha256sum', threads: 1, source: 'file', command: s, args: ['--', ...fileArgs], parse: 'sum' });
      const o = at('openssl');
      if (o) out.push({ ...base, id: 'openssl-dgst', peer: 'openssl', threads: 1, source: 'file', command: o, args: ['dgst', '-sha256', '-r', ...fileArgs], parse: 'openssl-dgst' });
      const m = at('model_signing');
      if (m) out.push({ ...base, id: 'model_signing-digest', peer: 'model_signing', threads: 0, source: 'file', command: m, args: ['digest', group.model], parse: 'root' });
    }
    if (algorithm === 'blake3') {
      const b = at('b3sum');
      if (b) for (const t of group.threads) out.push({ ...base, id: `b3sum-t${t}`, peer: 'b3sum', threads: t, source: 'file', command: b, args: ['--num-threads', String(t), '--', ...fileArgs], parse: 'sum' });
    }
    if (algorithm === 'blake2b') {
      const b = at('b2sum');
      if (b) out.push({ ...base, id: 'b2sum', peer: 'b2sum', threads: 1, source: 'file', command: b, args: ['--', ...fileArgs], parse: 'sum' });
    }
  }
  if (algorithm === 'sha256') {
    const o = at('openssl');
    if (o) {
      out.push({ ...base, id: 'openssl-speed', peer: 'openssl', threads: 1, source: 'memory', command: o, args: ['speed', '-evp', 'sha256', '-bytes', '16777216', '-seconds', String(group.speedSeconds)], parse: 'openssl-speed' });
    }
  }
  return out;
}

/** The outcome of one peer sample. */
export interface PeerSample {
  seconds: number;
  /** For 'openssl-speed': bytes per second as the tool reports it. */
  rate?: number;
  digests?: Map<string, string>;
  root?: string;
}

/** `hex  path` lines (coreutils, b3sum) or `hex *path` (openssl dgst -r); escaped names are skipped. */
export function parseSumOutput(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const r = /^([0-9a-f]{32,128}) [ *](.+)$/.exec(line);
    if (r) m.set(r[2]!, r[1]!);
  }
  return m;
}

/** The rate of `openssl speed -evp sha256 -bytes N`: the last column, in 1000s of bytes per second. */
export function parseOpensslSpeed(stdout: string): number | undefined {
  const line = stdout.split('\n').find((l) => /^\s*sha256\s/i.test(l));
  const last = line?.trim().split(/\s+/).pop();
  const kbs = last ? Number(last.replace(/k$/, '')) : Number.NaN;
  return Number.isFinite(kbs) && kbs > 0 ? kbs * 1000 : undefined;
}

/** Runs one peer command once; rejects on a non-zero exit, a signal, or the abort signal. */
export function runPeer(cmd: PeerCommand, signal?: AbortSignal): Promise<PeerSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes <= MAX_PEER_OUTPUT_BYTES) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) {
        reject(new Error(`${cmd.peer} exited with ${code ?? sig}: ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      const stdout = Buffer.concat(out).toString('utf8');
      if (cmd.parse === 'openssl-speed') {
        const rate = parseOpensslSpeed(stdout);
        if (rate === undefined) reject(new Error('could not read the rate from `openssl speed`'));
        else resolve({ seconds, rate });
      } else if (cmd.parse === 'root') {
        const root = /\b([0-9a-f]{64})\b/.exec(stdout)?.[1];
        resolve(root ? { seconds, root } : { seconds });
      } else {
        resolve({ seconds, digests: parseSumOutput(stdout) });
      }
    });
  });
}
