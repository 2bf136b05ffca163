/**
 * Fuzz / property tests for the SEV-SNP and TDX parsers and verifiers: random truncation, bit flips,
 * oversized length fields, wrong versions, garbage and broken encodings. The property: never a
 * crash (only ModelsealError escapes), never an accept.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { decodeEvidenceInput, parseSnpCertTable } from '../../src/attest/core/input.js';
import { inspectEvidence, verifyEvidence } from '../../src/attest/index.js';
import { parseTdxQuote, parseTdReport } from '../../src/attest/tdx/index.js';
import { parseSnpReport } from '../../src/attest/snp/index.js';
import { parseCertificates, parseCrl } from '../../src/crypto/x509.js';
import type { VerifyEvidenceOptions } from '../../src/attest/core/types.js';
import { describeVectors, VECTORS_DIR, whenVectors } from '../helpers.js';

const T = join(VECTORS_DIR, 'tee');
const read = (f: string) => new Uint8Array(readFileSync(join(T, f)));

/** Small deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

interface Subject {
  name: string;
  bytes: Uint8Array;
  options: VerifyEvidenceOptions;
  /** Offsets of length fields to blow up (offset, width). */
  lengths: Array<[number, 2 | 4]>;
  /** Version field (offset, width) and versions to try. */
  version: [number, 2 | 4, number[]];
}

function tdxSubject(file: string, at: string): Subject {
  const bytes = read(`tdx/${file}`);
  const q = parseTdxQuote(bytes);
  const s = q.signedBytes.length;
  const lengths: Array<[number, 2 | 4]> = [
    [s, 4],
    [s + 4 + 130, 4],
    [s + 4 + 134 + 448, 2],
    [s + 4 + 134 + 450 + q.qeAuthData.length + 2, 4],
  ];
  if (q.version === 5) lengths.push([50, 4]);
  return { name: file, bytes, options: { at: new Date(at), collateralDir: join(T, 'tdx', 'collateral'), collateralAt: new Date('2025-01-01') }, lengths, version: [0, 2, [0, 1, 2, 3, 6, 0xffff]] };
}

function snpSubject(file: string, cert: string, at: string): Subject {
  return { name: file, bytes: read(`snp/${file}`), options: { at: new Date(at), certs: [read(`snp/${cert}`)] }, lengths: [], version: [0, 4, [0, 1, 6, 0xff, 0xffffffff]] };
}

const SUBJECTS: Subject[] = whenVectors(() => [
  snpSubject('gsg_milan_v2_attestation.bin', 'gsg_milan_vcek.der', '2024-01-01'),
  snpSubject('trustee_milan_v3_vlek_report.bin', 'trustee_milan_vlek_aws.der', '2025-06-01'),
  snpSubject('teekit_gcp_milan_v5_report.bin', 'teekit_gcp_milan_vcek.pem', '2026-01-01'),
  tdxSubject('gtg_quote_v4_spr_e4.dat', '2024-06-01'),
  tdxSubject('gtg_quote_v5_tdx15.dat', '2026-02-10'),
  tdxSubject('trustee_azure_quote_v4.bin', '2025-10-01'),
], []);

/** The property: an accepted mutation is a failure; any throw must be a ModelsealError. */
async function neverAccepts(b: Uint8Array, options: VerifyEvidenceOptions, what: string): Promise<void> {
  let verified = false;
  try {
    verified = (await verifyEvidence(b, options)).verified;
  } catch (e) {
    if (!(e instanceof ModelsealError)) throw new Error(`${what}: non-ModelsealError ${(e as Error)?.stack ?? String(e)}`);
  }
  if (verified) throw new Error(`${what}: a mutated input was accepted`);
  try {
    await inspectEvidence(b);
  } catch (e) {
    if (!(e instanceof ModelsealError)) throw new Error(`${what} (inspect): non-ModelsealError ${(e as Error)?.stack ?? String(e)}`);
  }
}

describeVectors('fuzz: SEV-SNP and TDX evidence', () => {
  for (const s of SUBJECTS) {
    it(`${s.name}: the unmodified input verifies (control)`, async () => {
      expect((await verifyEvidence(s.bytes, s.options)).verified).toBe(true);
    });

    it(`${s.name}: random truncation`, async () => {
      const r = rng(s.bytes.length);
      const quoteEnd = s.name.includes('quote') ? parseTdxQuote(s.bytes).quoteLength : s.bytes.length;
      for (let i = 0; i < 60; i++) {
        const len = r(quoteEnd);
        await neverAccepts(s.bytes.subarray(0, len), s.options, `truncate to ${len}`);
      }
    });

    it(`${s.name}: random multi-bit flips`, async () => {
      const r = rng(s.bytes.length * 31 + 7);
      const quoteEnd = s.name.includes('quote') ? parseTdxQuote(s.bytes).quoteLength : s.bytes.length;
      for (let i = 0; i < 80; i++) {
        const b = s.bytes.slice();
        const n = 1 + r(8);
        const offs: number[] = [];
        for (let k = 0; k < n; k++) {
          const off = r(quoteEnd);
          offs.push(off);
          b[off] ^= 1 << r(8);
        }
        if (Buffer.from(b).equals(Buffer.from(s.bytes))) continue; // flips cancelled out
        await neverAccepts(b, s.options, `flips at ${offs.join(',')}`);
      }
    });

    it(`${s.name}: oversized and undersized length fields`, async () => {
      for (const [off, width] of s.lengths) {
        for (const v of width === 2 ? [0, 1, 0x7fff, 0xffff] : [0, 1, 0x10000, 0x7fffffff, 0xffffffff]) {
          const b = s.bytes.slice();
          const dv = new DataView(b.buffer);
          if (width === 2) dv.setUint16(off, v, true);
          else dv.setUint32(off, v, true);
          const orig = width === 2 ? new DataView(s.bytes.buffer, s.bytes.byteOffset).getUint16(off, true) : new DataView(s.bytes.buffer, s.bytes.byteOffset).getUint32(off, true);
          if (orig === v) continue;
          await neverAccepts(b, s.options, `length at ${off} = ${v}`);
        }
      }
    });

    it(`${s.name}: wrong versions`, async () => {
      const [off, width, versions] = s.version;
      for (const v of versions) {
        const b = s.bytes.slice();
        const dv = new DataView(b.buffer);
        if (width === 2) dv.setUint16(off, v, true);
        else dv.setUint32(off, v, true);
        await neverAccepts(b, s.options, `version ${v}`);
      }
    });

    it(`${s.name}: mutated hex / base64 / JSON encodings`, async () => {
      const r = rng(s.bytes.length * 17 + 3);
      const hexText = Buffer.from(s.bytes).toString('hex');
      const b64 = Buffer.from(s.bytes).toString('base64');
      // Mutate only characters that encode the quote proper (zero padding after it is unsigned).
      const quoteEnd = s.name.includes('quote') ? parseTdxQuote(s.bytes).quoteLength : s.bytes.length;
      for (let i = 0; i < 20; i++) {
        const h = hexText.split('');
        h[r(quoteEnd * 2)] = '0123456789abcdefgZ '[r(19)]!;
        if (h.join('') !== hexText) await neverAccepts(new Uint8Array(Buffer.from(h.join(''))), s.options, 'hex mutation');
        const c = b64.split('');
        c[r(Math.floor((quoteEnd * 4) / 3))] = 'AZaz09+/=-_!'[r(12)]!;
        if (c.join('') !== b64) await neverAccepts(new Uint8Array(Buffer.from(c.join(''))), s.options, 'base64 mutation');
      }
      for (const env of [
        '{"evidence": 5}',
        '{"evidence": "zz"}',
        `{"evidence": "${b64}", "kind": "nvidia-gpu"}`,
        `{"evidence": "${b64}", "kind": "bogus"}`,
        `{"evidence": "${b64}", "certs": ["-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"]}`,
        `{"evidence": "${b64}", "auxblob": "${Buffer.alloc(30, 1).toString('base64')}"}`,
        `{"evidence": "${b64}", "platform": "simulated"}`,
        '{"attestation_report": {"policy": -1}}',
        '{"attestation_report": {"version": 2, "policy": 196608, "report_data": [1,2]}}',
        '[{"evidence": "AAAA", "certificate": "AAAA"}]',
        '{',
        '[]',
      ]) {
        await neverAccepts(new Uint8Array(Buffer.from(env)), s.options, `envelope ${env.slice(0, 40)}`);
      }
    });
  }

  it('random garbage of random sizes is refused as input, never crashes', async () => {
    const r = rng(12345);
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(r(3000));
      for (let k = 0; k < b.length; k++) b[k] = r(256);
      // Give half of them a plausible header so they reach the parsers.
      if (i % 4 === 1 && b.length >= 8) b.set([4, 0, 2, 0, 0x81, 0, 0, 0]);
      if (i % 4 === 2 && b.length >= 16) b.set([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0]);
      if (i % 4 === 3 && b.length >= 4) b.set([0x81, 0, 0, 0]);
      await neverAccepts(b, { at: new Date('2025-01-01') }, `garbage #${i}`);
    }
  });
});

describeVectors('fuzz: structure parsers throw only ModelsealError', () => {
  const only = (fn: () => unknown, what: string) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ModelsealError)) throw new Error(`${what}: non-ModelsealError ${(e as Error)?.stack ?? String(e)}`);
    }
  };

  it('certificates (DER and PEM), CRLs, SNP certificate tables', () => {
    const r = rng(999);
    const inputs = [read('snp/gsg_milan_vcek.der'), read('snp/teekit_gcp_milan_vcek.pem'), read('tdx/collateral/gtg_pckcrl_platform_2023-06.der'), read('snp/roots/amd_turin_ask_ark.pem')];
    for (const base of inputs) {
      for (let i = 0; i < 150; i++) {
        const b = i % 3 === 0 ? base.subarray(0, r(base.length)) : base.slice();
        if (i % 3 !== 0) for (let k = 0; k < 1 + r(4); k++) b[r(b.length)] ^= 1 << r(8);
        only(() => parseCertificates(b), 'parseCertificates');
        only(() => parseCrl(b), 'parseCrl');
        only(() => parseSnpCertTable(b), 'parseSnpCertTable');
      }
    }
  });

  it('raw parsers: SNP report, TDX quote, TDREPORT, input decoding', () => {
    const r = rng(4242);
    const inputs = [read('snp/gsg_milan_v2_attestation.bin'), read('tdx/gtg_quote_v5_tdx15.dat'), read('tdx/dcap_tdreport_tdx15.dat')];
    for (const base of inputs) {
      for (let i = 0; i < 200; i++) {
        const b = i % 2 === 0 ? base.subarray(0, r(base.length + 1)) : base.slice();
        if (i % 2 === 1) for (let k = 0; k < 1 + r(8); k++) b[r(b.length)] = r(256);
        only(() => parseSnpReport(b), 'parseSnpReport');
        only(() => parseTdxQuote(b), 'parseTdxQuote');
        only(() => parseTdReport(b), 'parseTdReport');
        only(() => decodeEvidenceInput(b), 'decodeEvidenceInput');
      }
    }
  });
});

describeVectors('fuzz: TDX collateral documents', () => {
  it('a mutated TCB Info or QE Identity is never accepted', async () => {
    const { mkdirSync, writeFileSync, copyFileSync } = await import('node:fs');
    const { tempDir } = await import('../helpers.js');
    const coll = join(T, 'tdx', 'collateral');
    const tcb = readFileSync(join(coll, 'gtg_tcbinfo_tdx_90c06f000000_2026-02.json'), 'utf8');
    const qe = readFileSync(join(coll, 'gtg_qeidentity_tdqe_2023-06.json'), 'utf8');
    const t = tempDir('modelseal-fuzz-coll-');
    try {
      const r = rng(777);
      const quote = read('tdx/gtg_quote_v5_tdx15.dat');
      const options = (dir: string): VerifyEvidenceOptions => ({ at: new Date('2026-02-10'), collateralDir: dir, collateralAt: new Date('2025-01-01') });
      for (let i = 0; i < 40; i++) {
        const dir = join(t.path, String(i));
        mkdirSync(dir);
        copyFileSync(join(coll, 'gtg_tcb_signing_chain.pem'), join(dir, 'chain.pem'));
        const mutateTcb = i % 2 === 0;
        const text = mutateTcb ? tcb : qe;
        const chars = text.split('');
        const pos = r(text.length);
        const repl = '0123456789abcdefABCDEF"{}[],: x'[r(31)]!;
        if (chars[pos] === repl) continue;
        chars[pos] = repl;
        writeFileSync(join(dir, 'tcb.json'), mutateTcb ? chars.join('') : tcb);
        writeFileSync(join(dir, 'qe.json'), mutateTcb ? qe : chars.join(''));
        try {
          const v = await verifyEvidence(quote, options(dir));
          // Either refused, or the mutation made the document unrecognisable / inapplicable (its key,
          // id or fmspc changed): then it was not used, and a warning says what was not checked.
          if (v.verified) {
            expect(mutateTcb ? v.claims.tcbInfo : v.claims.qeIdentity, `mutation at ${pos} of ${mutateTcb ? 'TCB Info' : 'QE Identity'} was used`).toBeUndefined();
            expect(v.warnings.join(' ')).toMatch(/ignored|No TD_QE identity|No TDX TCB Info/);
          }
        } catch (e) {
          if (!(e instanceof ModelsealError)) throw new Error(`mutation at ${pos}: non-ModelsealError ${(e as Error)?.stack ?? String(e)}`);
        }
      }
    } finally {
      t.cleanup();
    }
  });
});
