/**
 * A stand-in platform for the binding tests: evidence in the real places that matter to the binding
 * (SNP REPORT_DATA at 0x50 of a 0x4A0-byte report, TDX v4 REPORTDATA at 568, SPDM requester nonce at 4),
 * "signed" with an HMAC over the signed range so that any flipped byte fails verification. The real
 * platform verifiers and the simulated platform are exercised in binding-simulated.test.ts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { EvidenceSource, CollectedEvidence, EvidenceVerifier } from '../../src/attest/binding/index.js';
import type { EvidenceVerdict } from '../../src/attest/core/types.js';

const SNP_BYTES = 0x4a0;
const SNP_SIGNED = 0x2a0;
const TDX_BYTES = 632 + 48;
const TDX_SIGNED = 632;

export interface FakeOptions {
  cpu?: 'sev-snp' | 'tdx' | null;
  gpu?: boolean;
  tdisp?: boolean;
  simulated?: boolean;
}

export interface FakePlatform {
  source: EvidenceSource;
  verifier: EvidenceVerifier;
  /** The HMAC "signature" of `signed`, for tests that forge evidence the platform vouches for. */
  sign(signed: Uint8Array): Uint8Array;
}

export function fakePlatform(opts: FakeOptions = {}): FakePlatform {
  const key = randomBytes(32);
  const cpu = opts.cpu === undefined ? 'sev-snp' : opts.cpu;
  const simulated = opts.simulated ?? false;
  const mac = (b: Uint8Array) => new Uint8Array(createHmac('sha384', key).update(b).digest());
  const provider = simulated ? 'simulated' : 'fake';

  const snp = (reportData: Uint8Array): Uint8Array => {
    const r = new Uint8Array(SNP_BYTES);
    r[0] = 2;
    r.set(reportData, 0x50);
    r.set(randomBytes(48), 0x90); // measurement
    r.set(mac(r.subarray(0, SNP_SIGNED)), SNP_SIGNED);
    return r;
  };
  const tdx = (reportData: Uint8Array): Uint8Array => {
    const q = new Uint8Array(TDX_BYTES);
    q[0] = 4;
    q[4] = 0x81;
    q.set(reportData, 568);
    q.set(mac(q.subarray(0, TDX_SIGNED)), TDX_SIGNED);
    return q;
  };
  const gpu = (nonce: Uint8Array): Uint8Array => {
    const body = new Uint8Array(37 + 50);
    body.set([0x11, 0xe0, 0x01, 0xff], 0);
    body.set(nonce, 4);
    body.set(randomBytes(50), 37);
    const out = new Uint8Array(body.length + 48);
    out.set(body, 0);
    out.set(mac(body), body.length);
    return out;
  };
  const tdisp = (): Uint8Array => {
    const body = new Uint8Array([...Buffer.from('TDISP'), 2, ...randomBytes(20)]);
    const out = new Uint8Array(body.length + 48);
    out.set(body, 0);
    out.set(mac(body), body.length);
    return out;
  };

  const source: EvidenceSource = {
    description: simulated ? 'fake SIMULATED platform' : 'fake platform',
    simulated,
    async collectDevices(nonce) {
      const out: CollectedEvidence[] = [];
      if (opts.gpu) out.push({ kind: 'nvidia-gpu', data: gpu(nonce), certs: [], provider, simulated });
      if (opts.tdisp) out.push({ kind: 'tdisp', data: tdisp(), certs: [], provider, simulated });
      return out;
    },
    async collectCpu(reportData) {
      if (cpu === null) return null;
      return { kind: cpu, data: cpu === 'sev-snp' ? snp(reportData) : tdx(reportData), certs: [], provider, simulated };
    },
  };

  const verifier: EvidenceVerifier = (data, options) => {
    const verdict = (kind: EvidenceVerdict['kind'], signedLen: number, claims: Record<string, unknown>): EvidenceVerdict => {
      const ok = Buffer.from(mac(data.subarray(0, signedLen))).equals(Buffer.from(data.subarray(signedLen, signedLen + 48)));
      const refuseSim = simulated && !options.allowSimulated;
      return {
        kind,
        verified: ok && !refuseSim,
        simulated,
        ...(ok ? (refuseSim ? { code: 'EVIDENCE_SIMULATED' } : {}) : { code: 'FAKE_BAD_SIGNATURE' }),
        message: ok ? 'fake verified' : 'fake signature mismatch',
        chain: [],
        claims,
        warnings: [],
      };
    };
    if (data.length === SNP_BYTES) return verdict('sev-snp', SNP_SIGNED, { reportData: Buffer.from(data.subarray(0x50, 0x90)).toString('hex'), debug: false });
    if (data.length === TDX_BYTES) return verdict('tdx', TDX_SIGNED, { reportData: Buffer.from(data.subarray(568, 632)).toString('hex') });
    if (data[1] === 0xe0) return verdict('nvidia-gpu', data.length - 48, { nonce: Buffer.from(data.subarray(4, 36)).toString('hex') });
    if (Buffer.from(data.subarray(0, 5)).toString() === 'TDISP') return verdict('tdisp', data.length - 48, { tdiState: 'RUN' });
    throw Object.assign(new Error('unrecognised evidence'), { code: 'EVIDENCE_UNKNOWN' });
  };

  return { source, verifier, sign: mac };
}
