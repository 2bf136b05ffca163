import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itVectors, VECTORS_DIR, whenVectors } from '../helpers.js';
import { canonicalize, parseRim, parseXml, verifyRim } from '../../src/attest/nvidia/rim.js';

const RIM_DIR = join(VECTORS_DIR, 'tee', 'nvidia', 'rims');
// The RIM signer leaves (HCC RIM L4 Signer) expire 2025-06-22; verify inside their validity.
const AT = new Date('2024-06-01T00:00:00Z');
const files = whenVectors(() => readdirSync(RIM_DIR).filter((f) => f.endsWith('.swidtag')).sort(), []);

describe('NVIDIA RIM XML-DSig', () => {
  itVectors('finds the 26 RIM vectors', () => {
    expect(files.length).toBe(26);
  });

  itVectors.each(files)('%s: signature and chain to the pinned CoRIM root verify', (f) => {
    const r = verifyRim(new Uint8Array(readFileSync(join(RIM_DIR, f))), { at: AT, allowSimulated: false });
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    expect(r.ok).toBe(true);
    expect(r.rim.measurements.length).toBe(64);
    expect(r.chain[r.chain.length - 1]).toBe('NVIDIA CoRIM signing Root CA');
  });

  itVectors('parses the version and active measurements of a VBIOS RIM', () => {
    const rim = parseRim(new Uint8Array(readFileSync(join(RIM_DIR, '1010_0200_882_96005E0001_PROD.swidtag'))));
    expect(rim.colloquialVersion).toBe('96.00.5E.00.01');
    expect(rim.product).toBe('GH100');
    expect(rim.measurements[1]!.alternatives[0]).toBe('c3f65ef79a19c029868cd7ce54b10e44f192444edb3506dde29cef2aac4e916c90a4f438e55aa7581a9e384c74d82db6');
  });

  itVectors('fails after the signer certificate expired (time is an input)', () => {
    const r = verifyRim(new Uint8Array(readFileSync(join(RIM_DIR, files[0]!))), { at: new Date('2026-11-01T00:00:00Z'), allowSimulated: false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('NV_RIM_CERT_EXPIRED');
  });

  itVectors('detects any change to a measurement value, an attribute or the signature', () => {
    const orig = readFileSync(join(RIM_DIR, files[0]!), 'utf8');
    const i = orig.indexOf('Hash0="c3f6') + 7;
    const edited = orig.slice(0, i) + 'd' + orig.slice(i + 1);
    const r1 = verifyRim(new Uint8Array(Buffer.from(edited)), { at: AT, allowSimulated: false });
    expect(r1.ok ? 'ok' : r1.code).toBe('NV_RIM_SIGNATURE');
    const j = orig.indexOf('colloquialVersion="') + 19;
    const edited2 = orig.slice(0, j) + (orig[j] === '8' ? '7' : '8') + orig.slice(j + 1);
    const r2 = verifyRim(new Uint8Array(Buffer.from(edited2)), { at: AT, allowSimulated: false });
    expect(r2.ok ? 'ok' : r2.code).toBe('NV_RIM_SIGNATURE');
    const k = orig.indexOf('<ds:SignatureValue>') + 20;
    const c = orig[k] === 'A' ? 'B' : 'A';
    const edited3 = orig.slice(0, k) + c + orig.slice(k + 1);
    const r3 = verifyRim(new Uint8Array(Buffer.from(edited3)), { at: AT, allowSimulated: false });
    expect(r3.ok ? 'ok' : r3.code).toBe('NV_RIM_SIGNATURE');
  });

  it('canonicalises per C14N 1.1: sorted attributes, expanded empty elements, escapes, inherited namespaces', () => {
    const doc = parseXml('<r xmlns="urn:a" xmlns:b="urn:b"><e z="1" b:y="2" a="x&#xA;&lt;&quot;"/><b:s><t>a&amp;b&gt;</t></b:s></r>');
    expect(canonicalize(doc)).toBe('<r xmlns="urn:a" xmlns:b="urn:b"><e a="x&#xA;&lt;&quot;" z="1" b:y="2"></e><b:s><t>a&amp;b&gt;</t></b:s></r>');
    const s = (doc.children[1] as { qname: string }) as never;
    expect(canonicalize(s)).toBe('<b:s xmlns="urn:a" xmlns:b="urn:b"><t>a&amp;b&gt;</t></b:s>');
  });

  it('refuses DTDs and malformed XML with NV_RIM_MALFORMED', () => {
    for (const bad of ['<!DOCTYPE x [<!ENTITY a "b">]><x/>', '<a><b></a>', '<a x=1/>', '<a>&foo;</a>', '']) {
      const r = verifyRim(new Uint8Array(Buffer.from(bad)), { at: AT, allowSimulated: false });
      expect(r.ok ? 'ok' : r.code).toBe('NV_RIM_MALFORMED');
    }
  });
});
