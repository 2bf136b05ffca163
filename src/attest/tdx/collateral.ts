/**
 * TDX collateral: Intel PCS TCB Info (id TDX, v3) and QE Identity (id TD_QE), their signatures, CRLs,
 * and the TCB status evaluation.
 *
 * Signatures are ECDSA P-256 r‖s (hex) over the exact bytes of the `tcbInfo` / `enclaveIdentity`
 * JSON value as served, so the raw text is cut out of the document, never re-serialised.
 *
 * The TCB evaluation follows go-tdx-guest's re-implementation of Intel's algorithm (not Intel's QVL):
 * the first level (in the document's descending order) where every SGX component SVN of the PCK
 * certificate, its PCESVN and the quote's TEE_TCB_SVN are ≥ the level's values; when
 * TEE_TCB_SVN[1] > 0 the first two TEE_TCB_SVN bytes are skipped there and the TDX module's status
 * comes from `tdxModuleIdentities["TDX_%02X"]` instead.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, VerificationError } from '../../errors.js';
import { decodeHexStrict } from '../core/input.js';
import { type Certificate, type Crl, parseCertificates, parseCrl, verifyEcdsaRaw } from '../../crypto/x509.js';
import { readInputFile } from '../../io/input-file.js';

/** One signed collateral document. */
export interface SignedCollateral<T> {
  file: string;
  /** The exact JSON text of the signed value. */
  signedText: string;
  value: T;
  signature: Uint8Array;
}

export interface TcbComponent {
  svn: number;
  category?: string;
  type?: string;
}
export interface TcbLevel {
  tcb: { sgxtcbcomponents: TcbComponent[]; pcesvn: number; tdxtcbcomponents: TcbComponent[] };
  tcbDate: string;
  tcbStatus: string;
  advisoryIDs?: string[];
}
export interface TdxModuleIdentity {
  id: string;
  mrsigner: string;
  attributes: string;
  attributesMask: string;
  tcbLevels: Array<{ tcb: { isvsvn: number }; tcbDate: string; tcbStatus: string; advisoryIDs?: string[] }>;
}
export interface TcbInfo {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  pceId: string;
  tcbType: number;
  tcbEvaluationDataNumber: number;
  tdxModule?: { mrsigner: string; attributes: string; attributesMask: string };
  tdxModuleIdentities?: TdxModuleIdentity[];
  tcbLevels: TcbLevel[];
}
export interface QeIdentity {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  tcbEvaluationDataNumber: number;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrsigner: string;
  isvprodid: number;
  tcbLevels: Array<{ tcb: { isvsvn: number }; tcbDate: string; tcbStatus: string; advisoryIDs?: string[] }>;
}

/** Everything found in a collateral directory. */
export interface CollateralSet {
  dir: string;
  tcbInfos: SignedCollateral<TcbInfo>[];
  qeIdentities: SignedCollateral<QeIdentity>[];
  certs: Certificate[];
  crls: Array<{ file: string; crl: Crl }>;
  /** Files that were not recognised (reported as warnings). */
  ignored: string[];
}

/**
 * Returns the exact text of the value of top-level `key` in a JSON object document, or undefined.
 * A tiny scanner: strings (with escapes) and nesting are tracked; everything else is skipped.
 */
export function topLevelJsonValueText(text: string, key: string): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    if (text[i] !== '"') throw new Error('expected string');
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) throw new Error('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const skipValue = () => {
    ws();
    const c = text[i];
    if (c === '"') return void str();
    if (c === '{' || c === '[') {
      let depth = 0;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          str();
          continue;
        }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      throw new Error('unterminated value');
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
  };
  ws();
  if (text[i] !== '{') return undefined;
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') return undefined;
    const k = str();
    ws();
    if (text[i] !== ':') throw new Error('expected :');
    i++;
    ws();
    const start = i;
    skipValue();
    if (k === key) return text.slice(start, i);
    ws();
    if (text[i] === ',') i++;
    else return undefined;
  }
}

function loadSigned<T>(file: string, text: string, key: string): SignedCollateral<T> {
  let doc: Record<string, unknown>;
  let signedText: string | undefined;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
    signedText = topLevelJsonValueText(text, key);
  } catch (e) {
    throw new InputError('TDX_COLLATERAL_MALFORMED', `Collateral file ${file} is not valid JSON: ${(e as Error).message}.`);
  }
  if (!signedText || typeof doc.signature !== 'string') {
    throw new InputError('TDX_COLLATERAL_MALFORMED', `Collateral file ${file} has no "${key}" value with a "signature".`);
  }
  let signature: Uint8Array;
  try {
    signature = decodeHexStrict(doc.signature);
  } catch {
    throw new InputError('TDX_COLLATERAL_MALFORMED', `Collateral file ${file}: the signature is not hex.`);
  }
  if (signature.length !== 64) throw new InputError('TDX_COLLATERAL_MALFORMED', `Collateral file ${file}: the signature must be 64 bytes (r‖s).`);
  return { file, signedText, value: doc[key] as T, signature };
}

/**
 * Loads a collateral directory: *.json (TCB Info, QE Identity), *.pem / *.crt / *.cer
 * (issuer chains), *.der / *.crl (CRLs, or DER certificates).
 * @throws InputError TDX_COLLATERAL_MALFORMED / COLLATERAL_UNREADABLE
 */
export function loadCollateralDir(dir: string): CollateralSet {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new InputError('COLLATERAL_UNREADABLE', `Cannot read the collateral directory ${dir}: ${(e as Error).message}.`);
  }
  const set: CollateralSet = { dir, tcbInfos: [], qeIdentities: [], certs: [], crls: [], ignored: [] };
  for (const name of names) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const data = new Uint8Array(readInputFile(file, 'collateral'));
    const lower = name.toLowerCase();
    if (lower.endsWith('.json')) {
      const text = Buffer.from(data).toString('utf8');
      if (/^\s*\{\s*"tcbInfo"/.test(text) || text.includes('"tcbInfo"')) set.tcbInfos.push(loadSigned<TcbInfo>(file, text, 'tcbInfo'));
      else if (text.includes('"enclaveIdentity"')) set.qeIdentities.push(loadSigned<QeIdentity>(file, text, 'enclaveIdentity'));
      else set.ignored.push(name);
    } else if (/\.(pem|crt|cer)$/.test(lower)) {
      set.certs.push(...parseCertificates(data));
    } else if (/\.(der|crl)$/.test(lower)) {
      // A DER file is either a CRL or a certificate: a CRL's TBS has no explicit [0] version tag
      // after its first SEQUENCE header, so try the CRL form first and fall back.
      try {
        set.crls.push({ file, crl: parseCrl(data) });
      } catch {
        try {
          set.certs.push(...parseCertificates(data));
        } catch {
          set.ignored.push(name);
        }
      }
    } else set.ignored.push(name);
  }
  return set;
}

/** Verifies a collateral signature with the signing certificate's key. */
export function collateralSignatureValid<T>(doc: SignedCollateral<T>, signer: Certificate): boolean {
  return verifyEcdsaRaw(signer.x509.publicKey, 'sha256', new Uint8Array(Buffer.from(doc.signedText, 'utf8')), doc.signature);
}

/** TCB statuses, best first (used to combine platform, TDX-module and QE statuses). */
export const TCB_STATUS_ORDER = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
  'NoMatchingTcbLevel',
] as const;

/** The worse of statuses (unknown strings rank as worst). */
export function worstStatus(...s: string[]): string {
  const rank = (x: string) => {
    const i = (TCB_STATUS_ORDER as readonly string[]).indexOf(x);
    return i < 0 ? TCB_STATUS_ORDER.length : i;
  };
  return s.reduce((a, b) => (rank(b) > rank(a) ? b : a));
}

/** Inputs of the TCB evaluation, from the quote and the PCK certificate. */
export interface TcbInputs {
  sgxTcbComponents: number[];
  pceSvn: number;
  teeTcbSvn: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
}

/** Result of {@link evaluateTdxTcb}. */
export interface TdxTcbEvaluation {
  platformStatus: string;
  tdxModuleStatus?: string;
  tdxModuleId?: string;
  tcbDate?: string;
  advisoryIds: string[];
}

function maskedEqual(value: Uint8Array, expected: Uint8Array, mask: Uint8Array): boolean {
  if (value.length !== expected.length || mask.length !== expected.length) return false;
  for (let i = 0; i < value.length; i++) if ((value[i]! & mask[i]!) !== (expected[i]! & mask[i]!)) return false;
  return true;
}

/**
 * Evaluates platform and TDX-module TCB status against a TCB Info.
 * @throws VerificationError TDX_TCB_MODULE_MISMATCH when the TDX module does not match the identity
 */
export function evaluateTdxTcb(info: TcbInfo, q: TcbInputs): TdxTcbEvaluation {
  const advisory = new Set<string>();
  const out: TdxTcbEvaluation = { platformStatus: 'NoMatchingTcbLevel', advisoryIds: [] };
  const moduleMajor = q.teeTcbSvn[1]!;
  const useIdentities = moduleMajor > 0 && Array.isArray(info.tdxModuleIdentities) && info.tdxModuleIdentities.length > 0;
  for (const level of info.tcbLevels ?? []) {
    const sgx = level.tcb.sgxtcbcomponents;
    const tdx = level.tcb.tdxtcbcomponents;
    if (!Array.isArray(sgx) || sgx.length !== 16 || !Array.isArray(tdx) || tdx.length !== 16) {
      throw new InputError('TDX_COLLATERAL_MALFORMED', 'A TCB level does not have 16 SGX and 16 TDX components.');
    }
    if (!sgx.every((c, i) => q.sgxTcbComponents[i]! >= c.svn)) continue;
    if (q.pceSvn < level.tcb.pcesvn) continue;
    const start = useIdentities ? 2 : 0;
    let ok = true;
    for (let i = start; i < 16; i++) if (q.teeTcbSvn[i]! < tdx[i]!.svn) ok = false;
    if (!ok) continue;
    out.platformStatus = level.tcbStatus;
    out.tcbDate = level.tcbDate;
    for (const a of level.advisoryIDs ?? []) advisory.add(a);
    break;
  }
  if (useIdentities) {
    const id = `TDX_${moduleMajor.toString(16).toUpperCase().padStart(2, '0')}`;
    out.tdxModuleId = id;
    const ident = info.tdxModuleIdentities!.find((m) => m.id.toUpperCase() === id);
    if (!ident) {
      throw new VerificationError('TDX_TCB_MODULE_MISMATCH', `The TCB Info has no TDX module identity ${id} (the quote's TEE_TCB_SVN[1] = ${moduleMajor}).`);
    }
    if (!maskedEqual(q.mrSignerSeam, decodeHexStrict(ident.mrsigner), new Uint8Array(48).fill(0xff)) ||
        !maskedEqual(q.seamAttributes, decodeHexStrict(ident.attributes), decodeHexStrict(ident.attributesMask))) {
      throw new VerificationError('TDX_TCB_MODULE_MISMATCH', `The quote's MRSIGNERSEAM / SEAM attributes do not match TDX module identity ${id}.`);
    }
    const lvl = ident.tcbLevels.find((l) => l.tcb.isvsvn <= q.teeTcbSvn[0]!);
    out.tdxModuleStatus = lvl ? lvl.tcbStatus : 'NoMatchingTcbLevel';
    for (const a of lvl?.advisoryIDs ?? []) advisory.add(a);
  } else if (info.tdxModule) {
    if (!maskedEqual(q.mrSignerSeam, decodeHexStrict(info.tdxModule.mrsigner), new Uint8Array(48).fill(0xff)) ||
        !maskedEqual(q.seamAttributes, decodeHexStrict(info.tdxModule.attributes), decodeHexStrict(info.tdxModule.attributesMask))) {
      throw new VerificationError('TDX_TCB_MODULE_MISMATCH', "The quote's MRSIGNERSEAM / SEAM attributes do not match the TCB Info's tdxModule.");
    }
  }
  out.advisoryIds = [...advisory].sort();
  return out;
}

/**
 * Matches the QE report against a QE Identity and returns the QE TCB status.
 * @throws VerificationError TDX_QE_IDENTITY_MISMATCH
 */
export function evaluateQeIdentity(
  id: QeIdentity,
  qe: { mrSigner: string; isvProdId: number; isvSvn: number; miscSelect: number; attributes: string },
): { status: string; advisoryIds: string[] } {
  if (id.id !== 'TD_QE') throw new VerificationError('TDX_QE_IDENTITY_MISMATCH', `QE Identity id is ${id.id}; a TDX quote needs TD_QE.`);
  const misc = new Uint8Array(4);
  new DataView(misc.buffer).setUint32(0, qe.miscSelect, false);
  if (
    id.mrsigner.toLowerCase() !== qe.mrSigner ||
    id.isvprodid !== qe.isvProdId ||
    !maskedEqual(misc, decodeHexStrict(id.miscselect), decodeHexStrict(id.miscselectMask)) ||
    !maskedEqual(decodeHexStrict(qe.attributes), decodeHexStrict(id.attributes), decodeHexStrict(id.attributesMask))
  ) {
    throw new VerificationError('TDX_QE_IDENTITY_MISMATCH', 'The quoting enclave (MRSIGNER, ISVPRODID, MISCSELECT or ATTRIBUTES) does not match the TD_QE identity: the quote was not produced by an Intel TD quoting enclave.');
  }
  const lvl = id.tcbLevels.find((l) => l.tcb.isvsvn <= qe.isvSvn);
  return { status: lvl ? lvl.tcbStatus : 'NoMatchingTcbLevel', advisoryIds: lvl?.advisoryIDs ?? [] };
}

/**
 * Picks the document to use at time `at`: among candidates issued at or before `at`, the one with
 * the highest tcbEvaluationDataNumber (then the latest issueDate); otherwise the earliest issued.
 */
export function pickCollateral<T extends { issueDate: string; tcbEvaluationDataNumber: number }>(docs: SignedCollateral<T>[], at: Date): SignedCollateral<T> | undefined {
  const issued = docs.filter((d) => Date.parse(d.value.issueDate) <= at.getTime());
  const cmp = (a: SignedCollateral<T>, b: SignedCollateral<T>) =>
    b.value.tcbEvaluationDataNumber - a.value.tcbEvaluationDataNumber || Date.parse(b.value.issueDate) - Date.parse(a.value.issueDate);
  if (issued.length > 0) return [...issued].sort(cmp)[0];
  return [...docs].sort((a, b) => Date.parse(a.value.issueDate) - Date.parse(b.value.issueDate))[0];
}
