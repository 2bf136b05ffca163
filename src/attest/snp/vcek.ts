/**
 * VCEK / VLEK certificate extensions (AMD spec #57230; OIDs under 1.3.6.1.4.1.3704.1): struct
 * version, product name, the TCB security patch levels (SPLs) and hwID (VCEK) or CSP id (VLEK).
 */
import { InputError } from '../../errors.js';
import { toHex } from '../../crypto/bytes.js';
import { type Certificate, findExtension } from '../../crypto/x509.js';
import { decodeSmallInt, readDer } from '../../crypto/der.js';
import type { SnpProduct } from './report.js';

const AMD_OID = '1.3.6.1.4.1.3704.1';

/** AMD extensions of a VCEK or VLEK. */
export interface VekInfo {
  kind: 'vcek' | 'vlek';
  structVersion?: number;
  /** productName as in the certificate, e.g. `Milan-B0`, `Genoa`, `Turin`. */
  productName?: string;
  /** The product family (the part before `-`), when it names a known product. */
  product?: SnpProduct;
  blSpl?: number;
  teeSpl?: number;
  snpSpl?: number;
  ucodeSpl?: number;
  fmcSpl?: number;
  /** VCEK: hardware id (64 bytes, or 8 on Turin), hex. */
  hwId?: string;
  /** How hwID was encoded: raw bytes (older KDS) or a DER OCTET STRING (newer KDS). */
  hwIdEncoding?: 'raw' | 'octet-string';
  /** VLEK: cloud service provider id, e.g. `CN=cc-us-east-2.amazonaws.com`. */
  cspId?: string;
}

function intExt(cert: Certificate, oid: string): number | undefined {
  const e = findExtension(cert, oid);
  if (!e) return undefined;
  const n = readDer(e.value, 0);
  if (n.tag !== 0x02 || n.end !== e.value.length) throw new InputError('CERT_MALFORMED', `AMD extension ${oid} is not a DER INTEGER.`);
  return decodeSmallInt(n.value);
}

function stringExt(cert: Certificate, oid: string): string | undefined {
  const e = findExtension(cert, oid);
  if (!e) return undefined;
  const n = readDer(e.value, 0);
  if (![0x16, 0x0c, 0x13].includes(n.tag) || n.end !== e.value.length) {
    throw new InputError('CERT_MALFORMED', `AMD extension ${oid} is not a string.`);
  }
  return Buffer.from(n.value).toString('utf8');
}

/** Product family named by a VCEK/VLEK productName (`Milan-B0` → Milan). */
export function productFromName(name: string | undefined): SnpProduct | undefined {
  const base = name?.split('-')[0];
  return base === 'Milan' || base === 'Genoa' || base === 'Turin' ? base : undefined;
}

/**
 * Reads the AMD extensions of a VCEK/VLEK. The kind comes from the subject CN (`SEV-VCEK` /
 * `SEV-VLEK`).
 * @throws InputError CERT_MALFORMED for a malformed AMD extension, SNP_NOT_A_VEK for another cert
 */
export function parseVekExtensions(cert: Certificate): VekInfo {
  const kind = cert.commonName === 'SEV-VCEK' ? 'vcek' : cert.commonName === 'SEV-VLEK' ? 'vlek' : undefined;
  if (!kind) throw new InputError('SNP_NOT_A_VEK', `Certificate "${cert.commonName}" is not a VCEK or VLEK.`);
  try {
    const info: VekInfo = { kind };
    const set = <K extends keyof VekInfo>(k: K, v: VekInfo[K] | undefined) => {
      if (v !== undefined) info[k] = v;
    };
    set('structVersion', intExt(cert, `${AMD_OID}.1`));
    set('productName', stringExt(cert, `${AMD_OID}.2`));
    set('product', productFromName(info.productName));
    set('blSpl', intExt(cert, `${AMD_OID}.3.1`));
    set('teeSpl', intExt(cert, `${AMD_OID}.3.2`));
    set('snpSpl', intExt(cert, `${AMD_OID}.3.3`));
    set('ucodeSpl', intExt(cert, `${AMD_OID}.3.8`));
    set('fmcSpl', intExt(cert, `${AMD_OID}.3.9`));
    set('cspId', stringExt(cert, `${AMD_OID}.5`));
    const hw = findExtension(cert, `${AMD_OID}.4`);
    if (hw) {
      // Newer KDS wraps the id in an OCTET STRING; older certificates carry the raw bytes. A raw
      // 64-byte id can itself start with 0x04, so the wrapped form is accepted only when its DER
      // length covers the value exactly.
      let id = hw.value;
      let enc: 'raw' | 'octet-string' = 'raw';
      if (id.length >= 2 && id[0] === 0x04) {
        try {
          const n = readDer(id, 0);
          if (n.end === id.length && (n.value.length === 64 || n.value.length === 8)) {
            id = n.value;
            enc = 'octet-string';
          }
        } catch {
          /* raw */
        }
      }
      info.hwId = toHex(id);
      info.hwIdEncoding = enc;
    }
    return info;
  } catch (e) {
    if (e instanceof InputError && e.code === 'CERT_MALFORMED') throw e;
    throw new InputError('CERT_MALFORMED', `The AMD extensions of "${cert.commonName}" do not parse: ${(e as Error).message}`, { cause: e });
  }
}
