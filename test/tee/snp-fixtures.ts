/**
 * Synthetic SEV-SNP evidence for the paths no public vector covers (Turin reports, unknown products,
 * TCB / hwID mismatches, simulated roots): a real byte layout signed by freshly generated keys.
 * Subjects of the generated roots say SIMULATED unless a test needs an impostor root.
 */
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';

// A minimal DER writer: enough to issue test certificates with arbitrary extensions (node:crypto
// cannot issue certificates, and generating them here keeps the fixtures free of extra packages).
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...len, ...body]);
}
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const seq = (...parts: Uint8Array[]) => tlv(0x30, cat(...parts));
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    let v = Math.floor(n / 128);
    while (v > 0) {
      bytes.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...bytes);
  }
  return tlv(0x06, Uint8Array.from(out));
}
function derInt(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}
const derIa5 = (s: string) => tlv(0x16, new Uint8Array(Buffer.from(s, 'latin1')));
const derOctets = (b: Uint8Array) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, new Uint8Array(Buffer.from(s, 'utf8')));
function name(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), utf8(cn))), tlv(0x31, seq(oid('2.5.4.10'), utf8('modelseal test'))));
}
function utcTime(d: Date): Uint8Array {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, new Uint8Array(Buffer.from(s, 'latin1')));
}
const ECDSA_SHA384 = seq(oid('1.2.840.10045.4.3.3'));

interface Issued {
  der: Uint8Array;
}
/** Issues an ECDSA-SHA384 certificate; extensions are [oid, critical, DER value]. */
function issue(o: { serial: number; subject: string; issuer: string; notBefore: Date; notAfter: Date; publicKey: KeyObject; signingKey: KeyObject; extensions: Array<[string, boolean, Uint8Array]> }): Issued {
  const spki = new Uint8Array(o.publicKey.export({ type: 'spki', format: 'der' }));
  const exts = o.extensions.map(([id, critical, value]) => seq(oid(id), ...(critical ? [tlv(0x01, Uint8Array.from([0xff]))] : []), derOctets(value)));
  const tbs = seq(
    tlv(0xa0, derInt(2)),
    derInt(o.serial),
    ECDSA_SHA384,
    name(o.issuer),
    seq(utcTime(o.notBefore), utcTime(o.notAfter)),
    name(o.subject),
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const sig = cryptoSign('sha384', tbs, o.signingKey);
  return { der: seq(tbs, ECDSA_SHA384, tlv(0x03, cat(Uint8Array.from([0]), new Uint8Array(sig)))) };
}
const CA_EXTS: Array<[string, boolean, Uint8Array]> = [
  ['2.5.29.19', true, seq(tlv(0x01, Uint8Array.from([0xff])))],
  ['2.5.29.15', true, tlv(0x03, Uint8Array.from([0x01, 0x06]))],
];
const ec384 = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });

export interface SyntheticTcb {
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

export interface SyntheticOptions {
  product: 'Milan' | 'Genoa' | 'Turin' | 'Siena';
  /** Name in the root's subject; default `SIMULATED ARK-<product>`. */
  rootName?: string;
  tcb?: SyntheticTcb;
  /** TCB written into the VCEK (default: tcb). */
  certTcb?: SyntheticTcb;
  chipId?: Uint8Array;
  /** hwID written into the VCEK (default: chip id, 8 bytes on Turin). */
  hwId?: Uint8Array;
  cpuid?: [number, number, number];
  version?: 3 | 5;
  notAfter?: Date;
}

export interface SyntheticSnp {
  report: Uint8Array;
  vcek: Uint8Array;
  ask: Uint8Array;
  root: Uint8Array;
  vcekKey: KeyObject;
}

/** Signs bytes [0, 0x2A0) of a report with the VCEK key, storing r/s little-endian. */
export function signSnpReport(report: Uint8Array, key: KeyObject): void {
  const rs = cryptoSign('sha384', report.subarray(0, 0x2a0), { key, dsaEncoding: 'ieee-p1363' });
  report.fill(0, 0x2a0);
  report.set(Uint8Array.from(rs.subarray(0, 48)).reverse(), 0x2a0);
  report.set(Uint8Array.from(rs.subarray(48, 96)).reverse(), 0x2e8);
}

function writeTcb(report: Uint8Array, off: number, t: SyntheticTcb, turin: boolean): void {
  if (turin) {
    report[off] = t.fmc ?? 0;
    report[off + 1] = t.bootloader;
    report[off + 2] = t.tee;
    report[off + 3] = t.snp;
  } else {
    report[off] = t.bootloader;
    report[off + 1] = t.tee;
    report[off + 6] = t.snp;
  }
  report[off + 7] = t.microcode;
}

/** Builds a signed report, a VCEK with AMD extensions, an ASK and a self-signed root. */
export function syntheticSnp(o: SyntheticOptions): SyntheticSnp {
  const turin = o.product === 'Turin';
  const tcb = o.tcb ?? (turin ? { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5 } : { bootloader: 2, tee: 0, snp: 9, microcode: 200 });
  const certTcb = o.certTcb ?? tcb;
  const chip = o.chipId ?? (turin ? Uint8Array.from([...Array.from({ length: 8 }, (_, i) => 0x11 * (i + 1)), ...new Array<number>(56).fill(0)]) : Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 251));
  const hwId = o.hwId ?? (turin ? chip.subarray(0, 8) : chip);
  const rootKeys = ec384();
  const askKeys = ec384();
  const vcekKeys = ec384();
  const notBefore = new Date('2024-01-01T00:00:00Z');
  const notAfter = o.notAfter ?? new Date('2031-01-01T00:00:00Z');
  const rootName = o.rootName ?? `SIMULATED ARK-${o.product}`;
  const askName = o.rootName ? `SEV-${o.product}` : `SEV-${o.product} SIMULATED`;
  const root = issue({ serial: 1, subject: rootName, issuer: rootName, notBefore, notAfter, publicKey: rootKeys.publicKey, signingKey: rootKeys.privateKey, extensions: CA_EXTS });
  const ask = issue({ serial: 2, subject: askName, issuer: rootName, notBefore, notAfter, publicKey: askKeys.publicKey, signingKey: rootKeys.privateKey, extensions: CA_EXTS });
  const amd = '1.3.6.1.4.1.3704.1';
  const vekExts: Array<[string, boolean, Uint8Array]> = [
    [`${amd}.1`, false, derInt(turin ? 1 : 0)],
    [`${amd}.2`, false, derIa5(o.product === 'Milan' ? 'Milan-B0' : o.product)],
    [`${amd}.3.1`, false, derInt(certTcb.bootloader)],
    [`${amd}.3.2`, false, derInt(certTcb.tee)],
    [`${amd}.3.3`, false, derInt(certTcb.snp)],
    [`${amd}.3.8`, false, derInt(certTcb.microcode)],
    [`${amd}.4`, false, derOctets(hwId)],
  ];
  if (turin) vekExts.push([`${amd}.3.9`, false, derInt(certTcb.fmc ?? 0)]);
  const vcek = issue({ serial: 0, subject: 'SEV-VCEK', issuer: askName, notBefore, notAfter, publicKey: vcekKeys.publicKey, signingKey: askKeys.privateKey, extensions: vekExts });
  const report = new Uint8Array(0x4a0);
  const dv = new DataView(report.buffer);
  dv.setUint32(0, o.version ?? 3, true);
  dv.setBigUint64(0x08, 0x30000n, true);
  dv.setUint32(0x34, 1, true);
  for (const off of [0x38, 0x180, 0x1e0, 0x1f0]) writeTcb(report, off, tcb, turin);
  report.set(Uint8Array.from({ length: 64 }, (_, i) => i), 0x50);
  report.set(Uint8Array.from({ length: 48 }, (_, i) => 0xa0 ^ i), 0x90);
  report.fill(0xff, 0x160, 0x180);
  const [fam, mod, step] = o.cpuid ?? (turin ? [0x1a, 0x02, 0x01] : o.product === 'Genoa' ? [0x19, 0x11, 0x01] : o.product === 'Milan' ? [0x19, 0x01, 0x01] : [0x17, 0x31, 0x00]);
  report[0x188] = fam;
  report[0x189] = mod;
  report[0x18a] = step;
  report.set(chip, 0x1a0);
  report[0x1e8] = 1;
  report[0x1e9] = 55;
  report[0x1ea] = 1;
  const vcekKey = vcekKeys.privateKey;
  signSnpReport(report, vcekKey);
  return { report, vcek: vcek.der, ask: ask.der, root: root.der, vcekKey };
}
