/**
 * Sigstore keyless signing (model_signing's default `sign sigstore`): an OIDC identity token buys a
 * short-lived Fulcio certificate for a fresh key, the DSSE signature over the OMS statement is
 * logged in Rekor (and optionally timestamped by a TSA), and the result is a Sigstore bundle v0.3 that
 * `verify --sigstore-identity/--sigstore-issuer` and model_signing accept. The protocol clients are
 * sigstore-js's (@sigstore/sign); this needs network access to the Sigstore services (public-good
 * by default, or the URLs given).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError, ModelsealError, UnavailableError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, encodeStatement, manifestToStatement } from '../manifest/statement.js';
import { serializeBundle, type SigstoreBundleJson } from './bundle.js';
import { defaultBundlePath, hashModelForSigning, signResult, writeFileAtomic, type SignModelOptions, type SignModelResult } from './sign-model.js';

/** The public-good Sigstore instance (what model_signing and cosign use by default). */
export const SIGSTORE_PUBLIC_GOOD = {
  fulcioURL: 'https://fulcio.sigstore.dev',
  rekorURL: 'https://rekor.sigstore.dev',
  tsaURL: 'https://timestamp.sigstore.dev',
} as const;

/** Sigstore's staging instance (model_signing's --use_staging): test signatures only. */
export const SIGSTORE_STAGING = {
  fulcioURL: 'https://fulcio.sigstage.dev',
  rekorURL: 'https://rekor.sigstage.dev',
  tsaURL: 'https://timestamp.sigstage.dev',
} as const;

/** Identity tokens are a few kB; a larger "token file" is a wrong path. */
const MAX_TOKEN_BYTES = 64 * 1024;

/** A JWT is three base64url parts; a token file may end with a newline. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Options of signModelKeyless: hashing and output as for signModel, then where the token and services are. */
export type KeylessSignOptions = Omit<SignModelOptions, 'privateKey' | 'password' | 'certificate' | 'chain' | 'signer' | 'dryRun' | 'merkle'> & {
  /**
   * The OIDC identity token (a JWT). Default: the ambient CI credentials as sigstore-js finds them
   * (GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_* variables, or SIGSTORE_ID_TOKEN).
   */
  identityToken?: string;
  fulcioURL?: string;
  rekorURL?: string;
  /** Also get an RFC 3161 timestamp from this TSA (default: none; Rekor's integrated time serves). */
  tsaURL?: string;
  /** HTTP timeout per request, ms (default 30 000). */
  timeoutMs?: number;
};

/** The claims a Fulcio certificate is made from, read (not verified: Fulcio verifies) from the token. */
export function identityTokenClaims(token: string): { iss?: string; sub?: string; email?: string } {
  const t = token.trim();
  if (!JWT.test(t)) throw new InputError('IDENTITY_TOKEN_INVALID', 'the identity token is not a JWT (three base64url parts separated by dots); pass the OIDC token itself, or a file holding it.');
  try {
    return JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString('utf8')) as { iss?: string; sub?: string; email?: string };
  } catch (e) {
    throw new InputError('IDENTITY_TOKEN_INVALID', 'the identity token payload is not JSON; pass an OIDC identity token.', { cause: e });
  }
}

/**
 * The identity token from a command-line value: the token itself, or the path of a file holding it
 * (as CI systems write them). A JWT never names an existing file, so the two cannot be confused.
 */
export function readIdentityToken(valueOrPath: string): string {
  if (JWT.test(valueOrPath.trim()) || !existsSync(valueOrPath)) return valueOrPath.trim();
  const fd = openSync(valueOrPath, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_TOKEN_BYTES) throw new InputError('IDENTITY_TOKEN_INVALID', `${valueOrPath} is not a token file (a regular file of at most ${MAX_TOKEN_BYTES / 1024} KiB).`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    for (let n = 1; off < buf.length && n > 0; off += n) n = readSync(fd, buf, off, buf.length - off, off);
    return buf.subarray(0, off).toString('utf8').trim();
  } finally {
    closeSync(fd);
  }
}

type SigstoreSign = typeof import('@sigstore/sign');

async function loadSigstoreSign(): Promise<SigstoreSign> {
  try {
    return await import('@sigstore/sign');
  } catch (e) {
    throw new UnavailableError('SIGSTORE_SIGN_UNAVAILABLE', `keyless signing needs the '@sigstore/sign' package, which could not be loaded (${(e as Error).message}); reinstall dependencies.`, { cause: e });
  }
}

/** Turns sigstore-js failures (network, Fulcio/Rekor refusals, no ambient token) into one sentence. */
function keylessError(step: string, e: unknown): ModelsealError {
  if (e instanceof ModelsealError) return e;
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
  const msg = (e instanceof Error ? e.message : String(e)) + cause;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (/no tokens available/i.test(msg)) {
    return new InputError('IDENTITY_TOKEN_MISSING', 'no OIDC identity token: pass --identity-token TOKEN (or a file holding it), or run where sigstore-js finds ambient credentials (GitHub Actions with id-token: write, or SIGSTORE_ID_TOKEN).', { cause: e });
  }
  if (code.startsWith('IDENTITY_TOKEN')) {
    return new InputError('IDENTITY_TOKEN_INVALID', `the identity token was refused (${msg}); pass a valid OIDC identity token.`, { cause: e });
  }
  return new UnavailableError('KEYLESS_SIGNING_FAILED', `keyless signing failed at ${step} (${code ? `${code}: ` : ''}${msg}); real Sigstore signing needs network access to Fulcio and Rekor.`, { cause: e });
}

/**
 * Signs a model keylessly with Sigstore and writes the bundle (default `<model>.sig` beside it).
 *
 * @example
 * await signModelKeyless('./model', { identityToken: process.env.TOKEN });
 */
export async function signModelKeyless(modelPath: string, options: KeylessSignOptions = {}): Promise<SignModelResult> {
  // The companion is a DSSE envelope signed by the bundle's own signer; a keyless signer exists only
  // inside sigstore-js for one bundle, so a companion would need a second certificate and log entry
  // and a verifier for it. Until that exists, say so instead of writing a bundle without the companion.
  if ((options as { merkle?: unknown }).merkle !== undefined && (options as { merkle?: unknown }).merkle !== false) {
    throw new InputError('USAGE', 'a Merkle companion (merkle / --merkle) is not available with keyless signing; sign with a key (--key) or a certificate (--cert) for a companion, or drop --merkle.');
  }
  const sign = await loadSigstoreSign();
  const token = options.identityToken?.trim();
  if (token !== undefined) identityTokenClaims(token);
  const output = resolve(options.output ?? defaultBundlePath(modelPath));
  if (!options.force && existsSync(output)) {
    throw new InputError('OUTPUT_EXISTS', `${output} already exists; pass --force to replace it, or -o to write elsewhere.`);
  }
  const fetchOptions = { timeout: options.timeoutMs ?? 30_000, retry: 2 };
  const identityProvider = token !== undefined ? { getToken: () => Promise.resolve(token) } : new sign.CIContextProvider('sigstore');
  const signer = new sign.FulcioSigner({ fulcioBaseURL: options.fulcioURL ?? SIGSTORE_PUBLIC_GOOD.fulcioURL, identityProvider, ...fetchOptions });
  const witnesses: InstanceType<SigstoreSign['RekorWitness'] | SigstoreSign['TSAWitness']>[] = [
    new sign.RekorWitness({ rekorBaseURL: options.rekorURL ?? SIGSTORE_PUBLIC_GOOD.rekorURL, entryType: 'dsse', ...fetchOptions }),
  ];
  if (options.tsaURL !== undefined) witnesses.push(new sign.TSAWitness({ tsaBaseURL: options.tsaURL, ...fetchOptions }));
  // Without a ready token, ask for the ambient one now: fail before hashing terabytes.
  if (token === undefined) {
    try {
      await identityProvider.getToken();
    } catch (e) {
      throw keylessError('the identity token', e);
    }
  }

  const h = await hashModelForSigning(modelPath, options, output);
  const t0 = performance.now();
  const statement = manifestToStatement(h.manifest);
  let bundle: SigstoreBundleJson;
  try {
    const built = await new sign.DSSEBundleBuilder({ signer, witnesses }).create({ data: Buffer.from(encodeStatement(statement)), type: IN_TOTO_PAYLOAD_TYPE });
    const { bundleToJSON } = await import('@sigstore/bundle');
    bundle = bundleToJSON(built) as unknown as SigstoreBundleJson;
  } catch (e) {
    throw keylessError('Fulcio/Rekor', e);
  }
  const tw = performance.now();
  writeFileAtomic(output, serializeBundle(bundle), options.force === true);
  const t1 = performance.now();
  const claims = token !== undefined ? identityTokenClaims(token) : {};
  const description = `Sigstore keyless${claims.email ?? claims.sub ? `: ${claims.email ?? claims.sub}` : ''}${claims.iss ? ` (issuer ${claims.iss})` : ''}`;
  return signResult(h, { bundlePath: output, bundle, statement, signer: description }, { t0, tw, t1 });
}
