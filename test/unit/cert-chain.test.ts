/**
 * The one chain verifier (src/crypto/chain.ts) on certificates made here with the openssl CLI:
 * a good chain, a wrong root, expiry, a non-CA issuer, a chain too long, a bad signature, the
 * simulated-root rule, partial chains and both path orders. The three callers' wording of these
 * verdicts is covered by their own suites (test/tee, test/interop, test/unit/sign.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainCert, isSelfSigned, verifyCertChain, type ChainCert, type ChainPolicy } from '../../src/crypto/chain.js';
import { hasOpenssl, OPENSSL_CA_CONFIG } from '../interop/pki.js';
import { tempDir } from '../helpers.js';

const EXT = [
  ...OPENSSL_CA_CONFIG,
  '[notca]',
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyCertSign',
  '[leaf]',
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  '',
].join('\n');

describe.skipIf(!hasOpenssl())('chain verifier (src/crypto/chain.ts)', () => {
  const t = tempDir();
  const certs = new Map<string, ChainCert>();
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: t.path, stdio: ['ignore', 'ignore', 'pipe'] });
  /** Makes `name` (P-256), self-signed when `issuer` is undefined. */
  const make = (name: string, cn: string, ext: 'ca' | 'notca' | 'leaf', issuer?: string) => {
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
    if (issuer === undefined) {
      ossl('req', '-new', '-x509', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '3650', '-extensions', ext, '-config', 'ext.cnf', '-out', `${name}.pem`);
    } else {
      ossl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-config', 'ext.cnf', '-out', `${name}.csr`);
      ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '365', '-extfile', 'ext.cnf', '-extensions', ext, '-out', `${name}.pem`);
    }
    certs.set(name, chainCert(new X509Certificate(readFileSync(join(t.path, `${name}.pem`)))));
  };
  const c = (name: string) => certs.get(name)!;
  const policy = (over: Partial<ChainPolicy<ChainCert>> = {}): ChainPolicy<ChainCert> => ({
    at: new Date(Date.now() + 86_400_000),
    anchors: [c('root')],
    order: 'search',
    maxLength: 8,
    requireCA: true,
    validity: 'each-step',
    ...over,
  });

  beforeAll(() => {
    writeFileSync(join(t.path, 'ext.cnf'), EXT);
    make('root', 'test root', 'ca');
    make('other', 'other root', 'ca');
    make('int', 'test intermediate', 'ca', 'root');
    make('leaf', 'test leaf', 'leaf', 'int');
    make('notca', 'not a CA', 'notca', 'root');
    make('leaf2', 'leaf under a non-CA', 'leaf', 'notca');
    make('i1', 'deep 1', 'ca', 'root');
    make('i2', 'deep 2', 'ca', 'i1');
    make('i3', 'deep 3', 'ca', 'i2');
    make('deep', 'deep leaf', 'leaf', 'i3');
    make('sim', 'SIMULATED test root', 'ca');
    make('simleaf', 'SIMULATED leaf', 'leaf', 'sim');
    // The leaf with one byte of its signature changed: it parses, but no key verifies it.
    const der = Buffer.from(c('leaf').x509.raw);
    der[der.length - 3]! ^= 0x01;
    certs.set('forged', chainCert(new X509Certificate(der)));
  });
  afterAll(() => t.cleanup());

  it('a good chain: leaf → intermediate → root, found in any order of the pool', () => {
    const v = verifyCertChain(c('leaf'), [c('other'), c('int')], policy());
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.path.map((x) => x.x509.subject)).toEqual(['CN=test leaf', 'CN=test intermediate', 'CN=test root']);
    expect(v.anchor).toBe(c('root'));
    expect(v.simulated).toBe(false);
  });

  it('a wrong root: the path ends at a self-signed certificate that is no anchor', () => {
    const v = verifyCertChain(c('leaf'), [c('int'), c('root')], policy({ anchors: [c('other')] }));
    expect(v).toMatchObject({ ok: false, reason: 'untrusted-self-signed', cert: c('root'), marked: false });
  });

  it('a missing issuer: no-issuer with no candidates', () => {
    const v = verifyCertChain(c('leaf'), [], policy());
    expect(v).toMatchObject({ ok: false, reason: 'no-issuer', cert: c('leaf'), index: 0, candidates: [] });
  });

  it('expired and not yet valid, each step or over the whole path', () => {
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(verifyCertChain(c('leaf'), [c('int')], policy({ at: later }))).toMatchObject({ ok: false, reason: 'expired', cert: c('leaf'), index: 0 });
    const before = new Date('2000-01-01T00:00:00Z');
    expect(verifyCertChain(c('leaf'), [c('int')], policy({ at: before }))).toMatchObject({ ok: false, reason: 'not-yet-valid', index: 0 });
    // whole-path: the links are judged first, validity after.
    expect(verifyCertChain(c('leaf'), [], policy({ at: later, validity: 'whole-path' }))).toMatchObject({ reason: 'no-issuer' });
    expect(verifyCertChain(c('leaf'), [c('int')], policy({ at: later, validity: 'whole-path' }))).toMatchObject({ reason: 'expired', index: 0 });
  });

  it('an issuer that is not a CA is refused when CAs are required, accepted when not', () => {
    expect(verifyCertChain(c('leaf2'), [c('notca')], policy())).toMatchObject({ ok: false, reason: 'issuer-not-ca', cert: c('leaf2'), issuer: c('notca') });
    expect(verifyCertChain(c('leaf2'), [c('notca')], policy({ requireCA: false })).ok).toBe(true);
  });

  it('a chain longer than maxLength is refused; the anchor counts', () => {
    const pool = [c('i3'), c('i2'), c('i1')];
    expect(verifyCertChain(c('deep'), pool, policy({ maxLength: 5 })).ok).toBe(true);
    expect(verifyCertChain(c('deep'), pool, policy({ maxLength: 4 }))).toMatchObject({ ok: false, reason: 'too-long' });
  });

  it('a bad signature: the issuer named by the certificate does not verify it', () => {
    const v = verifyCertChain(c('forged'), [c('int')], policy());
    expect(v).toMatchObject({ ok: false, reason: 'no-issuer', cert: c('forged') });
    if (v.ok || v.reason !== 'no-issuer') return;
    expect(v.candidates).toEqual([c('int')]);
  });

  it('simulated anchors: refused unless allowed; a marked self-signed non-anchor is reported as marked', () => {
    expect(verifyCertChain(c('simleaf'), [], policy({ simulatedAnchors: [c('sim')] }))).toMatchObject({ ok: false, reason: 'simulated-anchor' });
    const ok = verifyCertChain(c('simleaf'), [], policy({ simulatedAnchors: [c('sim')], allowSimulated: true }));
    expect(ok).toMatchObject({ ok: true, simulated: true });
    expect(verifyCertChain(c('simleaf'), [c('sim')], policy())).toMatchObject({ ok: false, reason: 'untrusted-self-signed', marked: true });
  });

  it('partial chains: a non-self-signed anchor ends the path only when allowed', () => {
    expect(isSelfSigned(c('int').x509)).toBe(false);
    expect(verifyCertChain(c('leaf'), [], policy({ anchors: [c('int')] }))).toMatchObject({ ok: false, reason: 'anchor-not-self-signed', cert: c('int') });
    const v = verifyCertChain(c('leaf'), [], policy({ anchors: [c('int')], allowPartialChain: true }));
    expect(v).toMatchObject({ ok: true, anchor: c('int') });
  });

  it('as-given order: each certificate is issued by the next; only the end meets the anchors', () => {
    const given = policy({ order: 'as-given', validity: 'whole-path', requireCA: false, maxLength: 4 });
    expect(verifyCertChain(c('leaf'), [c('int'), c('root')], given)).toMatchObject({ ok: true });
    // The anchor may be left out: the last given certificate is issued by it.
    const v = verifyCertChain(c('leaf'), [c('int')], given);
    expect(v.ok && v.path.length).toBe(3);
    // Out of order: the link leaf ← root does not hold, although a search would find the path.
    expect(verifyCertChain(c('leaf'), [c('root'), c('int')], given)).toMatchObject({ ok: false, reason: 'no-issuer', index: 0 });
    // A given path that passes through an anchor's bytes must still link up to its end.
    expect(verifyCertChain(c('leaf'), [c('int'), c('root'), c('other')], given)).toMatchObject({ ok: false, reason: 'no-issuer', index: 2 });
    expect(verifyCertChain(c('leaf'), [c('int')], { ...given, anchors: [c('other')] })).toMatchObject({ ok: false, reason: 'no-issuer', index: 1 });
  });
});
