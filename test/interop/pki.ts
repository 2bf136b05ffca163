/**
 * Test PKI: EC keys per curve (node:crypto) and a root → intermediate → leaf certificate chain made
 * with the openssl CLI (skipped where openssl is missing). Test material only.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CURVES = ['P-256', 'P-384', 'P-521'] as const;
export type Curve = (typeof CURVES)[number];

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes a fresh EC key pair as PEM files; returns their paths. */
export function writeKeyPair(dir: string, name: string, curve: Curve, format: 'pkcs8' | 'sec1' = 'pkcs8'): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(priv, privateKey.export({ type: format, format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

/** The openssl config lines every test PKI here starts from: no prompts, and a CA extension section `[ca]`. */
export const OPENSSL_CA_CONFIG = [
  '[req]',
  'distinguished_name=dn',
  'prompt=no',
  '[dn]',
  'CN=unused',
  '[ca]',
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
];

function ossl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * root CA (P-384) → intermediate CA (P-256) → leaf (given curve, digitalSignature + codeSigning).
 * Returns PEM paths; `chain` holds the intermediate only (as model_signing users pass it).
 */
export function makeChain(dir: string, leafCurve: Curve, opts: { leafUsage?: 'ok' | 'none' } = {}): { rootCert: string; intCert: string; leafCert: string; leafKey: string } {
  const curveName: Record<Curve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
  const ext = join(dir, 'ext.cnf');
  writeFileSync(
    ext,
    [
      ...OPENSSL_CA_CONFIG,
      '[leaf]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
      '[leaf_none]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,keyEncipherment',
      '',
    ].join('\n'),
  );
  ossl(['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'root.key'], dir);
  ossl(['req', '-new', '-x509', '-key', 'root.key', '-subj', '/CN=modelseal test root', '-days', '3650', '-sha384', '-extensions', 'ca', '-config', ext, '-out', 'root.pem'], dir);
  ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'int.key'], dir);
  ossl(['req', '-new', '-key', 'int.key', '-subj', '/CN=modelseal test intermediate', '-config', ext, '-out', 'int.csr'], dir);
  ossl(['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '3650', '-sha384', '-extfile', ext, '-extensions', 'ca', '-out', 'int.pem'], dir);
  ossl(['ecparam', '-name', curveName[leafCurve], '-genkey', '-noout', '-out', 'leaf.key'], dir);
  ossl(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=modelseal test signer', '-config', ext, '-out', 'leaf.csr'], dir);
  ossl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '365', '-sha256', '-extfile', ext, '-extensions', opts.leafUsage === 'none' ? 'leaf_none' : 'leaf', '-out', 'leaf.pem'], dir);
  return { rootCert: join(dir, 'root.pem'), intCert: join(dir, 'int.pem'), leafCert: join(dir, 'leaf.pem'), leafKey: join(dir, 'leaf.key') };
}
