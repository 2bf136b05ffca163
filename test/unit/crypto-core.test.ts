/**
 * The bytes / encoding / DER / X.509 core (src/crypto/): the one base64 decoder under each format's
 * rules, the byte reader's two ways of reading, and names in certificates (BMPString is UTF-16BE).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBase64Text } from '../../src/crypto/base64.js';
import { ByteReader, concatBytes, decodeHexText } from '../../src/crypto/bytes.js';
import { decodeDirectoryString, derChildren, derTlv, readDer, type DerNode } from '../../src/crypto/der.js';
import { parseCertificate } from '../../src/crypto/x509.js';
import { VECTORS_DIR, itVectors } from '../helpers.js';

const utf16be = (s: string): Uint8Array => {
  const le = Buffer.from(s, 'utf16le');
  return new Uint8Array(Buffer.from(le).swap16());
};

describe('BMPString names are UTF-16 big-endian', () => {
  it('decodes a BMPString value, including characters outside Latin-1', () => {
    const node = readDer(derTlv(0x1e, utf16be('Grüße €')), 0);
    expect(decodeDirectoryString(node)).toBe('Grüße €');
    // The bug this replaces read the bytes as UTF-16 little-endian: "\u4700\u7200…".
    expect(decodeDirectoryString(node)).not.toBe(Buffer.from(utf16be('Grüße €')).toString('utf16le'));
    expect(decodeDirectoryString(readDer(derTlv(0x0c, new Uint8Array(Buffer.from('Grüße', 'utf8'))), 0))).toBe('Grüße');
  });

  itVectors('a certificate whose organisation is a BMPString shows it readably in subject and issuer', () => {
    // The AMD ARK names O=Advanced Micro Devices (22 bytes, UTF8String/PrintableString); rewrite that
    // value as a BMPString of the same length. The signature no longer verifies, which parsing does not check.
    const der = new Uint8Array(readFileSync(join(VECTORS_DIR, 'tee', 'snp', 'gsg_milan_vcek.der')));
    const value = Buffer.from('Advanced Micro Devices', 'latin1');
    let patched = 0;
    for (let i = 2; i + value.length <= der.length; i++) {
      if (Buffer.from(der.subarray(i, i + value.length)).equals(value) && der[i - 1] === value.length) {
        der[i - 2] = 0x1e;
        der.set(utf16be('Advanced Mi'), i);
        patched++;
      }
    }
    expect(patched).toBeGreaterThan(0);
    const c = parseCertificate(der);
    expect(c.subject).toContain('O=Advanced Mi');
    expect(c.issuer).toContain('O=Advanced Mi');
  });
});

describe('one base64 decoder, one rule set per format', () => {
  it('standard alphabet only, canonical (attestation files)', () => {
    const rules = { alphabet: 'standard', canonical: true } as const;
    expect(decodeBase64Text('AQID', rules)).toEqual(Uint8Array.of(1, 2, 3));
    expect(decodeBase64Text('AQI', rules)).toEqual(Uint8Array.of(1, 2));
    expect(decodeBase64Text('AQJ=', rules)).toBeUndefined(); // stray low bits
    expect(decodeBase64Text('A_-D', rules)).toBeUndefined();
    expect(decodeBase64Text('AQ\nID', rules)).toBeUndefined();
  });

  it('one alphabet or the other, padding in whole groups (bundles)', () => {
    const rules = { alphabet: 'standard-or-url', strictPadding: true } as const;
    expect(decodeBase64Text('-_-_', rules)).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
    expect(decodeBase64Text('+_-_', rules)).toBeUndefined(); // both alphabets in one text
    expect(decodeBase64Text('AQ=', rules)).toBeUndefined();
    expect(decodeBase64Text('AQ==', rules)).toEqual(Uint8Array.of(1));
  });

  it('line breaks and both alphabets (PEM, evidence envelopes); garbage is never skipped', () => {
    const rules = { alphabet: 'mixed', whitespace: true } as const;
    expect(decodeBase64Text('AQ\r\nID\n', rules)).toEqual(Uint8Array.of(1, 2, 3));
    expect(decodeBase64Text('AQ*ID', rules)).toBeUndefined();
    expect(decodeBase64Text('A', rules)).toBeUndefined();
    expect(decodeBase64Text('', { ...rules, nonEmpty: true })).toBeUndefined();
  });

  it('hex: whitespace and 0x allowed, odd length and other characters refused', () => {
    expect(decodeHexText('0x01 02\n03')).toEqual(Uint8Array.of(1, 2, 3));
    expect(decodeHexText('012')).toBeUndefined();
    expect(decodeHexText('0g')).toBeUndefined();
    expect(decodeHexText('', { nonEmpty: true })).toBeUndefined();
  });
});

describe('the byte reader', () => {
  const bytes = concatBytes(Uint8Array.of(1), Uint8Array.of(0x34, 0x12), Uint8Array.of(0x56, 0x34, 0x12), Uint8Array.of(9, 9));
  it('reads fixed fields by offset and names the field when the input is short', () => {
    const r = new ByteReader(bytes, 'The test report');
    expect(r.u8(0, 'a')).toBe(1);
    expect(r.u16(1, 'b')).toBe(0x1234);
    expect(() => r.u32(5, 'tail')).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED', message: expect.stringMatching(/The test report is truncated: field tail/) }));
  });

  it('reads records from a cursor and throws RangeError past the end', () => {
    const r = new ByteReader(bytes);
    expect([r.next8(), r.next16(), r.next24()]).toEqual([1, 0x1234, 0x123456]);
    expect(r.remaining).toBe(2);
    expect(r.take(2)).toEqual(Uint8Array.of(9, 9));
    expect(() => r.next8()).toThrow(RangeError);
  });
});

describe('the DER reader', () => {
  it('reads nested TLVs and refuses lengths that run past the data', () => {
    const seq = derTlv(0x30, concatBytes(derTlv(0x02, Uint8Array.of(5)), derTlv(0x04, new Uint8Array(200))));
    const kids: DerNode[] = derChildren(readDer(seq, 0));
    expect(kids.map((k) => [k.tag, k.value.length])).toEqual([[0x02, 1], [0x04, 200]]);
    expect(() => readDer(seq.subarray(0, seq.length - 1), 0)).toThrow(expect.objectContaining({ code: 'DER_MALFORMED' }));
  });
});
