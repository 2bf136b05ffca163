import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import {
  SNP_GET_EXT_REPORT,
  SNP_GET_REPORT,
  TDX_CMD_GET_REPORT0,
  TSM_REPORT_DIR,
  buildSnpExtReportReq,
  buildSnpGuestRequest,
  buildSnpReportReq,
  buildTdxReportReq,
  collectEvidence,
  createHardwareEvidenceSource,
  parseSnpExitInfo2,
  parseSnpReportResp,
  parseTdxReportReq,
  requireEvidence,
  tsmReport,
  type NativeTee,
  type TsmFs,
} from '../../src/attest/acquire/index.js';
import { createSimulatedPlatform, type SimulatedPlatform } from '../../src/attest/simulated/index.js';
import { verifyNvidiaEvidence } from '../../src/attest/nvidia/index.js';
import { verifySnpReport } from '../../src/attest/snp/verify.js';

let p: SimulatedPlatform;
beforeAll(async () => {
  p = await createSimulatedPlatform();
}, 30_000);

const VCEK_GUID = '63da758de6644564adc5f4b93be8accd';
const ASK_GUID = '4ab7b379bbac4fe4a02f05aef327c782';
const ARK_GUID = 'c0b406a4a803495297433fb6014cd0ae';

/** GHCB certificate table: {GUID, offset, length} entries, a zero entry, then the certificates. */
function certTable(certs: Uint8Array[], guids: string[]): Uint8Array {
  const head = 24 * (certs.length + 1);
  const total = head + certs.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(Math.ceil(total / 4096) * 4096);
  const dv = new DataView(out.buffer);
  let off = head;
  certs.forEach((c, i) => {
    out.set(Buffer.from(guids[i]!, 'hex'), i * 24);
    dv.setUint32(i * 24 + 16, off, true);
    dv.setUint32(i * 24 + 20, c.length, true);
    out.set(c, off);
    off += c.length;
  });
  return out;
}

/**
 * An in-memory configfs-tsm "kernel": mkdir creates an instance whose attributes behave like
 * drivers/virt/coco/guest/report.c — writing inblob bumps the generation, outblob is generated
 * from the current inblob. `racer` simulates another writer bumping the generation during a read.
 */
function fakeKernel(o: { provider: string; racer?: (n: number) => boolean; root: string }): TsmFs & { live: Set<string>; reads: string[] } {
  const dir = join(o.root, TSM_REPORT_DIR);
  const inst = new Map<string, { gen: number; inblob: Uint8Array; privlevel?: string }>();
  const live = new Set<string>();
  const reads: string[] = [];
  let outReads = 0;
  const enoent = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  const split = (p: string): [string, string] => [p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1)];
  return {
    live,
    reads,
    isDirectory: async (p) => p === dir || inst.has(p),
    mkdir: async (p) => {
      if (split(p)[0] !== dir) throw enoent(p);
      inst.set(p, { gen: 0, inblob: new Uint8Array(64) });
      live.add(p);
    },
    rmdir: async (p) => {
      inst.delete(p);
      live.delete(p);
    },
    writeFile: async (p, d) => {
      const [i, attr] = split(p);
      const s = inst.get(i);
      if (!s) throw enoent(p);
      if (attr === 'inblob') {
        const b = typeof d === 'string' ? new Uint8Array(Buffer.from(d)) : d;
        s.inblob = new Uint8Array(64);
        s.inblob.set(b);
        s.gen++;
      } else if (attr === 'privlevel') {
        s.privlevel = String(d).trim();
        s.gen++;
      } else throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    },
    readFile: async (path) => {
      const [i, attr] = split(path);
      const s = inst.get(i);
      if (!s) throw enoent(path);
      reads.push(attr);
      if (attr === 'provider') return new Uint8Array(Buffer.from(`${o.provider}\n`));
      if (attr === 'generation') return new Uint8Array(Buffer.from(`${s.gen}\n`));
      if (attr === 'outblob') {
        if (o.racer?.(outReads++)) s.gen++;
        return o.provider === 'sev_guest' ? p.snpReport(s.inblob).evidence : p.tdxQuote(s.inblob).evidence;
      }
      if (attr === 'auxblob') {
        if (o.provider !== 'sev_guest') throw enoent(path);
        const e = p.snpReport(s.inblob);
        return certTable(e.certs, [VCEK_GUID, ASK_GUID, ARK_GUID]);
      }
      throw enoent(path);
    },
  };
}

describe('ioctl marshalling', () => {
  it('ioctl numbers equal the uapi _IOWR values', () => {
    expect(SNP_GET_REPORT).toBe(0xc0205300);
    expect(SNP_GET_EXT_REPORT).toBe(0xc0205302);
    expect(TDX_CMD_GET_REPORT0).toBe(0xc4405401);
  });

  it('snp_report_req: user_data at 0, vmpl at 64, 28 reserved bytes, 96 in all', () => {
    const ud = new Uint8Array(64).map((_, i) => i + 1);
    const r = buildSnpReportReq(ud, 2);
    expect(r.length).toBe(96);
    expect([...r.subarray(0, 64)]).toEqual([...ud]);
    expect(new DataView(r.buffer).getUint32(64, true)).toBe(2);
    expect(r.subarray(68).every((b) => b === 0)).toBe(true);
    expect(buildSnpReportReq(new Uint8Array([9])).subarray(1, 64).every((b) => b === 0)).toBe(true);
    expect(() => buildSnpReportReq(new Uint8Array(65))).toThrow(RangeError);
    expect(() => buildSnpReportReq(ud, 4)).toThrow(RangeError);
  });

  it('snp_guest_request_ioctl and snp_ext_report_req layouts', () => {
    const io = buildSnpGuestRequest(0x1122334455667788n, 0x99aabbccddeeff00n);
    const dv = new DataView(io.buffer);
    expect(io.length).toBe(32);
    expect(io[0]).toBe(1);
    expect(dv.getBigUint64(8, true)).toBe(0x1122334455667788n);
    expect(dv.getBigUint64(16, true)).toBe(0x99aabbccddeeff00n);
    expect(dv.getBigUint64(24, true)).toBe(0n);
    const ext = buildSnpExtReportReq(buildSnpReportReq(new Uint8Array(64)), 0xdeadbeefn, 8192);
    expect(ext.length).toBe(112);
    expect(new DataView(ext.buffer).getBigUint64(96, true)).toBe(0xdeadbeefn);
    expect(new DataView(ext.buffer).getUint32(104, true)).toBe(8192);
    expect(() => buildSnpExtReportReq(new Uint8Array(96), 0n, 1000)).toThrow(RangeError);
    expect(parseSnpExitInfo2(0x0000000100000016n)).toEqual({ fwError: 0x16, vmmError: 1 });
  });

  it('MSG_REPORT_RSP: report at 0x20, status and size checked', () => {
    const rep = p.snpReport(new Uint8Array(64)).evidence;
    const resp = new Uint8Array(4000);
    const dv = new DataView(resp.buffer);
    dv.setUint32(4, rep.length, true);
    resp.set(rep, 0x20);
    expect(Buffer.from(parseSnpReportResp(resp).report).equals(Buffer.from(rep))).toBe(true);
    dv.setUint32(0, 0x16, true);
    expect(() => parseSnpReportResp(resp)).toThrow(/invalid parameters/);
    dv.setUint32(0, 0, true);
    dv.setUint32(4, 4000, true);
    expect(() => parseSnpReportResp(resp)).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
    expect(() => parseSnpReportResp(new Uint8Array(6))).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
  });

  it('tdx_report_req: reportdata then a zeroed 1024-byte TDREPORT; the answer is checked', () => {
    const rd = new Uint8Array(64).fill(7);
    const req = buildTdxReportReq(rd);
    expect(req.length).toBe(1088);
    expect(req.subarray(64).every((b) => b === 0)).toBe(true);
    const filled = req.slice();
    filled[64] = 0x81;
    filled.set(rd, 64 + 128);
    expect(parseTdxReportReq(filled, rd).length).toBe(1024);
    const wrong = filled.slice();
    wrong[64 + 130] = 0;
    expect(() => parseTdxReportReq(wrong, rd)).toThrow(/REPORTDATA/);
    expect(() => parseTdxReportReq(req)).toThrow(/REPORTTYPE/);
  });
});

describe('configfs-tsm protocol (fake kernel)', () => {
  const rd = new Uint8Array(64).map((_, i) => (i * 3) % 251);

  it('sev_guest: writes inblob, reads outblob + auxblob, checks the generation, removes the instance', async () => {
    const fs = fakeKernel({ provider: 'sev_guest', root: '/fake' });
    const r = await tsmReport({ root: '/fake', fs, inblob: rd, privlevel: 0 });
    expect(r.provider).toBe('sev_guest');
    expect(r.kind).toBe('sev-snp');
    expect(r.generation).toBe(2); // privlevel and inblob writes
    expect(Buffer.from(r.outblob.subarray(0x50, 0x90)).equals(Buffer.from(rd))).toBe(true);
    expect(r.auxblob!.length % 4096).toBe(0);
    expect(fs.live.size).toBe(0);
    expect(fs.reads).toEqual(['provider', 'generation', 'outblob', 'auxblob', 'generation']);
  });

  it('tdx_guest: a quote, no auxblob', async () => {
    const fs = fakeKernel({ provider: 'tdx_guest', root: '/fake' });
    const r = await tsmReport({ root: '/fake', fs, inblob: rd });
    expect([r.provider, r.kind, r.auxblob]).toEqual(['tdx_guest', 'tdx', undefined]);
    expect(r.outblob[0]).toBe(4);
  });

  it('retries when the generation changes during the read, then gives up with TSM_RACE', async () => {
    const once = fakeKernel({ provider: 'sev_guest', root: '/fake', racer: (n) => n === 0 });
    const r = await tsmReport({ root: '/fake', fs: once, inblob: rd });
    expect(r.generation).toBe(1);
    expect(once.reads.filter((x) => x === 'outblob').length).toBe(2);
    const always = fakeKernel({ provider: 'sev_guest', root: '/fake', racer: () => true });
    await expect(tsmReport({ root: '/fake', fs: always, inblob: rd, attempts: 3 })).rejects.toMatchObject({ code: 'TSM_RACE' });
    expect(always.live.size).toBe(0);
  });

  it('an unknown provider is returned with kind undefined; absent configfs names the path', async () => {
    const fs = fakeKernel({ provider: 'arm_cca_guest', root: '/fake' });
    expect((await tsmReport({ root: '/fake', fs, inblob: rd })).kind).toBeUndefined();
    await expect(tsmReport({ root: '/nowhere', fs, inblob: rd })).rejects.toMatchObject({ code: 'TSM_UNAVAILABLE', message: expect.stringContaining('/nowhere/sys/kernel/config/tsm/report') });
    await expect(tsmReport({ root: '/fake', fs, inblob: new Uint8Array(65) })).rejects.toThrow(RangeError);
  });

  it('works on a real directory tree too (node fs), failing cleanly where configfs semantics are missing', async () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.path, TSM_REPORT_DIR), { recursive: true });
      // A plain directory has no provider file: the read fails, and the instance is removed.
      await expect(tsmReport({ root: t.path, inblob: rd, name: 'x' })).rejects.toThrow(/ENOENT/);
    } finally {
      t.cleanup();
    }
  });
});

describe('collectEvidence', () => {
  const rd = new Uint8Array(64).fill(0x42);
  const nonce = new Uint8Array(32).fill(0x24);

  it('configfs-tsm SNP record: provider, kernel version, generation, certificate table → verifies (simulated)', async () => {
    const fs = fakeKernel({ provider: 'sev_guest', root: '/fake' });
    const r = await collectEvidence({ kinds: ['sev-snp'], reportData: rd, root: '/fake', fs, native: null, kernelVersion: '6.11.0-test' });
    expect(r.unavailable).toEqual([]);
    const rec = r.records[0]!;
    expect([rec.kind, rec.provider, rec.kernelVersion, rec.generation, rec.certs.length]).toEqual(['sev-snp', 'configfs-tsm/sev_guest', '6.11.0-test', 1, 3]);
    const v = await verifySnpReport(rec.evidence, { allowSimulated: true, simulatedRoots: p.trustAnchors, certs: rec.certs, expectedReportData: rd });
    expect(v.verified).toBe(true);
  });

  it('ioctl fallbacks through a fake addon (SNP with certificate table, TDX TDREPORT) and NVML', async () => {
    const t = tempDir();
    try {
      const sev = join(t.path, 'sev-guest');
      const tdx = join(t.path, 'tdx_guest');
      writeFileSync(sev, '');
      writeFileSync(tdx, '');
      const calls: string[] = [];
      const native: NativeTee = {
        snpGetReport: (req, certsLen, dev) => {
          calls.push(`snp ${certsLen} ${dev}`);
          const e = p.snpReport(req.subarray(0, 64));
          const resp = new Uint8Array(4000);
          new DataView(resp.buffer).setUint32(4, e.evidence.length, true);
          resp.set(e.evidence, 0x20);
          return { ok: true, errno: 0, exitinfo2: 0n, resp, certs: certTable(e.certs, [VCEK_GUID, ASK_GUID, ARK_GUID]), certsLen };
        },
        tdxGetReport0: (req, dev) => {
          calls.push(`tdx ${dev}`);
          const b = req.slice();
          b[64] = 0x81;
          b.set(req.subarray(0, 64), 64 + 128);
          return { ok: true, errno: 0, buf: b };
        },
        nvmlAttest: (n, lib) => {
          calls.push(`nvml ${lib}`);
          const e = p.nvidiaReport(n);
          const pem = Buffer.from(JSON.parse(Buffer.from(e.evidence).toString()).certificate, 'base64');
          return { ok: true, library: lib ?? '', ccState: { environment: 2, ccFeature: 1, devToolsMode: 0 }, devices: [{ index: 0, ok: true, architecture: 9, report: e.spdm!, certChain: new Uint8Array(pem) }] };
        },
      };
      const r = await collectEvidence({ reportData: rd, nonce, root: t.path, native, sevGuestPath: sev, tdxGuestPath: tdx, kernelVersion: '6.8.0' });
      expect(calls).toEqual([`snp 16384 ${sev}`, `tdx ${tdx}`, 'nvml libnvidia-ml.so.1']);
      const byKind = Object.fromEntries(r.records.map((x) => [x.kind, x]));
      expect(byKind['sev-snp']!.provider).toBe('ioctl/sev-guest');
      expect(byKind['sev-snp']!.certs.length).toBe(3);
      expect([byKind.tdx!.provider, byKind.tdx!.format, byKind.tdx!.evidence.length]).toEqual(['ioctl/tdx-guest', 'tdx-report', 1024]);
      const gpu = byKind['nvidia-gpu']!;
      expect(gpu.provider).toBe('nvml');
      const v = await verifyNvidiaEvidence(gpu.evidence, { allowSimulated: true, expectedNonce: nonce });
      expect([v.verified, v.claims.ccMode, v.claims.arch]).toEqual([true, true, 'HOPPER']);
      // TDISP is never collected: the reason says why and what was probed.
      expect(r.unavailable.map((u) => u.kind)).toEqual(['tdisp']);
      expect(r.unavailable[0]!.reason).toMatch(/pci-tsm netlink/);
      expect(r.unavailable[0]!.probed[0]).toBe(join(t.path, 'sys/class/tsm'));
    } finally {
      t.cleanup();
    }
  });

  it('on a machine without TEE devices every kind is unavailable, naming what was probed', async () => {
    const r = await collectEvidence({ root: '/nonexistent-root', sevGuestPath: '/nonexistent/sev-guest', tdxGuestPath: '/nonexistent/tdx_guest', nvmlLibrary: 'libnvidia-ml-missing.so.1' });
    expect(r.records).toEqual([]);
    const kinds = Object.fromEntries(r.unavailable.map((u) => [u.kind, u]));
    expect(kinds['sev-snp']!.probed).toContain('/nonexistent/sev-guest');
    expect(kinds.tdx!.probed).toContain('/nonexistent/tdx_guest');
    expect(kinds['nvidia-gpu']!.probed).toContain('libnvidia-ml-missing.so.1');
    expect(kinds['nvidia-gpu']!.reason).toMatch(/libnvidia-ml-missing|addon/);
    expect(() => requireEvidence(r)).toThrow(expect.objectContaining({ code: 'EVIDENCE_UNAVAILABLE' }));
  });

  it('DEVTOOLS / OFF CC states are recorded so the verifier reports ccMode false', async () => {
    const native = {
      snpGetReport: () => ({ ok: false, errno: 2 }),
      tdxGetReport0: () => ({ ok: false, errno: 2 }),
      nvmlAttest: (n: Uint8Array) => {
        const e = p.nvidiaReport(n);
        const pem = Buffer.from(JSON.parse(Buffer.from(e.evidence).toString()).certificate, 'base64');
        return { ok: true, library: 'x', ccState: { environment: 2, ccFeature: 1, devToolsMode: 1 }, devices: [{ index: 0, ok: true, report: e.spdm!, certChain: new Uint8Array(pem) }] };
      },
    } as NativeTee;
    const r = await collectEvidence({ kinds: ['nvidia-gpu'], nonce, native });
    const v = await verifyNvidiaEvidence(r.records[0]!.evidence, { allowSimulated: true });
    expect([v.verified, v.claims.ccMode]).toEqual([true, false]);
  });

  it('hardware evidence source: GPU first with the nonce, then the CPU report; missing required kinds throw', async () => {
    const fs = fakeKernel({ provider: 'sev_guest', root: '/fake' });
    const native = {
      snpGetReport: () => ({ ok: false, errno: 2 }),
      tdxGetReport0: () => ({ ok: false, errno: 2 }),
      nvmlAttest: (n: Uint8Array) => {
        const e = p.nvidiaReport(n);
        const pem = Buffer.from(JSON.parse(Buffer.from(e.evidence).toString()).certificate, 'base64');
        return { ok: true, library: 'x', ccState: { environment: 2, ccFeature: 1, devToolsMode: 0 }, devices: [{ index: 0, ok: true, report: e.spdm!, certChain: new Uint8Array(pem) }] };
      },
    } as NativeTee;
    const src = createHardwareEvidenceSource({ root: '/fake', fs, native, gpu: true });
    expect(src.simulated).toBe(false);
    const devs = await src.collectDevices(nonce);
    expect(devs.map((d) => [d.kind, d.provider])).toEqual([['nvidia-gpu', 'nvml']]);
    const cpu = await src.collectCpu(rd);
    expect([cpu!.kind, cpu!.provider, (cpu!.details as { generation: number }).generation]).toEqual(['sev-snp', 'configfs-tsm/sev_guest', 1]);
    const none = createHardwareEvidenceSource({ root: '/nonexistent', native: null, gpu: true, cpu: 'tdx', tdxGuestPath: '/nonexistent/tdx' });
    await expect(none.collectDevices(nonce)).rejects.toMatchObject({ code: 'EVIDENCE_UNAVAILABLE' });
    await expect(none.collectCpu(rd)).rejects.toMatchObject({ code: 'EVIDENCE_UNAVAILABLE', message: expect.stringContaining('/nonexistent/tdx') });
    expect(await createHardwareEvidenceSource({ root: '/nonexistent', native: null, gpu: 'auto' }).collectDevices(nonce)).toEqual([]);
  });
});
