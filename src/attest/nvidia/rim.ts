/**
 * NVIDIA RIMs (reference integrity manifests): ISO/IEC 19770-2 SWID tags with TCG RIM-IM metadata,
 * signed with an enveloped XML-DSig (ECDSA P-384 / SHA-384, Canonical XML 1.1). This module holds
 * a deliberately small XML reader and a Canonical XML 1.1 (without comments) serialiser that cover
 * what RIMs contain: elements, attributes, namespaces, text, character/entity references. Anything
 * outside that (DTDs, unknown transforms or algorithms) is refused rather than guessed at.
 */
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import { InputError } from '../../errors.js';
import { buf, bytesEqual } from '../../crypto/bytes.js';
import { VENDOR_TEXT_BASE64, decodeBase64Text } from '../../crypto/base64.js';
import { rawEcdsaToDer } from '../../crypto/der.js';

const fromBase64Text = (text: string): Uint8Array | undefined => decodeBase64Text(text, VENDOR_TEXT_BASE64);
import { verifyDeviceChain } from './chain.js';
import { nvidiaRimRoots } from './roots.js';

interface XmlAttr {
  qname: string;
  value: string;
}
export interface XmlElement {
  qname: string;
  attrs: XmlAttr[];
  children: XmlNode[];
  parent: XmlElement | undefined;
}
type XmlNode = XmlElement | string;

const XMLNS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const C14N11 = 'http://www.w3.org/2006/12/xml-c14n11';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
const SHA384_URIS = new Set(['http://www.w3.org/2001/04/xmldsig-more#sha384', 'http://www.w3.org/2001/04/xmlenc#sha384']);
const SWID = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd';
const RIM_HASH_NS = 'http://www.w3.org/2001/04/xmlenc#sha384';

function xmlError(msg: string): InputError {
  return new InputError('NV_RIM_MALFORMED', `The RIM is not well-formed XML of the supported kind: ${msg}.`);
}

function decodeEntities(s: string, where: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, e: string | undefined) => {
    if (!e) throw xmlError(`bare '&' in ${where}`);
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw xmlError(`bad character reference ${m}`);
      return String.fromCodePoint(cp);
    }
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const v = named[e];
    if (v === undefined) throw xmlError(`unknown entity ${m}`);
    return v;
  });
}

/** Parses the XML subset described in the module comment into an element tree. */
export function parseXml(text: string): XmlElement {
  const s = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let root: XmlElement | undefined;
  let cur: XmlElement | undefined;
  const nameRe = /[A-Za-z_][\w.:-]*/y;
  const readName = (): string => {
    nameRe.lastIndex = i;
    const m = nameRe.exec(s);
    if (!m) throw xmlError(`expected a name at offset ${i}`);
    i += m[0].length;
    return m[0];
  };
  const skipWs = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  while (i < s.length) {
    if (s[i] !== '<') {
      const j = s.indexOf('<', i);
      const end = j < 0 ? s.length : j;
      const raw = s.slice(i, end);
      if (cur) cur.children.push(decodeEntities(raw, 'text'));
      else if (raw.trim() !== '') throw xmlError('text outside the root element');
      i = end;
      continue;
    }
    if (s.startsWith('<?', i)) {
      const j = s.indexOf('?>', i);
      if (j < 0) throw xmlError('unterminated processing instruction');
      if (cur) throw xmlError('processing instructions inside elements are not supported');
      i = j + 2;
      continue;
    }
    if (s.startsWith('<!--', i)) {
      const j = s.indexOf('-->', i);
      if (j < 0) throw xmlError('unterminated comment');
      i = j + 3; // C14N without comments drops them
      continue;
    }
    if (s.startsWith('<![CDATA[', i)) {
      const j = s.indexOf(']]>', i);
      if (j < 0 || !cur) throw xmlError('bad CDATA section');
      cur.children.push(s.slice(i + 9, j));
      i = j + 3;
      continue;
    }
    if (s.startsWith('<!', i)) throw xmlError('DTDs and declarations are not accepted');
    if (s.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipWs();
      if (s[i] !== '>' || !cur || cur.qname !== name) throw xmlError(`mismatched end tag </${name}>`);
      i++;
      cur = cur.parent;
      continue;
    }
    i++;
    const qname = readName();
    const el: XmlElement = { qname, attrs: [], children: [], parent: cur };
    for (;;) {
      const before = i;
      skipWs();
      if (s[i] === '/' && s[i + 1] === '>') {
        i += 2;
        break;
      }
      if (s[i] === '>') {
        i++;
        cur = el;
        break;
      }
      if (i === before) throw xmlError(`expected whitespace before an attribute of <${qname}>`);
      const an = readName();
      skipWs();
      if (s[i] !== '=') throw xmlError(`attribute ${an} has no value`);
      i++;
      skipWs();
      const q = s[i];
      if (q !== '"' && q !== "'") throw xmlError(`attribute ${an} is not quoted`);
      const j = s.indexOf(q, i + 1);
      if (j < 0) throw xmlError(`unterminated attribute ${an}`);
      const rawv = s.slice(i + 1, j);
      if (rawv.includes('<')) throw xmlError(`'<' in attribute ${an}`);
      // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes a space.
      const v = decodeEntities(rawv.replace(/[\t\n]/g, ' '), `attribute ${an}`);
      if (el.attrs.some((a) => a.qname === an)) throw xmlError(`duplicate attribute ${an}`);
      el.attrs.push({ qname: an, value: v });
      i = j + 1;
    }
    if (el.parent) el.parent.children.push(el);
    else if (root) throw xmlError('more than one root element');
    else root = el;
  }
  if (!root || cur) throw xmlError('document is incomplete');
  return root;
}

function prefixOf(qname: string): string {
  const k = qname.indexOf(':');
  return k < 0 ? '' : qname.slice(0, k);
}
function localOf(qname: string): string {
  const k = qname.indexOf(':');
  return k < 0 ? qname : qname.slice(k + 1);
}
function isNsDecl(a: XmlAttr): boolean {
  return a.qname === 'xmlns' || a.qname.startsWith('xmlns:');
}

/** In-scope namespace declarations of `el` (prefix → URI; '' = default). */
function inScope(el: XmlElement): Map<string, string> {
  const chain: XmlElement[] = [];
  for (let e: XmlElement | undefined = el; e; e = e.parent) chain.unshift(e);
  const m = new Map<string, string>();
  for (const e of chain) for (const a of e.attrs) if (isNsDecl(a)) m.set(a.qname === 'xmlns' ? '' : a.qname.slice(6), a.value);
  return m;
}

function nsUri(el: XmlElement, prefix: string): string {
  if (prefix === 'xml') return XML_NS;
  if (prefix === 'xmlns') return XMLNS;
  for (let e: XmlElement | undefined = el; e; e = e.parent) {
    for (const a of e.attrs) {
      if (prefix === '' ? a.qname === 'xmlns' : a.qname === `xmlns:${prefix}`) return a.value;
    }
  }
  if (prefix !== '') throw xmlError(`undeclared namespace prefix ${prefix}`);
  return '';
}

const escText = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escAttr = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');

/**
 * Canonical XML 1.1 without comments of the subtree at `apex`, omitting `exclude` (the enveloped
 * signature). When `apex` is not the document element, every namespace in scope at the apex is
 * rendered on it (inclusive canonicalisation of a document subset).
 */
export function canonicalize(apex: XmlElement, exclude?: XmlElement): string {
  const out: string[] = [];
  const walk = (el: XmlElement, rendered: Map<string, string>): void => {
    const ns = el === apex ? inScope(el) : new Map(Array.from(el.attrs.filter(isNsDecl), (a) => [a.qname === 'xmlns' ? '' : a.qname.slice(6), a.value] as [string, string]));
    const emit: [string, string][] = [];
    const next = new Map(rendered);
    for (const [p, uri] of ns) {
      const have = rendered.get(p) ?? '';
      if (p === '' && uri === '' && have === '') continue;
      if (rendered.has(p) ? have === uri : false) continue;
      emit.push([p, uri]);
      next.set(p, uri);
    }
    emit.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const attrs = el.attrs
      .filter((a) => !isNsDecl(a))
      .map((a) => ({ a, uri: prefixOf(a.qname) === '' ? '' : nsUri(el, prefixOf(a.qname)), local: localOf(a.qname) }));
    attrs.sort((x, y) => (x.uri !== y.uri ? (x.uri < y.uri ? -1 : 1) : x.local < y.local ? -1 : x.local > y.local ? 1 : 0));
    out.push('<', el.qname);
    for (const [p, uri] of emit) out.push(' ', p === '' ? 'xmlns' : `xmlns:${p}`, '="', escAttr(uri), '"');
    for (const { a } of attrs) out.push(' ', a.qname, '="', escAttr(a.value), '"');
    out.push('>');
    for (const c of el.children) {
      if (typeof c === 'string') out.push(escText(c));
      else if (c !== exclude) walk(c, next);
    }
    out.push('</', el.qname, '>');
  };
  walk(apex, new Map());
  return out.join('');
}

function findAll(el: XmlElement, uri: string, local: string, acc: XmlElement[] = []): XmlElement[] {
  if (localOf(el.qname) === local && nsUri(el, prefixOf(el.qname)) === uri) acc.push(el);
  for (const c of el.children) if (typeof c !== 'string') findAll(c, uri, local, acc);
  return acc;
}
function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => typeof c !== 'string' && localOf(c.qname) === local && nsUri(c, prefixOf(c.qname)) === DSIG);
}
function attr(el: XmlElement, uri: string, local: string): string | undefined {
  for (const a of el.attrs) {
    if (isNsDecl(a) || localOf(a.qname) !== local) continue;
    const p = prefixOf(a.qname);
    if ((p === '' ? '' : nsUri(el, p)) === uri) return a.value;
  }
  return undefined;
}
function textOf(el: XmlElement): string {
  return el.children.filter((c): c is string => typeof c === 'string').join('');
}

export interface RimMeasurement {
  index: number;
  active: boolean;
  /** The allowed SHA-384 values (Hash0..HashN-1), lower-case hex. */
  alternatives: string[];
  name?: string;
}

export interface ParsedRim {
  tagId: string;
  product?: string;
  /** Version the RIM applies to (driver version or VBIOS version), as written. */
  colloquialVersion?: string;
  measurements: RimMeasurement[];
  signature: {
    digestValue: Uint8Array;
    signatureValue: Uint8Array;
    certificates: Uint8Array[];
    signedInfoC14n: string;
    referenceC14n: string;
  };
}

/** Parses a RIM and its signature block (no cryptography). Throws InputError NV_RIM_MALFORMED / NV_RIM_UNSUPPORTED. */
export function parseRim(bytes: Uint8Array): ParsedRim {
  const root = parseXml(buf(bytes).toString('utf8'));
  if (localOf(root.qname) !== 'SoftwareIdentity' || nsUri(root, prefixOf(root.qname)) !== SWID) throw xmlError('the root element is not a SWID SoftwareIdentity');
  const sigs = findAll(root, DSIG, 'Signature');
  if (sigs.length !== 1 || sigs[0]!.parent !== root) throw xmlError(`expected exactly one enveloped ds:Signature under the root, found ${sigs.length}`);
  const sig = sigs[0]!;
  const si = child(sig, 'SignedInfo');
  const sv = child(sig, 'SignatureValue');
  if (!si || !sv) throw xmlError('ds:Signature lacks SignedInfo or SignatureValue');
  const unsupported = (what: string): InputError => new InputError('NV_RIM_UNSUPPORTED', `The RIM's signature uses ${what}, which this verifier does not implement (supported: enveloped signature, Canonical XML 1.1, ECDSA P-384 with SHA-384).`);
  const cm = child(si, 'CanonicalizationMethod');
  if (!cm || attr(cm, '', 'Algorithm') !== C14N11) throw unsupported(`canonicalization ${cm ? attr(cm, '', 'Algorithm') : '(none)'}`);
  const sm = child(si, 'SignatureMethod');
  if (!sm || attr(sm, '', 'Algorithm') !== ECDSA_SHA384) throw unsupported(`signature method ${sm ? attr(sm, '', 'Algorithm') : '(none)'}`);
  const refs = si.children.filter((c): c is XmlElement => typeof c !== 'string' && localOf(c.qname) === 'Reference');
  if (refs.length !== 1 || attr(refs[0]!, '', 'URI') !== '') throw unsupported('a reference other than the whole document (URI="")');
  const ref = refs[0]!;
  const tr = child(ref, 'Transforms');
  const algs = tr ? tr.children.filter((c): c is XmlElement => typeof c !== 'string').map((t) => attr(t, '', 'Algorithm')) : [];
  if (!(algs.length >= 1 && algs[0] === ENVELOPED && algs.slice(1).every((a) => a === C14N11))) throw unsupported(`transforms [${algs.join(', ')}]`);
  const dm = child(ref, 'DigestMethod');
  if (!dm || !SHA384_URIS.has(attr(dm, '', 'Algorithm') ?? '')) throw unsupported(`digest method ${dm ? attr(dm, '', 'Algorithm') : '(none)'}`);
  const dv = child(ref, 'DigestValue');
  const digestValue = dv ? fromBase64Text(textOf(dv)) : undefined;
  const signatureValue = fromBase64Text(textOf(sv));
  if (!digestValue || digestValue.length !== 48) throw xmlError('DigestValue is not 48 bytes of base64');
  if (!signatureValue || signatureValue.length !== 96) throw xmlError('SignatureValue is not a 96-byte ECDSA P-384 r‖s');
  const certificates = findAll(sig, DSIG, 'X509Certificate').map((c) => fromBase64Text(textOf(c)));
  if (certificates.length === 0 || certificates.some((c) => !c)) throw xmlError('KeyInfo has no (valid) X509Certificate');

  const meta = root.children.find((c): c is XmlElement => typeof c !== 'string' && localOf(c.qname) === 'Meta');
  const measurements: RimMeasurement[] = [];
  for (const r of findAll(root, SWID, 'Resource')) {
    if (attr(r, '', 'type') !== 'Measurement') continue;
    const index = Number(attr(r, '', 'index'));
    const n = Number(attr(r, '', 'alternatives') ?? '1');
    if (!Number.isInteger(index) || index < 0 || index > 255 || !Number.isInteger(n) || n < 0 || n > 64) throw xmlError('a Measurement resource has a bad index or alternatives count');
    const alternatives: string[] = [];
    for (let k = 0; k < n; k++) {
      const h = attr(r, RIM_HASH_NS, `Hash${k}`);
      if (h === undefined || !/^[0-9a-fA-F]{96}$/.test(h)) throw xmlError(`Measurement ${index} lacks a SHA-384 Hash${k}`);
      alternatives.push(h.toLowerCase());
    }
    const name = attr(r, '', 'name');
    measurements.push({ index, active: (attr(r, '', 'active') ?? '').toLowerCase() === 'true', alternatives, ...(name ? { name } : {}) });
  }
  const product = meta ? attr(meta, '', 'product') : undefined;
  const colloquialVersion = meta ? attr(meta, '', 'colloquialVersion') : undefined;
  return {
    tagId: attr(root, '', 'tagId') ?? '',
    ...(product ? { product } : {}),
    ...(colloquialVersion ? { colloquialVersion } : {}),
    measurements,
    signature: {
      digestValue,
      signatureValue,
      certificates: certificates as Uint8Array[],
      signedInfoC14n: canonicalize(si),
      referenceC14n: canonicalize(root, sig),
    },
  };
}

export type RimCheck =
  | { ok: true; rim: ParsedRim; simulated: boolean; chain: string[] }
  | { ok: false; code: string; message: string; simulated: boolean; rim?: ParsedRim };

/**
 * Verifies a RIM's XML-DSig: the SHA-384 of the canonical document without its signature equals
 * DigestValue, the ECDSA signature over canonical SignedInfo verifies with the first certificate, and
 * that certificate chains to the pinned NVIDIA CoRIM signing Root CA (or a simulated root when allowed).
 */
export function verifyRim(bytes: Uint8Array, o: { at: Date; allowSimulated: boolean; simulatedRoots?: Uint8Array[] | undefined }): RimCheck {
  let rim: ParsedRim;
  try {
    rim = parseRim(bytes);
  } catch (e) {
    const err = e as InputError;
    return { ok: false, code: err.code ?? 'NV_RIM_MALFORMED', message: err.message, simulated: false };
  }
  const digest = createHash('sha384').update(rim.signature.referenceC14n, 'utf8').digest();
  if (!bytesEqual(new Uint8Array(digest), rim.signature.digestValue)) {
    return { ok: false, code: 'NV_RIM_SIGNATURE', message: `RIM ${rim.tagId.slice(0, 16)}…: the document's SHA-384 does not equal the signed DigestValue; the RIM was modified after signing.`, simulated: false, rim };
  }
  let sigOk = false;
  try {
    const leaf = new X509Certificate(buf(rim.signature.certificates[0]!));
    sigOk = cryptoVerify('sha384', Buffer.from(rim.signature.signedInfoC14n, 'utf8'), leaf.publicKey, buf(rawEcdsaToDer(rim.signature.signatureValue)));
  } catch {
    sigOk = false;
  }
  if (!sigOk) {
    return { ok: false, code: 'NV_RIM_SIGNATURE', message: `RIM ${rim.tagId.slice(0, 16)}…: the XML signature does not verify with the signer certificate it names.`, simulated: false, rim };
  }
  const chain = verifyDeviceChain(rim.signature.certificates, {
    pinnedRoots: nvidiaRimRoots(),
    at: o.at,
    allowSimulated: o.allowSimulated,
    simulatedRoots: o.simulatedRoots,
    prefix: 'NV_RIM',
  });
  if (!chain.ok) return { ok: false, code: chain.code, message: `RIM signer chain: ${chain.message}`, simulated: chain.simulated, rim };
  return { ok: true, rim, simulated: chain.simulated, chain: chain.subjects };
}
