/**
 * The terminal contract: --json on every error path (parser errors, SIGINT), -v, `hash --output` /
 * `hash --check` plain manifest files, the wrong-password hint. The SIGINT case runs the built CLI
 * (dist/) in a child process; it asserts what is printed and how the process ends, never a timing.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootDigestOf } from '../../src/manifest/oms.js';
import { formatSumsFile, parseSumsFile } from '../../src/manifest/sums.js';
import { runCliInProcess as cli } from '../cli-in-process.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

let t: ReturnType<typeof tempDir>;
let model: string;

beforeAll(() => {
  t = tempDir('modelseal-terminal-');
  model = join(t.path, 'model');
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(join(model, 'weights.bin'), Buffer.alloc(40_000, 1));
  writeFileSync(join(model, 'sub', 'name with spaces.txt'), 'x\n');
  writeFileSync(join(model, 'config.json'), '{}\n');
});

afterAll(() => t?.cleanup());

describe('--json on every error path', () => {
  it('a commander parse error answers one JSON error object on stdout, exit 2', async () => {
    const r = await cli(['hash', model, '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ ok: false, error: { code: 'USAGE', kind: 'usage', message: "unknown option '--bogus'", parser: 'commander.unknownOption' } });
    expect(r.err).toContain("unknown option '--bogus'");
  });

  it('without --json a parse error stays a plain line on stderr and nothing on stdout', async () => {
    const r = await cli(['hash', model, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  it('a missing argument and an unknown command under --json', async () => {
    let r = await cli(['verify', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.parser).toBe('commander.missingArgument');
    r = await cli(['frobnicate', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).ok).toBe(false);
  });

  it('-v and --version print the version, exit 0', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['-v', '--version']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${pkg.version}\n`);
    }
  });

  it('the wrong-password error names MODELSEAL_KEY_PASSWORD', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = join(t.path, 'enc.pem');
    writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' }));
    const r = await cli(['sign', model, '--key', key, '--password', 'wrong', '-o', join(t.path, 'x.sig'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ code: 'KEY_PASSWORD' });
    expect(JSON.parse(r.out).error.message).toContain('MODELSEAL_KEY_PASSWORD');
  });
});

describe('hash --output / hash --check (plain manifest files)', () => {
  it('round trip: OK lines and exit 0; a changed, a missing and an unlisted file each FAIL with exit 1', async () => {
    const sums = join(t.path, 'model.sums');
    let r = await cli(['hash', model, '-o', sums, '--workers', '1', '-q']);
    expect(r.code).toBe(0);
    const text = readFileSync(sums, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# modelseal-sums 1 method=files hash=sha256 /);
    expect(text).toContain('  sub/name with spaces.txt\n');

    r = await cli(['hash', '--check', sums, '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('config.json: OK\nsub/name with spaces.txt: OK\nweights.bin: OK\n');

    const copy = join(t.path, 'copy');
    const { cpSync, rmSync } = await import('node:fs');
    cpSync(model, copy, { recursive: true });
    appendFileSync(join(copy, 'weights.bin'), 'x');
    rmSync(join(copy, 'config.json'));
    writeFileSync(join(copy, 'new.bin'), 'new');
    r = await cli(['hash', '-c', sums, copy, '--workers', '1', '-q']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('weights.bin: FAILED\nconfig.json: FAILED (missing)\nnew.bin: FAILED (not in the manifest file)\n');
    expect(r.err).toContain('3 of 4 resources did NOT match');

    r = await cli(['hash', '--check', sums, copy, '--workers', '1', '--json']);
    const result = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ type: 'result', ok: false, missing: ['config.json'], extra: ['new.bin'] });
  });

  it('shard and hash settings travel in the file; serialization flags with --check are refused', async () => {
    const sums = join(t.path, 'shards.sums');
    let r = await cli(['hash', model, '--method', 'shards', '--shard-size', '4096', '--hash', 'blake2b', '-o', sums, '--workers', '1', '-q']);
    expect(r.code).toBe(0);
    expect(readFileSync(sums, 'utf8').split('\n')[0]).toContain('method=shards hash=blake2b shard-size=4096');
    r = await cli(['hash', '--check', sums, '--workers', '1', '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const b3 = join(t.path, 'b3.sums');
    await cli(['hash', model, '--hash', 'blake3', '-o', b3, '--workers', '1', '-q']);
    r = await cli(['hash', '--check', b3, '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('weights.bin: OK');
    r = await cli(['hash', '--check', sums, '--hash', 'sha256', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('USAGE');
  });

  it('an edited or foreign file is refused (exit 2, SUMS_INVALID), naming the line', async () => {
    const sums = join(t.path, 'edit.sums');
    await cli(['hash', model, '-o', sums, '--workers', '1', '-q']);
    const lines = readFileSync(sums, 'utf8').split('\n');
    lines[1] = lines[1]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(sums, lines.join('\n'));
    let r = await cli(['hash', '--check', sums, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('SUMS_INVALID');
    writeFileSync(sums, 'abc  file\n');
    r = await cli(['hash', '--check', sums]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('not a modelseal manifest file');
  });

  it('names with a newline or a backslash round-trip through the GNU escape', () => {
    const resources = [
      { name: 'a\\b', algorithm: 'sha256', digest: '11'.repeat(32) },
      { name: 'line\nbreak', algorithm: 'sha256', digest: '22'.repeat(32) },
    ];
    const manifest = { modelName: 'm', serialization: { method: 'files' as const, hashType: 'sha256' as const, allowSymlinks: false, ignorePaths: ['.git', 'a,b'] }, resources, rootDigest: rootDigestOf(resources) };
    const text = formatSumsFile(manifest, 'm');
    expect(text).toContain('\\' + '11'.repeat(32) + '  a\\\\b\n');
    const back = parseSumsFile(text);
    expect(back.resources).toEqual(resources);
    expect(back.serialization.ignorePaths).toEqual(['.git', 'a,b']);
  });
});

describe('Ctrl-C', () => {
  const bin = join(REPO_ROOT, 'bin', 'modelseal.js');
  it.skipIf(!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')))('SIGINT mid-hash: a JSON error on stdout, "interrupted" on stderr, and the process ends by SIGINT (status 130 in a shell)', async () => {
    const big = join(t.path, 'big');
    mkdirSync(big);
    // large enough that hashing is still running when the signal comes, on any machine
    writeFileSync(join(big, 'w.bin'), Buffer.alloc(256 * 2 ** 20, 5));
    const child = spawn(process.execPath, [bin, 'hash', big, '--json', '--workers', '1', '--backend', 'js'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // the first progress event says hashing has started: interrupt it
      if (out.includes('"type":"progress"') && !child.killed) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('exit', (c, s) => res([c, s])));
    expect(signal).toBe('SIGINT');
    expect(code).toBeNull();
    const last = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(last).toEqual({ ok: false, error: { code: 'INTERRUPTED', kind: 'interrupted', message: 'interrupted (SIGINT); nothing was written.' } });
    expect(err).toContain('modelseal: interrupted');
  }, 60_000);
});
