import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeVectors, VECTORS_DIR } from '../helpers.js';
import {
  NVIDIA_CORIM_ROOT_CA_PEM,
  NVIDIA_CORIM_ROOT_CA_SHA256,
  NVIDIA_DEVICE_IDENTITY_CA_PEM,
  NVIDIA_DEVICE_IDENTITY_CA_SHA256,
  leafFwid,
  parseNvidiaEvidence,
  verifyNvidiaEvidence,
} from '../../src/attest/nvidia/index.js';
import { pemCertificates } from '../../src/crypto/pem.js';
import { InputError } from '../../src/errors.js';

const NV = join(VECTORS_DIR, 'tee', 'nvidia');
const read = (f: string): Uint8Array => new Uint8Array(readFileSync(join(NV, f)));
const AT = new Date('2025-01-15T00:00:00Z');
const HOPPER_NONCE = Buffer.from('931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb', 'hex');
const PPCIE_NONCE = Buffer.from('4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e', 'hex');
const hopperReport = (): Uint8Array => read('nvtrust_hopper_report.hex');
const hopperChain = (): Uint8Array => read('nvtrust_hopper_cert_chain.pem');

describeVectors('pinned NVIDIA roots', () => {
  const fp = (pem: string): string => createHash('sha256').update(pemCertificates(pem)[0]!).digest('hex');
  it('device root equals the vector copy and its fingerprint', () => {
    const vec = pemCertificates(readFileSync(join(NV, 'roots', 'nvidia_device_identity_ca.pem'), 'utf8'))[0]!;
    expect(fp(NVIDIA_DEVICE_IDENTITY_CA_PEM)).toBe(createHash('sha256').update(vec).digest('hex'));
    expect(fp(NVIDIA_DEVICE_IDENTITY_CA_PEM)).toBe(NVIDIA_DEVICE_IDENTITY_CA_SHA256);
  });
  it('CoRIM root equals the vector copy and its fingerprint', () => {
    const vec = pemCertificates(readFileSync(join(NV, 'roots', 'nvidia_corim_signing_root_ca.pem'), 'utf8'))[0]!;
    expect(fp(NVIDIA_CORIM_ROOT_CA_PEM)).toBe(createHash('sha256').update(vec).digest('hex'));
    expect(fp(NVIDIA_CORIM_ROOT_CA_PEM)).toBe(NVIDIA_CORIM_ROOT_CA_SHA256);
  });
});

describeVectors('H100 report (nvtrust sample)', () => {
  it('parses to the claims trustee expects for the same report', () => {
    const ev = parseNvidiaEvidence(hopperReport());
    expect(ev.format).toBe('spdm');
    const r = ev.entries[0]!.report;
    expect(r.version).toBe(0x11);
    expect(r.response.blocks.length).toBe(64);
    expect(Buffer.from(r.request.nonce!).equals(HOPPER_NONCE)).toBe(true);
    const expected = JSON.parse(readFileSync(join(NV, 'trustee_hopper_report_expected_claims.json'), 'utf8')) as {
      config: Record<string, unknown>;
      measurements: Record<string, string>;
    };
    const mine: Record<string, string> = {};
    for (const b of r.response.blocks) mine[String(b.index)] = Buffer.from(b.value).toString('hex');
    expect(mine).toEqual(expected.measurements);
    return verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: AT }).then((v) => {
      const o = v.claims.opaque as Record<string, unknown>;
      for (const k of ['board_id', 'chip_sku', 'chip_sku_mod', 'cpr_info', 'driver_version', 'fwid', 'gpu_info', 'measurement_count', 'nvdec0_status', 'project', 'project_sku', 'project_sku_mod', 'protected_pcie_status', 'vbios_version']) {
        expect(o[k], k).toEqual(expected.config[k]);
      }
    });
  });

  it('verifies: signature, 5-certificate chain to the pinned root, nonce, FWID', async () => {
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: AT, expectedNonce: HOPPER_NONCE });
    expect(v.message).toBe('NVIDIA gpu report verified: genuine GPU, fresh nonce, firmware not checked (no RIMs given)');
    expect(v.verified).toBe(true);
    expect(v.simulated).toBe(false);
    expect(v.chain).toEqual(['GH100 A01 GSP FMC LF', 'GH100 A01 GSP BROM', 'NVIDIA GH100 Provisioner ICA 1', 'NVIDIA GH100 Identity', 'NVIDIA Device Identity CA']);
    expect(v.claims.platform).toBe('nvidia-gpu');
    expect(v.claims.driverVersion).toBe('550.90.07');
    expect(v.claims.vbiosVersion).toBe('96.00.9f.00.01');
    expect(v.claims.fwidBound).toBe(true);
    expect(v.claims.nonce).toBe(HOPPER_NONCE.toString('hex'));
    expect(v.claims.ccMode).toBe(null);
  });

  it('accepts the same report as binary and base64', async () => {
    const bin = Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_report.hex'), 'utf8').trim(), 'hex');
    for (const input of [new Uint8Array(bin), new Uint8Array(Buffer.from(bin.toString('base64')))]) {
      const v = await verifyNvidiaEvidence(input, { certs: [hopperChain()], at: AT, expectedNonce: HOPPER_NONCE });
      expect(v.verified).toBe(true);
    }
  });

  it('extracts the leaf FWID from the TCG DICE extension', () => {
    const leaf = pemCertificates(readFileSync(join(NV, 'trustee_hopper_leaf_cert.pem'), 'utf8'))[0]!;
    expect(Buffer.from(leafFwid(leaf)!).toString('hex')).toBe('f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d');
  });

  it('refuses a wrong expected nonce with NV_NONCE_MISMATCH', async () => {
    const wrong = Buffer.from(HOPPER_NONCE);
    wrong[0]! ^= 1;
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: AT, expectedNonce: wrong });
    expect([v.verified, v.code]).toEqual([false, 'NV_NONCE_MISMATCH']);
  });

  it('refuses without a chain (NV_CHAIN_MISSING)', async () => {
    const v = await verifyNvidiaEvidence(hopperReport(), { at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_CHAIN_MISSING']);
  });

  it('refuses before the chain was valid (time is an input)', async () => {
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: new Date('2019-01-01T00:00:00Z') });
    expect([v.verified, v.code]).toEqual([false, 'NV_CERT_EXPIRED']);
  });

  it('negative chains fail with specific codes', async () => {
    const cases: [string, string][] = [
      ['negative/trustee_hopper_chain_root_only.pem', 'NV_CHAIN_INCOMPLETE'],
      ['negative/trustee_hopper_chain_missing_provisioner_ica.pem', 'NV_CHAIN_BROKEN'],
      ['negative/trustee_hopper_chain_missing_leaf.pem', 'NV_BAD_SIGNATURE'],
    ];
    for (const [f, code] of cases) {
      const v = await verifyNvidiaEvidence(hopperReport(), { certs: [read(f)], at: AT });
      expect([f, v.verified, v.code]).toEqual([f, false, code]);
    }
  });

  it('refuses a chain whose root is not the pinned NVIDIA root (NV_UNTRUSTED_ROOT)', async () => {
    const certs = pemCertificates(readFileSync(join(NV, 'nvtrust_hopper_cert_chain.pem'), 'utf8'));
    // Drop the last two: the chain then ends in the Provisioner ICA, not signed by a pinned root.
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: certs.slice(0, 3), at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_UNTRUSTED_ROOT']);
    // Only the root dropped: the Identity CA is issued by the pinned root, which is appended.
    const v2 = await verifyNvidiaEvidence(hopperReport(), { certs: certs.slice(0, 4), at: AT });
    expect(v2.verified).toBe(true);
  });

  it('single-byte flips anywhere in the signed range (and the signature) fail', async () => {
    const bin = new Uint8Array(Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_report.hex'), 'utf8').trim(), 'hex'));
    const chain = pemCertificates(readFileSync(join(NV, 'nvtrust_hopper_cert_chain.pem'), 'utf8'));
    // Every byte outside the 3520-byte measurement record (request, headers, nonce, opaque data,
    // signature), and every 16th byte inside it: each flip re-verifies the chain, so this keeps the
    // test to seconds on a 2-core machine.
    const recordStart = 37 + 8;
    const recordEnd = recordStart + 3520;
    const failures = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < bin.length; i++) {
      if (i >= recordStart && i < recordEnd && (i - recordStart) % 16 !== 0) continue;
      const m = bin.slice();
      m[i]! ^= 1 << (i % 8);
      // A flip in a length field makes the report unreadable: an InputError (exit 2), not a verdict.
      const v = await verifyNvidiaEvidence(m, { certs: chain, at: AT }).catch((e: unknown) => {
        if (e instanceof InputError) return { verified: false, code: e.code };
        throw e;
      });
      expect(v.verified, `flip at ${i}`).toBe(false);
      failures.set(v.code!, (failures.get(v.code!) ?? 0) + 1);
      n++;
    }
    expect(n).toBeGreaterThan(700);
    expect(failures.get('NV_BAD_SIGNATURE')).toBeGreaterThan(600);
  }, 240_000);
});

describeVectors('PPCIe evidence JSON (nvtrust)', () => {
  it('all 8 H100 reports verify with their chains and the nonce', async () => {
    const v = await verifyNvidiaEvidence(read('nvtrust_ppcie_8xh100_gpu_evidence.json'), { at: AT, expectedNonce: PPCIE_NONCE });
    expect(v.message).toBe('8 NVIDIA device reports verified: genuine GPUs, fresh nonce, firmware not checked (no RIMs given)');
    expect(v.verified).toBe(true);
    expect(v.claims.deviceCount).toBe(8);
    expect(v.claims.driverVersion).toBe('590.12');
    expect(String(v.claims.vbiosVersion).toLowerCase()).toBe('96.00.a5.00.01');
  });

  it('all 4 NVSwitch reports verify', async () => {
    const v = await verifyNvidiaEvidence(read('nvtrust_ppcie_4xnvswitch_evidence.json'), { at: AT, expectedNonce: PPCIE_NONCE });
    expect(v.verified).toBe(true);
    const devs = v.claims.devices as Record<string, unknown>[];
    expect(devs.every((d) => d.device === 'nvswitch')).toBe(true);
    expect(v.chain[0]).toBe('LS_10 A01 FSP FMC LF');
  });

  it('a tampered entry makes the whole set fail and names the device', async () => {
    const j = JSON.parse(readFileSync(join(NV, 'nvtrust_ppcie_8xh100_gpu_evidence.json'), 'utf8')) as { evidence: string }[];
    const b = Buffer.from(j[5]!.evidence, 'base64');
    b[100]! ^= 0x80;
    j[5]!.evidence = b.toString('base64');
    const v = await verifyNvidiaEvidence(new Uint8Array(Buffer.from(JSON.stringify(j))), { at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_BAD_SIGNATURE']);
    expect(v.message).toMatch(/^device 5 of 8/);
  });

  it('a swapped chain (another GPU\'s) fails the signature', async () => {
    const j = JSON.parse(readFileSync(join(NV, 'nvtrust_ppcie_8xh100_gpu_evidence.json'), 'utf8')) as { certificate: string }[];
    j[0]!.certificate = j[1]!.certificate;
    const v = await verifyNvidiaEvidence(new Uint8Array(Buffer.from(JSON.stringify([j[0]]))), { at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_BAD_SIGNATURE']);
  });

  it('an envelope tagged simulated is treated as simulated even with a real chain', async () => {
    const env = {
      arch: 'HOPPER',
      evidence: Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_report.hex'), 'utf8').trim(), 'hex').toString('base64'),
      certificate: Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_cert_chain.pem'))).toString('base64'),
      simulated: true,
    };
    const bytes = new Uint8Array(Buffer.from(JSON.stringify(env)));
    const v = await verifyNvidiaEvidence(bytes, { at: AT });
    expect([v.verified, v.simulated, v.code]).toEqual([false, true, 'EVIDENCE_SIMULATED']);
    const v2 = await verifyNvidiaEvidence(bytes, { at: AT, allowSimulated: true });
    expect([v2.verified, v2.simulated]).toEqual([true, true]);
  });
});

describeVectors('RIMs with a report', () => {
  it('a correctly signed RIM for another VBIOS version is refused (NV_RIM_VERSION_MISMATCH)', async () => {
    // Driver and VBIOS RIM both given (one alone is NV_RIM_INCOMPLETE), neither for this report's versions.
    const rims = [read('rims/Driver_RIM_test_no_gpu.swidtag'), read('rims/1010_0200_882_96005E0001_PROD.swidtag')];
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: new Date('2024-06-01T00:00:00Z'), rims });
    expect([v.verified, v.code]).toEqual([false, 'NV_RIM_VERSION_MISMATCH']);
  });
  it('a RIM with a broken signature is refused (NV_RIM_SIGNATURE)', async () => {
    const rim = Buffer.from(read('rims/1010_0200_882_96005E0001_PROD.swidtag'));
    const i = rim.indexOf('index="5"');
    rim[i + 7] = '6'.charCodeAt(0);
    const v = await verifyNvidiaEvidence(hopperReport(), { certs: [hopperChain()], at: new Date('2024-06-01T00:00:00Z'), rims: [new Uint8Array(rim)] });
    expect([v.verified, v.code]).toEqual([false, 'NV_RIM_SIGNATURE']);
  });
});
