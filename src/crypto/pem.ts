/**
 * PEM certificates: the one place that finds CERTIFICATE blocks in text, decodes their base64 and
 * writes DER back out as PEM; and certificate lists given as PEM, one DER certificate or several
 * concatenated DER certificates.
 */
import { InputError } from '../errors.js';
import { decodeBase64Text } from './base64.js';
import { buf } from './bytes.js';
import { tryReadDer } from './der.js';

const BLOCK_RE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
// PEM bodies: line breaks anywhere, either base64 alphabet.
const PEM_BASE64 = { alphabet: 'mixed', whitespace: true } as const;

/**
 * The DER of every PEM CERTIFICATE block in `text`, strictly: a block whose base64 is damaged is an
 * error, never skipped. @throws InputError CERT_MALFORMED
 */
export function pemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const der = decodeBase64Text(m[1]!, PEM_BASE64);
    if (!der) throw new InputError('CERT_MALFORMED', 'A PEM certificate block is not valid base64.');
    out.push(der);
  }
  return out;
}

/** The DER of every PEM CERTIFICATE block in `text` whose base64 decodes (others are left out). */
export function pemCertificates(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const der = decodeBase64Text(m[1]!, { ...PEM_BASE64, nonEmpty: true, canonical: true });
    if (der) out.push(der);
  }
  return out;
}

/** PEM text of one DER certificate. */
export function derToPem(der: Uint8Array): string {
  const lines = buf(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * Certificates from one input: PEM text (one or many), one DER certificate, or a concatenation of
 * DER certificates. NULs after PEM (NVML pads its buffer) are ignored.
 */
export function certificatesFromBytes(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > 0 && bytes[0] === 0x30) {
    const out: Uint8Array[] = [];
    let off = 0;
    while (off < bytes.length && bytes[off] === 0x30) {
      const node = tryReadDer(bytes, off);
      if (!node) break;
      out.push(bytes.slice(off, node.end));
      off = node.end;
    }
    if (out.length > 0) return out;
  }
  return pemCertificates(buf(bytes).toString('latin1'));
}
