/**
 * A minimal X.509 v3 certificate builder for the simulated platform (DER by hand, signatures by
 * node:crypto), so that simulated chains have the same shape as the vendors': ECDSA P-256/P-384 and
 * RSASSA-PSS, vendor extensions as raw DER. Only what the simulator needs; not a general CA.
 */
import { type KeyObject, constants, randomBytes, sign as cryptoSign } from 'node:crypto';
import { buf, concatBytes } from '../../crypto/bytes.js';
import { derTlv, oidContent } from '../../crypto/der.js';

export type SimSignatureAlgorithm = 'ecdsa-sha256' | 'ecdsa-sha384' | 'rsa-pss-sha384';

export interface SimExtension {
  oid: string;
  critical?: boolean;
  /** DER of the extension value (the contents of extnValue). */
  value: Uint8Array;
}

export interface SimCertificateParams {
  /** Relative distinguished names in order, e.g. [['CN', 'SEV-VCEK'], ['O', 'SIMULATED AMD']]. */
  subject: [string, string][];
  issuer: [string, string][];
  publicKey: KeyObject;
  signingKey: KeyObject;
  algorithm: SimSignatureAlgorithm;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  extensions?: SimExtension[];
}

const ATTR_OIDS: Record<string, string> = { CN: '2.5.4.3', C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', L: '2.5.4.7', ST: '2.5.4.8', serialNumber: '2.5.4.5' };

export const seq = (...parts: Uint8Array[]): Uint8Array => derTlv(0x30, concatBytes(...parts));
export const oid = (o: string): Uint8Array => derTlv(0x06, oidContent(o));
export const octets = (b: Uint8Array): Uint8Array => derTlv(0x04, b);
export const utf8 = (s: string): Uint8Array => derTlv(0x0c, new Uint8Array(Buffer.from(s, 'utf8')));
export const ia5 = (s: string): Uint8Array => derTlv(0x16, new Uint8Array(Buffer.from(s, 'latin1')));

/** DER INTEGER of a non-negative number or big-endian magnitude. */
export function int(v: number | Uint8Array): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'number') {
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.unshift(x & 0xff);
      x = Math.floor(x / 256);
    } while (x > 0);
    b = new Uint8Array(bytes);
  } else {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    b = v.subarray(i);
  }
  if (b[0]! & 0x80) b = concatBytes(new Uint8Array([0]), b);
  return derTlv(0x02, b);
}

function name(rdns: [string, string][]): Uint8Array {
  return seq(
    ...rdns.map(([k, v]) => {
      const o = ATTR_OIDS[k];
      if (!o) throw new RangeError(`unknown name attribute ${k}`);
      // Country is a PrintableString; everything else UTF8String.
      const val = k === 'C' ? derTlv(0x13, new Uint8Array(Buffer.from(v, 'latin1'))) : utf8(v);
      return derTlv(0x31, seq(oid(o), val));
    }),
  );
}

function time(d: Date): Uint8Array {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  if (y < 2050) return derTlv(0x17, new Uint8Array(Buffer.from(`${p(y % 100)}${rest}`, 'latin1')));
  return derTlv(0x18, new Uint8Array(Buffer.from(`${p(y, 4)}${rest}`, 'latin1')));
}

function algorithmId(a: SimSignatureAlgorithm): Uint8Array {
  if (a === 'ecdsa-sha256') return seq(oid('1.2.840.10045.4.3.2'));
  if (a === 'ecdsa-sha384') return seq(oid('1.2.840.10045.4.3.3'));
  // RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48: the parameters AMD's ARK/ASK use.
  const sha384 = seq(oid('2.16.840.1.101.3.4.2.2'));
  return seq(
    oid('1.2.840.113549.1.1.10'),
    seq(derTlv(0xa0, sha384), derTlv(0xa1, seq(oid('1.2.840.113549.1.1.8'), sha384)), derTlv(0xa2, int(48))),
  );
}

/** Builds and signs one certificate; returns its DER. */
export function buildCertificate(p: SimCertificateParams): Uint8Array {
  const serial = new Uint8Array(randomBytes(16));
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01;
  const exts: Uint8Array[] = [];
  if (p.isCA) exts.push(seq(oid('2.5.29.19'), derTlv(0x01, new Uint8Array([0xff])), octets(seq(derTlv(0x01, new Uint8Array([0xff]))))));
  for (const e of p.extensions ?? []) {
    exts.push(e.critical ? seq(oid(e.oid), derTlv(0x01, new Uint8Array([0xff])), octets(e.value)) : seq(oid(e.oid), octets(e.value)));
  }
  const spki = new Uint8Array(p.publicKey.export({ type: 'spki', format: 'der' }));
  const tbs = seq(
    derTlv(0xa0, int(2)),
    int(serial),
    algorithmId(p.algorithm),
    name(p.issuer),
    seq(time(p.notBefore), time(p.notAfter)),
    name(p.subject),
    spki,
    ...(exts.length > 0 ? [derTlv(0xa3, seq(...exts))] : []),
  );
  const hash = p.algorithm === 'ecdsa-sha256' ? 'sha256' : 'sha384';
  const sig =
    p.algorithm === 'rsa-pss-sha384'
      ? cryptoSign(hash, buf(tbs), { key: p.signingKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 })
      : cryptoSign(hash, buf(tbs), p.signingKey);
  return seq(tbs, algorithmId(p.algorithm), derTlv(0x03, concatBytes(new Uint8Array([0]), new Uint8Array(sig))));
}
