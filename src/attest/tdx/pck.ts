/**
 * The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1, Intel "PCK Certificate and
 * CRL Specification"): PPID, TCB (16 component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type.
 */
import { InputError } from '../../errors.js';
import { toHex } from '../../crypto/bytes.js';
import { type Certificate, findExtension } from '../../crypto/x509.js';
import { type DerNode, decodeOid, decodeSmallInt, derChildren, readDer } from '../../crypto/der.js';

const SGX_EXT = '1.2.840.113741.1.13.1';

/** Fields of a PCK certificate's SGX extension. */
export interface PckInfo {
  ppid?: string;
  /** SGX TCB component SVNs 1..16 (index 0 = component 1). */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn?: string;
  pceId: string;
  fmspc: string;
  sgxType?: number;
}

function pairs(node: DerNode): Array<{ oid: string; value: DerNode }> {
  return derChildren(node).map((seq) => {
    const [o, v] = derChildren(seq);
    if (!o || o.tag !== 0x06 || !v) throw new InputError('CERT_MALFORMED', 'PCK SGX extension entry is not {OID, value}.');
    return { oid: decodeOid(o.value), value: v };
  });
}

/**
 * Parses the SGX extension of a PCK leaf certificate.
 * @throws InputError TDX_PCK_EXTENSION when absent or malformed
 */
export function parsePckExtension(cert: Certificate): PckInfo {
  const ext = findExtension(cert, SGX_EXT);
  if (!ext) throw new InputError('TDX_PCK_EXTENSION', `Certificate "${cert.commonName}" has no Intel SGX extension (${SGX_EXT}); it is not a PCK certificate.`);
  try {
    const top = readDer(ext.value, 0);
    const info: Partial<PckInfo> & { sgxTcbComponents: number[] } = { sgxTcbComponents: new Array<number>(16).fill(-1) };
    for (const { oid, value } of pairs(top)) {
      const sub = oid.slice(SGX_EXT.length + 1);
      if (sub === '1') info.ppid = toHex(value.value);
      else if (sub === '2') {
        for (const t of pairs(value)) {
          const idx = Number(t.oid.slice(`${SGX_EXT}.2.`.length));
          if (idx >= 1 && idx <= 16) info.sgxTcbComponents[idx - 1] = decodeSmallInt(t.value.value.length === 0 ? new Uint8Array([0]) : t.value.value);
          else if (idx === 17) info.pceSvn = decodeSmallInt(t.value.value);
          else if (idx === 18) info.cpuSvn = toHex(t.value.value);
        }
      } else if (sub === '3') info.pceId = toHex(value.value);
      else if (sub === '4') info.fmspc = toHex(value.value);
      else if (sub === '5') info.sgxType = decodeSmallInt(value.value);
    }
    if (info.sgxTcbComponents.some((v) => v < 0) || info.pceSvn === undefined || !info.fmspc || !info.pceId) {
      throw new Error('missing TCB components, PCESVN, FMSPC or PCE-ID');
    }
    if (info.fmspc.length !== 12) throw new Error('FMSPC is not 6 bytes');
    return info as PckInfo;
  } catch (e) {
    if (e instanceof InputError && e.code === 'TDX_PCK_EXTENSION') throw e;
    throw new InputError('TDX_PCK_EXTENSION', `The SGX extension of the PCK certificate does not parse: ${(e as Error).message}.`, { cause: e });
  }
}
