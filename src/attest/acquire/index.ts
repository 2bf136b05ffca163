/**
 * Evidence acquisition on real hardware: configfs-tsm first (plain file I/O, SNP also yields the
 * certificate table), the guest ioctls through the native addon as fallback (SNP_GET_EXT_REPORT on
 * /dev/sev-guest, TDX_CMD_GET_REPORT0 on /dev/tdx_guest), NVIDIA GPUs through NVML (dlopen'd by the
 * addon), and TDISP through the Linux PCI/TSM interface where the kernel has one. Every record says
 * which provider produced it, the kernel version and (configfs) the generation; every kind that
 * could not be collected comes back as "unavailable" with what was probed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { ModelsealError, UnavailableError } from '../../errors.js';
import { loadNative } from '../../native/addon.js';
import { parseSnpCertTable } from '../core/input.js';
import type { EvidenceKind } from '../core/types.js';
import type { CollectedEvidence, EvidenceSource } from '../core/types.js';
import { buf, toHex } from '../../crypto/bytes.js';
import { certificatesFromBytes } from '../../crypto/pem.js';
import { TSM_REPORT_DIR, type TsmFs, nodeTsmFs, tsmReport } from './configfs.js';
import { SNP_CERTS_MAX_BYTES, SNP_GUEST_VMM_ERR_INVALID_LEN, buildSnpReportReq, buildTdxReportReq, parseSnpExitInfo2, parseSnpReportResp, parseTdxReportReq } from './marshal.js';

export * from './marshal.js';
export { tsmReport, tsmAvailable, TSM_REPORT_DIR, TSM_PROVIDERS, nodeTsmFs } from './configfs.js';
export type { TsmFs, TsmReport, TsmReportOptions } from './configfs.js';

/** The addon functions acquisition uses (see native/tee_napi.cc); injectable for tests. */
export interface NativeTee {
  snpGetReport(req: Uint8Array, certsLen: number, devicePath?: string): { ok: boolean; errno: number; message?: string; exitinfo2?: bigint; resp?: Uint8Array; certs?: Uint8Array; certsLen?: number; stage?: string };
  tdxGetReport0(req: Uint8Array, devicePath?: string): { ok: boolean; errno: number; message?: string; buf?: Uint8Array; stage?: string };
  nvmlAttest(nonce: Uint8Array, library?: string): NvmlAttestResult;
}

export interface NvmlAttestResult {
  ok: boolean;
  stage?: string;
  message?: string;
  library: string;
  ccState?: { environment: number; ccFeature: number; devToolsMode: number };
  devices: { index: number; ok: boolean; message?: string; architecture?: number; report?: Uint8Array; certChain?: Uint8Array }[];
}

/** One collected piece of evidence. */
export interface EvidenceRecord {
  kind: EvidenceKind;
  /** Which interface produced it: configfs-tsm/sev_guest, configfs-tsm/tdx_guest, ioctl/sev-guest, ioctl/tdx-guest, nvml. */
  provider: string;
  /** sev-snp-report, tdx-quote, tdx-report (TDREPORT: not remotely verifiable) or nvidia-json. */
  format: 'sev-snp-report' | 'tdx-quote' | 'tdx-report' | 'nvidia-json';
  evidence: Uint8Array;
  /** DER certificates that came with it (SNP certificate table, GPU chain). */
  certs: Uint8Array[];
  /** configfs-tsm auxblob as read (SNP: the GHCB certificate table). */
  auxblob?: Uint8Array;
  kernelVersion: string;
  /** configfs-tsm generation the outblob was read at. */
  generation?: number;
  collectedAt: string;
  simulated: false;
  notes: string[];
}

export interface UnavailableKind {
  kind: EvidenceKind;
  reason: string;
  /** Paths, devices and libraries that were looked at. */
  probed: string[];
}

export interface CollectOptions {
  /** Kinds to collect; default: every kind. */
  kinds?: EvidenceKind[];
  /** CPU REPORT_DATA (≤ 64 bytes; zero-padded). Default: 64 zero bytes. */
  reportData?: Uint8Array;
  /** 32-byte nonce for GPU / TDISP evidence. Default: 32 zero bytes. */
  nonce?: Uint8Array;
  /** SEV-SNP VMPL to request. */
  privlevel?: number;
  /** Filesystem root for configfs and sysfs (tests). */
  root?: string;
  fs?: TsmFs;
  /** Device paths and the NVML library (defaults: /dev/sev-guest, /dev/tdx_guest, libnvidia-ml.so.1). */
  sevGuestPath?: string;
  tdxGuestPath?: string;
  nvmlLibrary?: string;
  /** The addon functions; default: the loaded addon; null: act as if it is absent. */
  native?: NativeTee | null;
  kernelVersion?: string;
}

export interface CollectResult {
  records: EvidenceRecord[];
  unavailable: UnavailableKind[];
}

const ALL_KINDS: EvidenceKind[] = ['sev-snp', 'tdx', 'nvidia-gpu', 'tdisp'];

function nativeTee(o: CollectOptions): { tee: NativeTee | undefined; reason: string } {
  if (o.native === null) return { tee: undefined, reason: 'the native addon is disabled' };
  if (o.native) return { tee: o.native, reason: '' };
  const n = loadNative();
  if (!n.ok) return { tee: undefined, reason: `the native addon is not available (${n.reason})` };
  const a = n.addon as unknown as Partial<NativeTee>;
  if (typeof a.snpGetReport !== 'function' || typeof a.tdxGetReport0 !== 'function' || typeof a.nvmlAttest !== 'function') {
    return { tee: undefined, reason: 'the native addon was built without TEE support (rebuild: npm run build:native)' };
  }
  return { tee: a as NativeTee, reason: '' };
}

const NVML_ARCH: Record<number, string> = { 9: 'HOPPER', 10: 'BLACKWELL' };

/** What every collection step shares: the request, the file system and native calls, and the results so far. */
interface CollectContext {
  o: CollectOptions;
  reportData: Uint8Array;
  nonce: Uint8Array;
  root: string;
  fs: TsmFs;
  kernelVersion: string;
  tsmDir: string;
  now: () => string;
  records: EvidenceRecord[];
  unavailable: UnavailableKind[];
  /** Why configfs-tsm gave no CPU report of a kind (said when the ioctl fallback is unavailable too). */
  tsmNotes: string[];
}

/** The CPU report through configfs-tsm (one provider per guest), when the kernel has it. */
async function collectTsm(c: CollectContext, cpuKinds: Array<'sev-snp' | 'tdx'>): Promise<void> {
  const { o, root, fs, reportData, kernelVersion, now, records, tsmNotes, tsmDir } = c;
  if (await fs.isDirectory(tsmDir)) {
    try {
      const r = await tsmReport({ root, fs, inblob: reportData, ...(o.privlevel !== undefined ? { privlevel: o.privlevel } : {}) });
      if (r.kind && cpuKinds.includes(r.kind)) {
        const certs = r.kind === 'sev-snp' && r.auxblob ? parseSnpCertTable(r.auxblob).map((e) => e.der) : [];
        records.push({
          kind: r.kind,
          provider: `configfs-tsm/${r.provider}`,
          format: r.kind === 'sev-snp' ? 'sev-snp-report' : 'tdx-quote',
          evidence: r.outblob,
          certs,
          ...(r.auxblob ? { auxblob: r.auxblob } : {}),
          kernelVersion,
          generation: r.generation,
          collectedAt: now(),
          simulated: false,
          notes: [],
        });
      } else {
        tsmNotes.push(`configfs-tsm provider is "${r.provider}"`);
      }
    } catch (e) {
      if (!(e instanceof ModelsealError)) throw e;
      tsmNotes.push(`configfs-tsm failed: ${e.message}`);
    }
  } else {
    tsmNotes.push(`${tsmDir} absent`);
  }
}

/** An SEV-SNP report through SNP_GET_EXT_REPORT (/dev/sev-guest), certificates when the host has them. */
function collectSnpIoctl(c: CollectContext, tee: NativeTee | undefined, nativeReason: string): void {
  const { o, reportData, kernelVersion, now, records, unavailable, tsmNotes, tsmDir } = c;
  const dev = o.sevGuestPath ?? '/dev/sev-guest';
  const probed = [tsmDir, dev];
  if (!tee) unavailable.push({ kind: 'sev-snp', reason: `${tsmNotes.join('; ')}; and ${nativeReason}`, probed });
  else if (!existsSync(dev)) unavailable.push({ kind: 'sev-snp', reason: `not an SEV-SNP guest: ${tsmNotes.join('; ')}; ${dev} absent`, probed });
  else {
    const req = buildSnpReportReq(reportData, o.privlevel ?? 0);
    let res = tee.snpGetReport(req, SNP_CERTS_MAX_BYTES, dev);
    const notes: string[] = [];
    if (!res.ok && res.exitinfo2 !== undefined && parseSnpExitInfo2(res.exitinfo2).vmmError === SNP_GUEST_VMM_ERR_INVALID_LEN) {
      notes.push(`the host's certificate table needs ${res.certsLen ?? '?'} bytes, more than the driver accepts; took the report without certificates`);
      res = tee.snpGetReport(req, 0, dev);
    } else if (!res.ok && (res.errno === 25 /* ENOTTY */ || res.errno === 95 /* EOPNOTSUPP */)) {
      notes.push('SNP_GET_EXT_REPORT is not supported here; used SNP_GET_REPORT (no certificates)');
      res = tee.snpGetReport(req, 0, dev);
    }
    if (!res.ok || !res.resp) {
      const fw = res.exitinfo2 !== undefined ? parseSnpExitInfo2(res.exitinfo2) : undefined;
      unavailable.push({ kind: 'sev-snp', reason: `${res.message ?? 'the SNP ioctl failed'}${fw ? ` (fw_error ${fw.fwError}, vmm_error ${fw.vmmError})` : ''}`, probed });
    } else {
      const parsed = parseSnpReportResp(res.resp);
      const table = res.certs && res.certs.some((b) => b !== 0) ? res.certs : undefined;
      records.push({
        kind: 'sev-snp',
        provider: 'ioctl/sev-guest',
        format: 'sev-snp-report',
        evidence: parsed.report,
        certs: table ? parseSnpCertTable(table).map((e) => e.der) : [],
        ...(table ? { auxblob: table } : {}),
        kernelVersion,
        collectedAt: now(),
        simulated: false,
        notes,
      });
    }
  }
}

/** A TDREPORT through TDX_CMD_GET_REPORT0 (/dev/tdx_guest). */
function collectTdxIoctl(c: CollectContext, tee: NativeTee | undefined, nativeReason: string): void {
  const { o, reportData, kernelVersion, now, records, unavailable, tsmNotes, tsmDir } = c;
  const devs = o.tdxGuestPath ? [o.tdxGuestPath] : ['/dev/tdx_guest', '/dev/tdx-guest'];
  const probed = [tsmDir, ...devs];
  const dev = devs.find((d) => existsSync(d));
  if (!tee) unavailable.push({ kind: 'tdx', reason: `${tsmNotes.join('; ')}; and ${nativeReason}`, probed });
  else if (!dev) unavailable.push({ kind: 'tdx', reason: `not a TDX guest: ${tsmNotes.join('; ')}; ${devs.join(', ')} absent`, probed });
  else {
    const res = tee.tdxGetReport0(buildTdxReportReq(reportData), dev);
    if (!res.ok || !res.buf) unavailable.push({ kind: 'tdx', reason: res.message ?? 'TDX_CMD_GET_REPORT0 failed', probed });
    else {
      records.push({
        kind: 'tdx',
        provider: 'ioctl/tdx-guest',
        format: 'tdx-report',
        evidence: parseTdxReportReq(res.buf, reportData),
        certs: [],
        kernelVersion,
        collectedAt: now(),
        simulated: false,
        notes: ['TDREPORT only: it is MACed with a platform key and cannot be verified remotely; a quote needs configfs-tsm (Linux ≥ 6.7) and a quote generation service on the host'],
      });
    }
  }
}

/** NVIDIA GPU reports for `nonce` through NVML (dlopen'd by the addon), with the CC state it reports. */
function collectNvml(c: CollectContext, tee: NativeTee | undefined, nativeReason: string): void {
  const { o, nonce, kernelVersion, now, records, unavailable } = c;
  const lib = o.nvmlLibrary ?? 'libnvidia-ml.so.1';
  const probed = [lib];
  if (!tee) unavailable.push({ kind: 'nvidia-gpu', reason: nativeReason, probed });
  else {
    const r = tee.nvmlAttest(nonce, lib);
    const good = r.devices.filter((d) => d.ok && d.report && d.certChain);
    if (!r.ok || good.length === 0) {
      const why = !r.ok ? r.message ?? r.stage ?? 'NVML failed' : r.devices.length === 0 ? 'NVML reports no GPU' : r.devices.map((d) => `GPU ${d.index}: ${d.message ?? 'no report'}`).join('; ');
      unavailable.push({ kind: 'nvidia-gpu', reason: why, probed });
    } else {
      const st = r.ccState;
      // NVML's CC state is not part of the signed report; it is recorded (unsigned) for the policy.
      const cc = st === undefined ? undefined : st.ccFeature === 1 ? (st.devToolsMode === 1 ? 'DEVTOOLS' : 'ON') : 'OFF';
      const entries = good.map((d) => ({
        arch: NVML_ARCH[d.architecture ?? -1] ?? 'UNKNOWN',
        version: '1.0',
        nonce: toHex(nonce),
        evidence: buf(d.report!).toString('base64'),
        certificate: buf(d.certChain!).toString('base64'),
        ...(cc ? { cc_mode: cc } : {}),
        nvml_device_index: d.index,
      }));
      const notes = r.devices.filter((d) => !d.ok).map((d) => `GPU ${d.index} skipped: ${d.message}`);
      if (cc === undefined) notes.push('nvmlSystemGetConfComputeState unavailable: CC mode not recorded');
      records.push({
        kind: 'nvidia-gpu',
        provider: 'nvml',
        format: 'nvidia-json',
        evidence: new Uint8Array(Buffer.from(JSON.stringify(entries.length === 1 ? entries[0] : entries), 'utf8')),
        certs: certificatesFromBytes(good[0]!.certChain!),
        kernelVersion,
        collectedAt: now(),
        simulated: false,
        notes,
      });
    }
  }
}

/**
 * Collects evidence of the requested kinds. Never throws for an absent device: such kinds are listed
 * in `unavailable` with the reason and what was probed. Throws TypeError/RangeError for bad arguments.
 */
export async function collectEvidence(o: CollectOptions = {}): Promise<CollectResult> {
  const kinds = o.kinds ?? ALL_KINDS;
  const reportData = o.reportData ?? new Uint8Array(64);
  const nonce = o.nonce ?? new Uint8Array(32);
  if (!(reportData instanceof Uint8Array) || reportData.length > 64) throw new RangeError('reportData must be a Uint8Array of at most 64 bytes');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new RangeError('nonce must be a Uint8Array of 32 bytes');
  const root = o.root ?? '/';
  const fs = o.fs ?? nodeTsmFs;
  const kernelVersion = o.kernelVersion ?? release();
  const now = (): string => new Date().toISOString();
  const c: CollectContext = { o, reportData, nonce, root, fs, kernelVersion, tsmDir: join(root, TSM_REPORT_DIR), now, records: [], unavailable: [], tsmNotes: [] };
  // CPU evidence: configfs-tsm once (a guest has one provider), then the ioctl of the missing kind.
  const cpuKinds = kinds.filter((k): k is 'sev-snp' | 'tdx' => k === 'sev-snp' || k === 'tdx');
  if (cpuKinds.length > 0) await collectTsm(c, cpuKinds);
  const have = (k: EvidenceKind): boolean => c.records.some((r) => r.kind === k);
  const { tee, reason: nativeReason } = nativeTee(o);
  if (cpuKinds.includes('sev-snp') && !have('sev-snp')) collectSnpIoctl(c, tee, nativeReason);
  if (cpuKinds.includes('tdx') && !have('tdx')) collectTdxIoctl(c, tee, nativeReason);
  if (kinds.includes('nvidia-gpu')) collectNvml(c, tee, nativeReason);
  if (kinds.includes('tdisp')) c.unavailable.push(await probeTdisp(root));
  return { records: c.records, unavailable: c.unavailable };
}

/**
 * TDISP: the merged PCI/TSM interface (Linux 6.19: /sys/class/tsm, /sys/bus/pci/devices/…/tsm/connect)
 * sets up SPDM sessions and IDE but exposes no interface report; reading one needs the proposed
 * pci-tsm netlink `evidence-read` operation, not merged and not implemented here. So this reports
 * what the kernel shows and says why no evidence was collected.
 */
async function probeTdisp(root: string): Promise<UnavailableKind> {
  const classDir = join(root, 'sys/class/tsm');
  const pciDir = join(root, 'sys/bus/pci/devices');
  const probed = [classDir, `${pciDir}/*/tsm`];
  let tsms: string[] = [];
  try {
    tsms = (await readdir(classDir)).filter((n) => n.startsWith('tsm'));
  } catch {
    /* absent */
  }
  const bound: string[] = [];
  try {
    for (const d of await readdir(pciDir)) {
      for (const attr of ['connect', 'bound']) {
        try {
          const v = (await readFile(join(pciDir, d, 'tsm', attr), 'utf8')).trim();
          if (v) bound.push(`${d} ${attr}=${v}`);
        } catch {
          /* attribute absent */
        }
      }
    }
  } catch {
    /* no PCI sysfs */
  }
  const seen = tsms.length === 0 ? 'no TSM device in /sys/class/tsm' : `TSM devices: ${tsms.join(', ')}${bound.length ? `; ${bound.join(', ')}` : '; no PCI device connected to a TSM'}`;
  return {
    kind: 'tdisp',
    reason: `${seen}. Reading a TDISP interface report needs the Linux pci-tsm netlink "evidence-read" operation, which is proposed but not merged (and not implemented in modelseal); no TDISP evidence was collected.`,
    probed,
  };
}

/** Throws UnavailableError EVIDENCE_UNAVAILABLE naming what was probed when nothing was collected. */
export function requireEvidence(r: CollectResult): EvidenceRecord[] {
  if (r.records.length > 0) return r.records;
  throw new UnavailableError(
    'EVIDENCE_UNAVAILABLE',
    `No attestation evidence is available on this machine: ${r.unavailable.map((u) => `${u.kind}: ${u.reason} (probed ${u.probed.join(', ')})`).join(' | ')}.`,
    { details: { unavailable: r.unavailable } },
  );
}

/** Options of {@link createHardwareEvidenceSource}. */
export interface HardwareSourceOptions extends Omit<CollectOptions, 'kinds' | 'reportData' | 'nonce'> {
  /** CPU TEE to use: 'auto' (whichever this guest is), 'sev-snp', 'tdx' or 'none'. Default 'auto'. */
  cpu?: 'auto' | 'sev-snp' | 'tdx' | 'none';
  /** GPU evidence: true (required), false, or 'auto' (when NVML has a CC-mode GPU). Default 'auto'. */
  gpu?: boolean | 'auto';
}

/**
 * An evidence source on real hardware for the binding code (src/attest/binding: EvidenceSource):
 * devices first (GPU via NVML with the binding nonce), then the CPU report with the binding REPORT_DATA.
 * A required kind that cannot be collected throws UnavailableError naming what was probed. A TDX
 * TDREPORT (ioctl fallback) is refused: only a quote can be verified remotely.
 */
export function createHardwareEvidenceSource(o: HardwareSourceOptions = {}): EvidenceSource {
  const cpu = o.cpu ?? 'auto';
  const gpu = o.gpu ?? 'auto';
  const toCollected = (r: EvidenceRecord): CollectedEvidence => ({
    kind: r.kind,
    data: r.evidence,
    certs: r.certs,
    provider: r.provider,
    simulated: false,
    collectedAt: new Date(r.collectedAt),
    details: { format: r.format, kernelVersion: r.kernelVersion, ...(r.generation !== undefined ? { generation: r.generation } : {}), ...(r.notes.length ? { notes: r.notes } : {}) },
  });
  const unavailable = (what: string, u: UnavailableKind[]): UnavailableError =>
    new UnavailableError('EVIDENCE_UNAVAILABLE', `${what} is not available here: ${u.map((x) => `${x.kind}: ${x.reason} (probed ${x.probed.join(', ')})`).join(' | ')}.`, { details: { unavailable: u } });
  return {
    description: `hardware (${cpu === 'none' ? 'no CPU TEE' : cpu === 'auto' ? 'CPU TEE auto' : cpu}${gpu === false ? '' : gpu === true ? ' + NVIDIA GPU' : ' + NVIDIA GPU if present'})`,
    simulated: false,
    async collectDevices(nonce: Uint8Array) {
      if (gpu === false) return [];
      const r = await collectEvidence({ ...o, kinds: ['nvidia-gpu'], nonce });
      if (r.records.length === 0 && gpu === true) throw unavailable('NVIDIA GPU evidence', r.unavailable);
      return r.records.map(toCollected);
    },
    async collectCpu(reportData: Uint8Array) {
      if (cpu === 'none') return null;
      const kinds: EvidenceKind[] = cpu === 'auto' ? ['sev-snp', 'tdx'] : [cpu];
      const r = await collectEvidence({ ...o, kinds, reportData });
      const rec = r.records.find((x) => x.format !== 'tdx-report');
      if (!rec) {
        const tdreport = r.records.find((x) => x.format === 'tdx-report');
        if (tdreport) {
          throw new UnavailableError('EVIDENCE_UNAVAILABLE', 'Only a TDX TDREPORT could be taken (TDX_CMD_GET_REPORT0); it cannot be verified remotely. A TDX quote needs configfs-tsm (Linux ≥ 6.7) and a quote generation service on the host.');
        }
        throw unavailable('CPU TEE evidence', r.unavailable);
      }
      return toCollected(rec);
    },
  };
}
