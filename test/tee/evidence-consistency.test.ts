/**
 * Issue 11 items 17–21 on the real vectors in ../shared/vectors/tee (TDISP has no public capture, so
 * its case uses the simulated platform and says so): trailing bytes treated alike for every evidence
 * kind; TDX collateral for another FMSPC is a failure unless signature-only checks are asked for;
 * Azure HCL runtime data bound to REPORT_DATA with the unchecked vTPM quote named in the verdict;
 * `attest verify --rims` and the NVIDIA headline; TDX quote wrappers; NVIDIA parse errors exit 2.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../cli-in-process.js';
import { describeVectors, tempDir, VECTORS_DIR, whenVectors } from '../helpers.js';
import { inspectEvidence, verifyEvidence } from '../../src/attest/index.js';
import { verifyNvidiaEvidence } from '../../src/attest/nvidia/index.js';
import { createSimulatedPlatform } from '../../src/attest/simulated/index.js';
import { TDX_QUOTE_WRAPPER_MAX_BYTES } from '../../src/attest/core/input.js';

const TEE = join(VECTORS_DIR, 'tee');
const NV = join(TEE, 'nvidia');
const SNP = join(TEE, 'snp');
const TDX = join(TEE, 'tdx');
const run = (...args: string[]) => runCliInProcess(args);
const read = (p: string) => new Uint8Array(readFileSync(p));
const withZero = (b: Uint8Array, n = 1) => new Uint8Array([...b, ...new Uint8Array(n)]);

const HOPPER = whenVectors(() => new Uint8Array(Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_report.hex'), 'utf8').trim(), 'hex')), new Uint8Array());
const HOPPER_NONCE = '931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb';
const HOPPER_AT = '2025-01-15';
const RIM_AT = '2024-06-01'; // inside the RIM signer certificates' validity (they expired 2025-06)
const VBIOS_RIM = join(NV, 'rims', '1010_0200_882_96005E0001_PROD.swidtag');
const DRIVER_RIM = join(NV, 'rims', 'Driver_RIM_test_no_gpu.swidtag');

let tmp: { path: string; cleanup: () => void };
const file = (name: string, data: Uint8Array | string): string => {
  const p = join(tmp.path, name);
  writeFileSync(p, data);
  return p;
};
beforeAll(() => {
  tmp = tempDir('modelseal-evidence-');
});
afterAll(() => tmp.cleanup());

type Json = Record<string, unknown> & { code?: string; warnings: string[]; trailingBytes?: number; claims: Record<string, unknown>; message: string };
const json = (out: string) => JSON.parse(out) as Json;

describeVectors('item 17: trailing bytes are treated alike for every evidence kind', () => {
  it('a real H100 report with one trailing zero byte verifies (exit 0) and inspects (exit 0), both saying 1 byte was ignored', async () => {
    const f = file('hopper+1.bin', withZero(HOPPER));
    const v = await run('attest', 'verify', f, '--certs', join(NV, 'nvtrust_hopper_cert_chain.pem'), '--at', HOPPER_AT, '--nonce', HOPPER_NONCE);
    expect(v.code, v.err).toBe(0);
    expect(v.err).toMatch(/warning: 1 byte after the end of the NVIDIA SPDM report \(by its own length fields\), all zero, were ignored/);
    const vj = await run('attest', 'verify', f, '--certs', join(NV, 'nvtrust_hopper_cert_chain.pem'), '--at', HOPPER_AT, '--json');
    expect(vj.code).toBe(0);
    expect(json(vj.out)).toMatchObject({ verified: true, trailingBytes: 1 });
    const i = await run('attest', 'inspect', f);
    expect(i.code, i.err).toBe(0);
    expect(i.out).toContain('trailingBytes: 1');
    expect(i.err).toMatch(/warning: 1 byte after the end of the NVIDIA SPDM report/);
    const ij = await run('attest', 'inspect', f, '--json');
    expect(json(ij.out)).toMatchObject({ format: 'nvidia-spdm', trailingBytes: 1 });
  });

  it('a real SEV-SNP report with one trailing zero byte verifies with the same warning (it was refused)', async () => {
    const f = file('snp+1.bin', withZero(read(join(SNP, 'gsg_milan_v2_attestation.bin'))));
    const r = await run('attest', 'verify', f, '--certs', join(SNP, 'gsg_milan_vcek.der'), '--at', '2024-01-01', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const j = json(r.out);
    expect(j.trailingBytes).toBe(1);
    expect(j.warnings).toContain('1 byte after the end of the SEV-SNP report (by its own length fields), all zero, were ignored: no signature covers them.');
    const i = json((await run('attest', 'inspect', f, '--json')).out);
    expect(i).toMatchObject({ kind: 'sev-snp', trailingBytes: 1 });
  });

  it('a real TDX quote with 39 non-zero trailing bytes: the same sentence and count in the verdict', async () => {
    const r = await run('attest', 'verify', join(TDX, 'gtg_quote_v4_spr_e4.dat'), '--at', '2024-06-01', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const j = json(r.out);
    expect(j.trailingBytes).toBe(39);
    expect(j.warnings).toContain('39 bytes after the end of the TDX quote (by its own length fields) were ignored: no signature covers them.');
  });

  it('a real NVIDIA PPCIe JSON entry whose report has a trailing byte verifies, the device warning counts it', async () => {
    const list = JSON.parse(readFileSync(join(NV, 'nvtrust_ppcie_8xh100_gpu_evidence.json'), 'utf8')) as Record<string, string>[];
    const one = list[0]!;
    const padded = { ...one, evidence: Buffer.from(withZero(new Uint8Array(Buffer.from(one.evidence!, 'base64')), 2)).toString('base64') };
    const v = await verifyEvidence(new Uint8Array(Buffer.from(JSON.stringify([padded]))), { at: new Date(HOPPER_AT) });
    expect(v.code).toBeUndefined();
    expect(v.verified).toBe(true);
    expect(v.claims.trailingBytes).toBe(2);
    expect(v.warnings.join(' ')).toMatch(/2 bytes after the end of the SPDM report/);
  });

  it('a real Azure HCL report: parsed by its own lengths, its 254 zero bytes of padding counted', async () => {
    const i = await inspectEvidence(read(join(SNP, 'trustee_azure_milan_hcl_report.bin')));
    expect(i.unwrapped).toBe('azure-hcl');
    expect(i.trailingBytes).toBe(254);
    expect(i.warnings).toContain('254 bytes after the end of the Azure HCL report (by its own length fields), all zero, were ignored: no signature covers them.');
  });
});

describe('item 17: TDISP (no public capture exists: SIMULATED platform evidence)', () => {
  it('simulated TDISP evidence with a trailing zero byte verifies with the warning (it was TDISP_MALFORMED)', async () => {
    const p = await createSimulatedPlatform();
    const nonce = new Uint8Array(32).fill(7);
    const e = p.tdispReport(nonce);
    const v = await verifyEvidence(withZero(e.evidence), { allowSimulated: true, certs: e.certs, expectedNonce: nonce });
    expect(v.code).toBeUndefined();
    expect([v.verified, v.simulated, v.trailingBytes]).toEqual([true, true, 1]);
    expect(v.warnings).toContain('1 byte after the end of the TDISP evidence (by its own length fields), all zero, were ignored: no signature covers them.');
    // Unreadable TDISP evidence is an InputError (exit 2), as for every other kind (item 21's rule).
    await expect(verifyEvidence(e.evidence.subarray(0, 30), { allowSimulated: true, certs: e.certs })).rejects.toMatchObject({ code: 'EVIDENCE_TRUNCATED' });
  }, 30_000);
});

describeVectors('item 18: TDX collateral for another FMSPC', () => {
  const dir = () => {
    const d = join(tmp.path, 'other-fmspc');
    mkdirSync(d, { recursive: true });
    for (const f of ['gtg_tcbinfo_tdx_90c06f000000_2026-02.json', 'gtg_tcb_signing_chain.pem']) copyFileSync(join(TDX, 'collateral', f), join(d, f));
    return d;
  };
  it('is a failure (TDX_COLLATERAL_FMSPC_MISMATCH, exit 1), not exit 0 with tcbStatus null', async () => {
    const r = await run('attest', 'verify', join(TDX, 'gtg_gcp_cos113_quote_v4_padded8000.dat'), '--collateral', dir(), '--at', '2025-01-01', '--json');
    expect(r.code, r.out + r.err).toBe(1);
    const j = json(r.out);
    expect(j).toMatchObject({ verified: false, code: 'TDX_COLLATERAL_FMSPC_MISMATCH' });
    expect(j.message).toMatch(/FMSPC\/PCE ID 90c06f000000\/0000, not for this quote's 00806f050000\/0000.*--signature-only/);
  });
  it('with --signature-only it verifies the signatures and chains and warns that TCB status was not checked', async () => {
    const r = await run('attest', 'verify', join(TDX, 'gtg_gcp_cos113_quote_v4_padded8000.dat'), '--collateral', dir(), '--at', '2025-01-01', '--signature-only');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^VERIFIED: TDX quote v4/);
    expect(r.out).not.toMatch(/tcbStatus/);
    expect(r.err).toMatch(/warning: The TDX TCB Info in .* is for FMSPC\/PCE ID 90c06f000000\/0000, not this quote's 00806f050000\/0000: TCB status was not checked \(signature-only checks were asked for\)/);
  });
});

describeVectors('item 19: Azure HCL runtime data', () => {
  const snpHcl = () => read(join(SNP, 'trustee_azure_milan_hcl_report.bin'));
  /** Changes one character inside the runtime JSON (the "user-data" value), keeping its length. */
  const tamper = (b: Uint8Array): Uint8Array => {
    const out = b.slice();
    const i = Buffer.from(out).indexOf('"user-data":"') + '"user-data":"'.length;
    out[i] = out[i] === 0x30 ? 0x31 : 0x30;
    return out;
  };

  it('SEV-SNP: the verdict says the runtime data is bound by SHA-256 and that the vTPM quote was NOT checked', async () => {
    const r = await run('attest', 'verify', join(SNP, 'trustee_azure_milan_hcl_report.bin'), '--certs', join(SNP, 'trustee_azure_milan_vcek_ask_ark.pem'), '--at', '2024-01-01', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const j = json(r.out);
    expect(j.message).toMatch(/Azure HCL runtime data \(vTPM keys, VM configuration\) bound: SHA-256\(runtime data\) = REPORT_DATA\[0:32\]; NOT checked: the vTPM quote \(TPM2_Quote over the PCRs, signed by HCLAkPub\) and the PCR values/);
    const azure = j.claims.azure as Record<string, unknown>;
    expect(azure).toMatchObject({ runtimeDataBound: true, hashAlgorithm: 'sha256' });
    expect(String(azure.runtimeDataHash).startsWith('b3fbad65')).toBe(true);
    expect((azure.runtimeData as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toContain('HCLAkPub');
  });

  it('SEV-SNP: runtime data changed after the report was taken → AZURE_RUNTIME_DATA_MISMATCH, exit 1 (it verified)', async () => {
    const f = file('azure-snp-tampered.bin', tamper(snpHcl()));
    const r = await run('attest', 'verify', f, '--certs', join(SNP, 'trustee_azure_milan_vcek_ask_ark.pem'), '--at', '2024-01-01', '--json');
    expect(r.code).toBe(1);
    expect(json(r.out)).toMatchObject({ verified: false, code: 'AZURE_RUNTIME_DATA_MISMATCH' });
  });

  it('TDX: the TDREPORT is not remotely verifiable, but its REPORT_DATA binding of the runtime data is checked either way', async () => {
    const hcl = read(join(TDX, 'trustee_azure_tdx_hcl_report.bin'));
    const ok = await verifyEvidence(hcl);
    expect(ok.code).toBe('TDX_TDREPORT_NOT_VERIFIABLE');
    expect((ok.claims.azure as Record<string, unknown>).runtimeDataBound).toBe(true);
    expect(ok.message).toMatch(/NOT checked: the vTPM quote/);
    const bad = await verifyEvidence(tamper(hcl));
    expect([bad.verified, bad.code]).toEqual([false, 'AZURE_RUNTIME_DATA_MISMATCH']);
    const i = await inspectEvidence(tamper(hcl));
    expect((i.fields.azure as Record<string, unknown>).runtimeDataBound).toBe(false);
  });
});

describeVectors('item 20: NVIDIA RIMs from the CLI and the headline verdict', () => {
  const chain = () => join(NV, 'nvtrust_hopper_cert_chain.pem');
  const hopperFile = () => join(NV, 'nvtrust_hopper_report.hex');

  it('without RIMs the headline says "genuine GPU, fresh nonce, firmware not checked"', async () => {
    const r = await run('attest', 'verify', hopperFile(), '--certs', chain(), '--at', HOPPER_AT, '--nonce', HOPPER_NONCE);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^VERIFIED: NVIDIA gpu report verified: genuine GPU, fresh nonce, firmware not checked \(no RIMs given\)/);
  });

  it('--rims with only a VBIOS RIM → NV_RIM_INCOMPLETE (driver and VBIOS are both needed), exit 1', async () => {
    const r = await run('attest', 'verify', hopperFile(), '--certs', chain(), '--at', RIM_AT, '--rims', VBIOS_RIM, '--json');
    expect(r.code, r.out + r.err).toBe(1);
    const j = json(r.out);
    expect(j.code).toBe('NV_RIM_INCOMPLETE');
    expect(j.message).toMatch(/no driver RIM among the 1 given \(versions 96\.00\.5E\.00\.01\)/);
  });

  it('--rims DRIVER VBIOS: both signed RIMs read and checked; these are for other versions → NV_RIM_VERSION_MISMATCH, exit 1', async () => {
    const r = await run('attest', 'verify', hopperFile(), '--certs', chain(), '--at', RIM_AT, '--rims', DRIVER_RIM, VBIOS_RIM, '--json');
    expect(r.code, r.out + r.err).toBe(1);
    expect(json(r.out).code).toBe('NV_RIM_VERSION_MISMATCH');
  });

  it('--rims files go through the input reader: a device is refused (exit 2), a broken RIM signature is exit 1', async () => {
    const dev = await run('attest', 'verify', hopperFile(), '--certs', chain(), '--at', RIM_AT, '--rims', '/dev/zero');
    expect(dev.code).toBe(2);
    expect(dev.err).toMatch(/INPUT_NOT_REGULAR/);
    const bad = Buffer.from(readFileSync(VBIOS_RIM));
    bad[bad.indexOf('index="5"') + 7] = '6'.charCodeAt(0);
    const r = await run('attest', 'verify', hopperFile(), '--certs', chain(), '--at', RIM_AT, '--rims', DRIVER_RIM, file('bad.swidtag', bad), '--json');
    expect([r.code, json(r.out).code]).toEqual([1, 'NV_RIM_SIGNATURE']);
  });

  it('inspect shows the 64 measurement values (equal to trustee\'s expected claims), human and --json', async () => {
    const expected = JSON.parse(readFileSync(join(NV, 'trustee_hopper_report_expected_claims.json'), 'utf8')) as { measurements: Record<string, string> };
    const j = json((await run('attest', 'inspect', hopperFile(), '--json')).out);
    const entry = (j.fields as { entries: { measurements: Record<string, string>; opaqueFields: Record<string, unknown> }[] }).entries[0]!;
    expect(entry.measurements).toEqual(expected.measurements);
    expect(entry.opaqueFields.vbios_version).toBe('96.00.9f.00.01');
    const h = await run('attest', 'inspect', hopperFile());
    expect(h.out).toContain(`entries.0.measurements.1: ${expected.measurements['1']}`);
  });
});

describe('item 20: a full firmware verdict (SIMULATED driver and VBIOS RIMs: no public RIM matches a public report)', () => {
  it('both RIMs → "firmware matches the signed RIMs"; either alone → NV_RIM_INCOMPLETE', async () => {
    const p = await createSimulatedPlatform();
    const nonce = new Uint8Array(32).fill(3);
    const e = p.nvidiaReport(nonce);
    const [driver, vbios] = p.nvidiaRims();
    const v = await verifyNvidiaEvidence(e.evidence, { allowSimulated: true, expectedNonce: nonce, rims: [driver!, vbios!] });
    expect(v.verified).toBe(true);
    expect(v.message).toBe('NVIDIA gpu report verified: SIMULATED GPU (not real hardware), fresh nonce, firmware matches the signed RIMs (40 measurements compared)');
    for (const one of [driver!, vbios!]) {
      const r = await verifyNvidiaEvidence(e.evidence, { allowSimulated: true, expectedNonce: nonce, rims: [one] });
      expect([r.verified, r.code]).toEqual([false, 'NV_RIM_INCOMPLETE']);
    }
  }, 30_000);
});

describeVectors('item 21: TDX quote wrappers, NVIDIA parse errors exit 2', () => {
  const quote = () => read(join(TDX, 'gtg_quote_v4_spr_e4.dat'));
  const b64 = () => Buffer.from(quote()).toString('base64');

  it('a "Quote: <base64>" text file verifies like the binary quote', async () => {
    const f = file('quote.txt', `Quote: ${b64()}\n`);
    const r = await run('attest', 'verify', f, '--at', '2024-06-01', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(json(r.out)).toMatchObject({ kind: 'tdx', verified: true, trailingBytes: 39 });
    const i = json((await run('attest', 'inspect', f, '--json')).out);
    expect(i).toMatchObject({ format: 'tdx-quote', envelope: 'tdx-quote-text', encoding: 'base64' });
    // Line-wrapped base64 (as `base64` prints it) is the same quote.
    const wrapped = file('quote-wrapped.txt', `Quote:\n${b64().replace(/.{76}/g, '$&\n')}\n`);
    expect((await run('attest', 'verify', wrapped, '--at', '2024-06-01')).code).toBe(0);
  });

  it('a {"tdx":{"quote":"<base64>"}} JSON file verifies like the binary quote', async () => {
    const f = file('quote.json', JSON.stringify({ tdx: { quote: b64() } }));
    const r = await run('attest', 'verify', f, '--at', '2024-06-01', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(json(r.out)).toMatchObject({ kind: 'tdx', verified: true });
    const i = json((await run('attest', 'inspect', f, '--json')).out);
    expect(i).toMatchObject({ format: 'tdx-quote', envelope: 'tdx-quote-json' });
  });

  it('bad or oversized base64 in either wrapper is exit 2 with a code (strict decoder, bounded)', async () => {
    const s = b64();
    const nonCanonical = s.endsWith('==') ? `${s.slice(0, -3)}${s.at(-3) === 'A' ? 'B' : 'A'}==` : `${s.slice(0, -1)}!`;
    for (const [name, text, code] of [
      ['bad-char.txt', `Quote: ${s.slice(0, 100)}!${s.slice(101)}`, 'EVIDENCE_ENCODING'],
      ['bad-json.json', JSON.stringify({ tdx: { quote: `${s}$` } }), 'EVIDENCE_ENCODING'],
      ['noncanon.txt', `Quote: ${nonCanonical}`, 'EVIDENCE_ENCODING'],
      ['not-string.json', JSON.stringify({ tdx: { quote: 5 } }), 'EVIDENCE_ENCODING'],
      ['huge.txt', `Quote: ${'A'.repeat(Math.ceil(TDX_QUOTE_WRAPPER_MAX_BYTES / 3) * 4 + 4)}`, 'EVIDENCE_MALFORMED'],
    ] as const) {
      const r = await run('attest', 'verify', file(name, text));
      expect(r.code, name).toBe(2);
      expect(r.err, name).toContain(code);
      expect(r.err, name).not.toMatch(/\n\s+at /);
    }
  });

  it('an unreadable NVIDIA report is exit 2 from verify as from inspect (it was exit 1 from verify)', async () => {
    const f = file('hopper-truncated.bin', HOPPER.subarray(0, HOPPER.length - 10));
    for (const cmd of ['verify', 'inspect']) {
      const r = await run('attest', cmd, f);
      expect(r.code, cmd).toBe(2);
      expect(r.err, cmd).toMatch(/EVIDENCE_TRUNCATED/);
    }
    const badJson = file('nv-bad.json', JSON.stringify([{ arch: 'HOPPER', evidence: '!!', certificate: '' }]));
    const r = await run('attest', 'verify', badJson);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/NV_MALFORMED_REPORT/);
  });
});
