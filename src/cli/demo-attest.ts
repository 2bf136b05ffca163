/**
 * The attestation part of `modelseal demo` (npm start): attests the demo bundle's signature on the
 * SIMULATED platform (GPU report, TDISP report, then an SEV-SNP report binding them and the signature),
 * verifies the binding with the real verifiers, validates a demo policy, shows that a wrong model root
 * is refused, and makes and checks a verification receipt. Everything printed says SIMULATED: this
 * machine has no TEE, and simulated evidence proves nothing about hardware.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { attestBundle, createReceipt, createSimulatedPlatform, readBundleFile, validatePolicy, verifyAttestation, verifyReceipt, type Policy } from '../index.js';

function say(line = ''): void {
  process.stdout.write(line + '\n');
}

const short = (hex: string, n = 16): string => `${hex.slice(0, n)}…`;

/**
 * Runs the demo's attestation step and prints it; returns true when every check came out as expected.
 * Writes `<bundle>.att` (replacing the previous demo run's).
 */
export async function runAttestDemo(modelDir: string, bundlePath: string, keyPath: string): Promise<boolean> {
  const bundle = readBundleFile(bundlePath);
  const statement = JSON.parse(bundle.payload.toString('utf8')) as { subject: Array<{ name: string; digest: { sha256: string } }> };
  const root = statement.subject[0]!.digest.sha256;
  // The demo's own key, written unencrypted by the demo a moment ago.
  const privateKey = createPrivateKey(readFileSync(keyPath));
  const publicKey = createPublicKey(privateKey);

  const t0 = performance.now();
  const platform = await createSimulatedPlatform();
  say(`   SIMULATED platform created (fresh SIMULATED AMD / Intel / NVIDIA / TDISP roots) in ${(performance.now() - t0).toFixed(0)} ms`);
  const source = platform.evidenceSource({ cpu: 'sev-snp', gpu: true, tdisp: true });

  const t1 = performance.now();
  // The demo owns <bundle>.att (it rewrites its own bundle each run); elsewhere --force is required.
  const att = await attestBundle(bundlePath, { privateKey, source, force: true });
  const attPath = att.path!;
  const p = att.attestation.statement.predicate;
  say(`   binding digest  ${short(p.bindingDigest, 32)} = SHA-512(label ‖ root ‖ statements ‖ signer key ‖ nonce)`);
  say(`   GPU nonce       ${short(p.gpuNonce, 32)} (taken first)`);
  say(`   REPORT_DATA     ${short(p.reportData, 32)} (SEV-SNP report taken last, covers the GPU and TDISP evidence)`);
  say(`   wrote ${attPath} (${p.evidence.map((e) => `${e.kind}${e.simulated ? ' [SIMULATED]' : ''}`).join(', ')}) in ${(performance.now() - t1).toFixed(0)} ms`);

  const t2 = performance.now();
  const v = await verifyAttestation(readFileSync(attPath), { rootDigest: root, statements: [bundle.payload], signerPublicKey: publicKey, allowSimulated: true });
  const ms = (performance.now() - t2).toFixed(0);
  say(`== 6. attestation verified: ${v.ok ? 'OK' : `FAILED [${v.code}] ${v.message}`}${v.simulated ? ' — SIMULATED evidence, accepted only because the demo passes allowSimulated' : ''} (${ms} ms)`);
  for (const e of v.evidence) {
    say(`   ${e.verdict.verified ? 'ok ' : 'BAD'} ${e.kind.padEnd(10)} ${e.bound ? 'bound' : 'NOT BOUND'}${e.simulated ? ' [SIMULATED]' : ''}  chain: ${e.verdict.chain.join(' <- ') || '(none)'}`);
  }

  const policy: Policy = {
    version: 1,
    description: 'demo: SIMULATED evidence only',
    allowSimulated: true,
    maxEvidenceAgeSeconds: 600,
    requireKinds: ['nvidia-gpu', 'tdisp'],
    snp: { measurements: [platform.measurements.snp], vmpls: [0] },
    nvidia: { requireCcMode: true, driverVersions: [platform.measurements.gpuDriver] },
    tdisp: { requireRun: true },
  };
  const pol = validatePolicy(v.verdicts, policy);
  say(`== 7. policy: ${pol.ok ? 'satisfied' : `REFUSED [${pol.code}]`} (${pol.rules.length} rule checks: ${[...new Set(pol.rules.map((r) => r.rule))].join(', ')})`);
  const shown = new Set<string>();
  for (const r of pol.rules.filter((x) => !x.ok || x.rule === 'POLICY_SIMULATED')) {
    const line = `   ${r.ok ? 'pass' : 'FAIL'} ${r.rule}: ${r.reason}`;
    if (!shown.has(line)) say(line);
    shown.add(line);
  }
  const prod = validatePolicy(v.verdicts, { version: 1 });
  say(`   the same evidence under a production policy: ${prod.ok ? 'accepted (unexpected!)' : `refused [${prod.code}]`}`);

  const wrongRoot = (root[0] === '0' ? '1' : '0') + root.slice(1);
  const neg = await verifyAttestation(readFileSync(attPath), { rootDigest: wrongRoot, statements: [bundle.payload], signerPublicKey: publicKey, allowSimulated: true });
  say(`   checked against another model root: ${neg.ok ? 'accepted (unexpected!)' : `refused [${neg.code}]`}`);

  const nonce = new Uint8Array(randomBytes(32));
  const receipt = await createReceipt({ rootDigest: root, verifyResult: { verified: true, scope: 'model', model: modelDir }, nonce, platform: platform.evidenceSource({ cpu: 'sev-snp', gpu: false }) });
  const rv = await verifyReceipt(receipt.bytes, { nonce, allowSimulated: true, expectedRootDigest: root });
  const rvWrong = await verifyReceipt(receipt.bytes, { nonce: new Uint8Array(randomBytes(32)), allowSimulated: true });
  say(`== 8. verification receipt (fresh SIMULATED SEV-SNP report binding root, result, nonce and key): ${rv.ok ? 'verified' : `FAILED [${rv.code}]`}; with another nonce: ${rvWrong.ok ? 'accepted (unexpected!)' : `refused [${rvWrong.code}]`}`);
  say('   (all evidence above is SIMULATED: it shows the formats and checks, and proves nothing about real hardware)');
  return v.ok && pol.ok && !prod.ok && !neg.ok && rv.ok && !rvWrong.ok;
}
