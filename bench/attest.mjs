#!/usr/bin/env node
// Attestation verification time per evidence kind: SEV-SNP (report + VCEK/VLEK → ASK → ARK), TDX
// (quote → QE report → PCK chain, without and with collateral / TCB status) and NVIDIA (SPDM report
// → 5-certificate chain), on the real public vectors, offline, at a pinned time. Prints the median
// of N runs in milliseconds (and min / p90), one line per case, and the machine it ran on.
//
//   node bench/attest.mjs [--runs 50] [--warmup 5] [--json OUT] [--dist DIR]
//
// Needs `npm run build` (imports dist/) and the vectors (MODELSEAL_VECTORS or ../shared/vectors).
// Each run is one full `verifyEvidence` call: input decoding, parsing, every signature and chain
// check (certificates are parsed each time; nothing is cached across runs except the built-in roots).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ROOT as root, flag, median, opt } from './lib.mjs';

const RUNS = Number(opt('runs', '50'));
const WARMUP = Number(opt('warmup', '5'));
const jsonOut = opt('json', undefined);
const dist = resolve(opt('dist', join(root, 'dist')));
const V = process.env.MODELSEAL_VECTORS ?? resolve(root, '..', 'shared', 'vectors');
const T = join(V, 'tee');

if (!existsSync(join(dist, 'attest', 'index.js'))) {
  console.error(`no build at ${dist}/attest/index.js: run \`npm run build\` first`);
  process.exit(2);
}
if (!existsSync(T)) {
  console.error(`no vectors at ${T}: set MODELSEAL_VECTORS`);
  process.exit(2);
}
const { verifyEvidence } = await import(pathToFileURL(join(dist, 'attest', 'index.js')).href);
const rd = (p) => new Uint8Array(readFileSync(join(T, p)));

const cases = [
  { kind: 'sev-snp', name: 'Milan v2, VCEK', bytes: rd('snp/gsg_milan_v2_attestation.bin'), options: { certs: [rd('snp/gsg_milan_vcek.der')], at: new Date('2024-01-01') } },
  { kind: 'sev-snp', name: 'Milan v5 (GCP), VCEK PEM', bytes: rd('snp/teekit_gcp_milan_v5_report.bin'), options: { certs: [rd('snp/teekit_gcp_milan_vcek.pem')], at: new Date('2026-01-01') } },
  { kind: 'sev-snp', name: 'Milan v3, VLEK', bytes: rd('snp/trustee_milan_v3_vlek_report.bin'), options: { certs: [rd('snp/trustee_milan_vlek_aws.der')], at: new Date('2025-06-01') } },
  { kind: 'sev-snp', name: 'Genoa v3, serde JSON envelope', bytes: rd('snp/trustee_genoa_v3_e2e_evidence.json'), options: { at: new Date('2025-06-01') } },
  { kind: 'tdx', name: 'quote v4, no collateral', bytes: rd('tdx/trustee_azure_quote_v4.bin'), options: { at: new Date('2024-06-01') } },
  { kind: 'tdx', name: 'quote v5 (TDX 1.5), no collateral', bytes: rd('tdx/gtg_quote_v5_tdx15.dat'), options: { at: new Date('2026-02-10') } },
  {
    kind: 'tdx',
    name: 'quote v5 + collateral dir (TCB status)',
    bytes: rd('tdx/gtg_quote_v5_tdx15.dat'),
    options: { at: new Date('2026-02-10'), collateralDir: join(T, 'tdx', 'collateral'), collateralAt: new Date('2025-01-01') },
  },
];

// NVIDIA: only when the NVIDIA verifier is in this build (it is another module).
let nvidiaNote;
try {
  const nv = await import(pathToFileURL(join(dist, 'attest', 'nvidia', 'index.js')).href);
  if (typeof nv.verifyNvidiaEvidence !== 'function') throw new Error('verifyNvidiaEvidence missing');
  cases.push({ kind: 'nvidia-gpu', name: 'H100 SPDM report + 5-cert chain', bytes: rd('nvidia/nvtrust_hopper_report.hex'), options: { certs: [rd('nvidia/nvtrust_hopper_cert_chain.pem')], at: new Date('2025-01-01') } });
  cases.push({ kind: 'nvidia-gpu', name: 'PPCIe 8×H100 JSON', bytes: rd('nvidia/nvtrust_ppcie_8xh100_gpu_evidence.json'), options: { at: new Date('2025-01-01') } });
} catch (e) {
  nvidiaNote = `NVIDIA skipped: verifier not available in this build (${e.message})`;
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
console.log(`# modelseal attest verification — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`);
console.log(`# runs ${RUNS} (after ${WARMUP} warm-up), one verifyEvidence call each; times in ms`);
if (nvidiaNote) console.log(`# ${nvidiaNote}`);
const results = [];
for (const c of cases) {
  const first = await verifyEvidence(c.bytes, c.options);
  if (!first.verified) {
    console.log(`${c.kind.padEnd(10)} ${c.name.padEnd(42)} NOT VERIFIED (${first.code}): ${first.message}`);
    results.push({ kind: c.kind, name: c.name, verified: false, code: first.code });
    continue;
  }
  for (let i = 0; i < WARMUP; i++) await verifyEvidence(c.bytes, c.options);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await verifyEvidence(c.bytes, c.options);
    times.push(performance.now() - t0);
  }
  const r = { kind: c.kind, name: c.name, verified: true, runs: RUNS, medianMs: pct(times, 50), minMs: Math.min(...times), p90Ms: pct(times, 90) };
  results.push(r);
  console.log(`${c.kind.padEnd(10)} ${c.name.padEnd(42)} median ${r.medianMs.toFixed(2).padStart(7)}  min ${r.minMs.toFixed(2).padStart(7)}  p90 ${r.p90Ms.toFixed(2).padStart(7)}`);
}
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, runs: RUNS, nvidiaNote, results }, null, 2) + '\n');
  console.log(`# written ${jsonOut}`);
}
