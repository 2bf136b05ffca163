/**
 * `modelseal demo` (what `npm start` runs): generates a sample multi-file model, hashes it with the
 * best backend, prints the manifest and throughput; then signs it with a freshly generated key and
 * verifies it, and attests the signature on the SIMULATED platform, where those parts are built.
 */
import type { Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSampleModel, hashModel, signModel, verifyModel } from '../../index.js';
import { formatBytes, parseSize } from '../args.js';
import { runAction } from '../output.js';

interface DemoFlags {
  dir?: string;
  size: string;
  keep?: boolean;
}

const ATTEST_DEMO_MODULE = '../demo-attest.js';

function say(line = ''): void {
  process.stdout.write(line + '\n');
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a sample model, hash it (manifest + throughput), sign and verify it, attest on the simulated platform')
    .option('--dir <dir>', 'where to create the sample model (default: a temporary directory)')
    .option('--size <bytes>', 'total size of the weight shards', '192MiB')
    .option('--keep', 'keep the generated files')
    .action(async (flags: DemoFlags) => {
      const ctx = { json: false, quiet: false };
      await runAction(ctx, async () => {
        const base = resolve(flags.dir ?? join(tmpdir(), `modelseal-demo-${process.pid}`));
        if (existsSync(join(base, 'sample-model'))) rmSync(join(base, 'sample-model'), { recursive: true, force: true });
        mkdirSync(base, { recursive: true });
        const modelDir = join(base, 'sample-model');
        const size = parseSize(flags.size, '--size');
        try {
          const total = createSampleModel(modelDir, { shards: 2, shardBytes: Math.ceil(size / 2) });
          say(`== 1. generated a sample model: ${modelDir} (${formatBytes(total)})`);
          const res = await hashModel(modelDir, {});
          const m = res.manifest;
          say(`== 2. hashed it (OMS manifest, ${m.serialization.method}/${m.serialization.hashType})`);
          for (const r of m.resources) say(`   ${r.digest}  ${r.name}`);
          say(`   root digest ${m.rootDigest}`);
          say(`   ${formatBytes(res.bytes)} in ${res.seconds.toFixed(3)} s = ${(res.bytes / 1e9 / res.seconds).toFixed(2)} GB/s, backend=${res.backend}, workers=${res.workers}`);

          const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
          const keyPath = join(base, 'demo-key.pem');
          const pubPath = join(base, 'demo-key.pub.pem');
          writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
          writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
          const bundlePath = join(base, 'sample-model.sig');
          rmSync(bundlePath, { force: true });
          const signed = await signModel(modelDir, { privateKey: keyPath, output: bundlePath, force: true });
          say(`== 3. signed with a fresh P-256 key: ${bundlePath} (root ${signed.rootDigest})`);
          const v = await verifyModel(modelDir, bundlePath, { publicKey: pubPath });
          say(`== 4. verified: ${v.verified ? 'OK' : 'FAILED'}, ${v.summary} (scope ${v.scope}, root ${v.rootDigest}, ${(v.hashing.bytes / 1e9 / v.hashing.seconds).toFixed(2)} GB/s)`);
          if (!v.verified) return 1;

          let attest: { runAttestDemo?: (modelDir: string, bundlePath: string, keyPath: string) => Promise<boolean> } = {};
          try {
            attest = (await import(ATTEST_DEMO_MODULE)) as typeof attest;
          } catch {
            /* attestation not built in this version */
          }
          if (!attest.runAttestDemo) {
            say('== 5. attestation: not available in this build');
            return 0;
          }
          say('== 5. attestation on the SIMULATED platform (no real TEE here: evidence is signed by generated SIMULATED roots)');
          const ok = await attest.runAttestDemo(modelDir, bundlePath, keyPath);
          return ok ? 0 : 1;
        } finally {
          if (!flags.keep && !flags.dir) rmSync(base, { recursive: true, force: true });
        }
      });
    });
}
