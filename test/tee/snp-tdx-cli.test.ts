/** `modelseal attest inspect|verify|collect` for SEV-SNP and TDX: output and exit codes (0 / 1 / 2). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCliInProcess } from '../cli-in-process.js';
import { itVectors, tempDir, VECTORS_DIR } from '../helpers.js';

const SNP = join(VECTORS_DIR, 'tee', 'snp');
const TDX = join(VECTORS_DIR, 'tee', 'tdx');

const run = (...args: string[]) => runCliInProcess(args);

afterEach(() => vi.restoreAllMocks());

describe('modelseal attest (SEV-SNP / TDX)', () => {
  itVectors('verify: SNP report + VCEK at a pinned time → exit 0', async () => {
    const r = await run('attest', 'verify', join(SNP, 'gsg_milan_v2_attestation.bin'), '--certs', join(SNP, 'gsg_milan_vcek.der'), '--at', '2024-01-01');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VERIFIED: SEV-SNP report v2 \(Milan\)/);
    expect(r.out).toContain('chain: SEV-VCEK <- SEV-Milan <- ARK-Milan');
  });

  itVectors('verify --json: refused evidence → exit 1 with the code', async () => {
    const r = await run('attest', 'verify', join(SNP, 'gsg_milan_v2_attestation.bin'), '--certs', join(SNP, 'virtee_milan_vcek.der'), '--at', '2024-01-01', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { ok: boolean; verified: boolean; code: string };
    expect(j).toMatchObject({ ok: false, verified: false, code: 'SNP_BAD_SIGNATURE' });
  });

  itVectors('verify: TDX quote with collateral → TCB status in the JSON claims', async () => {
    const r = await run('attest', 'verify', join(TDX, 'gtg_quote_v5_tdx15.dat'), '--collateral', join(TDX, 'collateral'), '--at', '2026-02-10', '--collateral-at', '2025-01-01', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { claims: { tcbStatus: string; mrtd: string } };
    expect(j.claims.tcbStatus).toBe('UpToDate');
    expect(j.claims.mrtd.startsWith('7348651a')).toBe(true);
  });

  itVectors('verify: TDX without collateral warns that TCB status was not checked', async () => {
    const r = await run('attest', 'verify', join(TDX, 'trustee_azure_quote_v4.bin'), '--at', '2024-06-01');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: No collateral given/);
  });

  itVectors('unreadable or unrecognised input and bad arguments → exit 2, one line, no stack', async () => {
    const missing = await run('attest', 'verify', join(SNP, 'does-not-exist.bin'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/FILE_UNREADABLE/);
    const pem = await run('attest', 'verify', join(SNP, 'roots', 'amd_milan_ask_ark.pem'));
    expect(pem.code).toBe(2);
    expect(pem.err).toMatch(/EVIDENCE_UNRECOGNIZED/);
    const badAt = await run('attest', 'verify', join(SNP, 'gsg_milan_v2_attestation.bin'), '--at', 'yesterday-ish');
    expect(badAt.code).toBe(2);
    expect(badAt.err).toMatch(/--at must be/);
    expect(badAt.err).not.toMatch(/\n\s+at /);
    const trunc = await run('attest', 'inspect', join(TDX, 'gtg_gcp_cos113_ccel_table.dat'));
    expect(trunc.code).toBe(2);
  });

  itVectors('inspect: human fields and --json', async () => {
    const h = await run('attest', 'inspect', join(SNP, 'virtee_milan_v2_report.hex'));
    expect(h.code).toBe(0);
    expect(h.out).toContain('kind: sev-snp');
    expect(h.out).toContain('encoding: hex');
    expect(h.out).toMatch(/reportedTcb\.microcode: 115/);
    const j = await run('attest', 'inspect', join(TDX, 'gtg_quote_v4_spr_e4.dat'), '--json');
    expect(j.code).toBe(0);
    const o = JSON.parse(j.out) as { kind: string; fields: { trailingBytes: number }; certificates: unknown[] };
    expect(o.kind).toBe('tdx');
    expect(o.fields.trailingBytes).toBe(39);
    expect(o.certificates).toHaveLength(3);
  });

  itVectors('verify: a collect-style evidence envelope (base64 evidence + DER certs) round-trips', async () => {
    const t = tempDir();
    try {
      const env = {
        kind: 'sev-snp',
        provider: 'configfs-tsm/sev_guest',
        format: 'sev-snp-report',
        evidence: readFileSync(join(SNP, 'gsg_milan_v2_attestation.bin')).toString('base64'),
        certs: [readFileSync(join(SNP, 'gsg_milan_vcek.der')).toString('base64')],
        kernelVersion: '6.8.0',
        collectedAt: '2024-01-01T00:00:00Z',
        simulated: false,
        notes: [],
      };
      const f = join(t.path, 'snp.json');
      writeFileSync(f, JSON.stringify(env));
      const r = await run('attest', 'verify', f, '--at', '2024-01-01', '--json');
      expect(r.code).toBe(0);
      const i = await run('attest', 'inspect', f, '--json');
      expect(JSON.parse(i.out)).toMatchObject({ envelope: 'modelseal', meta: { provider: 'configfs-tsm/sev_guest' } });
      writeFileSync(f, JSON.stringify({ ...env, platform: 'simulated' }));
      const sim = await run('attest', 'verify', f, '--at', '2024-01-01', '--json');
      expect(sim.code).toBe(1);
      expect(JSON.parse(sim.out)).toMatchObject({ code: 'EVIDENCE_SIMULATED', simulated: true });
    } finally {
      t.cleanup();
    }
  });

  itVectors('verify dispatches NVIDIA evidence to the NVIDIA verifier (or says it is not in this build)', async () => {
    const N = join(VECTORS_DIR, 'tee', 'nvidia');
    const r = await run('attest', 'verify', join(N, 'nvtrust_hopper_report.hex'), '--certs', join(N, 'nvtrust_hopper_cert_chain.pem'), '--at', '2025-01-01', '--json');
    let available = true;
    try {
      await import('../../src/attest/nvidia/index.js');
    } catch {
      available = false;
    }
    if (available) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ kind: 'nvidia-gpu', verified: true });
      // The same GPU evidence inside envelopes: nvtrust's {evidence_list} and a modelseal envelope
      // (as `attest collect` writes it, the nvtrust JSON base64-encoded in `evidence`).
      const list = JSON.parse(readFileSync(join(N, 'nvtrust_ppcie_8xh100_gpu_evidence.json'), 'utf8')) as unknown[];
      const t = tempDir();
      try {
        writeFileSync(join(t.path, 'a.json'), JSON.stringify({ evidence_list: list.slice(0, 2) }));
        writeFileSync(join(t.path, 'b.json'), JSON.stringify({ kind: 'nvidia-gpu', provider: 'nvml', evidence: Buffer.from(JSON.stringify(list[0])).toString('base64'), certs: [] }));
        for (const f of ['a.json', 'b.json']) {
          const e = await run('attest', 'verify', join(t.path, f), '--at', '2025-01-01', '--json');
          expect(e.code, f).toBe(0);
          expect(JSON.parse(e.out)).toMatchObject({ kind: 'nvidia-gpu', verified: true });
        }
      } finally {
        t.cleanup();
      }
    } else {
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/EVIDENCE_VERIFIER_UNAVAILABLE/);
    }
  });

  it('collect: without TEE hardware or the acquisition module it fails with exit 2 and says why', async () => {
    const r = await run('attest', 'collect', '--kind', 'snp');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error \[/);
  });
});
