/**
 * The one base64 decoder. Node's `Buffer.from(text, 'base64')` silently skips characters outside the
 * alphabet, so every caller that reads hostile input (bundles, attestation files, PEM blocks, evidence
 * envelopes) goes through this check first. The formats differ in what they allow, so the rules are
 * parameters; callers turn `undefined` into their own error code and sentence.
 */
import { InputError } from '../errors.js';

/** What a format allows. */
export interface Base64Rules {
  /**
   * `standard`: `A–Z a–z 0–9 + /` only; `standard-or-url`: all of one alphabet or all of the URL-safe
   * one (`- _`), as DSSE allows; `mixed`: both alphabets in one text (PEM and evidence envelopes).
   */
  alphabet: 'standard' | 'standard-or-url' | 'mixed';
  /** Whitespace (line breaks of PEM and hex dumps) is removed before decoding. */
  whitespace?: boolean;
  /** Refuse stray low bits in the last character: one byte string, one text. */
  canonical?: boolean;
  /** Refuse the empty text. */
  nonEmpty?: boolean;
  /** When `=` padding is present, the text must be a whole number of 4-character groups. */
  strictPadding?: boolean;
}

const STANDARD_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_RE = /^[A-Za-z0-9_-]*={0,2}$/;
const MIXED_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes `text` under `rules`; undefined when it breaks one of them. */
export function decodeBase64Text(text: string, rules: Base64Rules): Uint8Array | undefined {
  const t = rules.whitespace ? text.replace(/\s+/g, '') : text;
  if (rules.nonEmpty && t.length === 0) return undefined;
  const standard = STANDARD_RE.test(t);
  const ok = rules.alphabet === 'standard' ? standard : rules.alphabet === 'mixed' ? MIXED_RE.test(t) : standard || URL_RE.test(t);
  if (!ok) return undefined;
  const body = t.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  if (rules.strictPadding && t.includes('=') && t.length % 4 !== 0) return undefined;
  const std = standard ? t : t.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Buffer.from(std, 'base64');
  if (rules.canonical && bytes.toString('base64').replace(/=+$/, '') !== std.replace(/=+$/, '')) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Standard base64 with padding (what Sigstore bundles, DSSE envelopes and PEM carry). */
export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** Base64 as vendors write it in evidence files, JSON and XML: line breaks, either alphabet, canonical, not empty. */
export const VENDOR_TEXT_BASE64: Base64Rules = { alphabet: 'mixed', whitespace: true, canonical: true, nonEmpty: true };

/**
 * Strict base64 decoding for bundle fields (standard or URL-safe alphabet, padding optional, as DSSE
 * allows; the encoding must be canonical): a bundle with characters Node's decoder would skip is
 * refused as corrupt.
 */
export function decodeBase64Strict(text: unknown, field: string): Buffer {
  if (typeof text !== 'string') throw new InputError('BUNDLE_MALFORMED', `${field} is missing or not a string.`);
  const rules = { alphabet: 'standard-or-url', strictPadding: true } as const;
  if (!decodeBase64Text(text, rules)) throw new InputError('BUNDLE_BASE64_INVALID', `${field} is not valid base64; the bundle is corrupt.`);
  // Stray low bits in the last character decode to the same bytes as the canonical text: refuse them,
  // as docs/oms.md says, so one byte string has one encoding.
  const bytes = decodeBase64Text(text, { ...rules, canonical: true });
  if (!bytes) {
    throw new InputError('BUNDLE_BASE64_INVALID', `${field} is not canonical base64 (stray bits in its last character); the bundle is corrupt.`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
