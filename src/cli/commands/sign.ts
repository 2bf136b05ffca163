/**
 * `modelseal sign <model> --key KEY.pem [--cert LEAF.pem --chain CHAIN.pem]`: an OMS bundle that
 * model_signing verifies. model_signing's flag spellings are accepted as hidden aliases.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { defaultBundlePath, readIdentityToken, signModel, signModelKeyless, SIGSTORE_STAGING, type KeylessSignOptions, type SignModelOptions } from '../../index.js';
import { collect, formatBytes, parseSize } from '../args.js';
import { addSignAttestOptions, preflightSignAttest, signAttestStep, type SignAttestFlags } from '../attest-options.js';
import { addModelSigningSpellings, checkMethodFlags, oneSpelling as one, splitMethod, type PkiMethod } from '../model-signing.js';
import { addHashingOptions, hashingOptionsFrom, type HashingFlags } from '../hashing-options.js';
import { contextOf, info, runAction, writeJson } from '../output.js';
import { withProgress } from '../progress.js';

interface SignFlags extends HashingFlags {
  key?: string;
  privateKey?: string;
  private_key?: string;
  password?: string;
  cert?: string;
  signingCertificate?: string;
  signing_certificate?: string;
  chain?: string[];
  certificateChain?: string[];
  certificate_chain?: string[];
  output?: string;
  signature?: string;
  force?: boolean;
  sigstore?: boolean;
  identityToken?: string;
  identity_token?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  use_ambient_credentials?: boolean;
  use_staging?: boolean;
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  merkle?: boolean;
  leafSize?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('sign')
    .description('sign a model (directory or file) into an OMS / Sigstore bundle (default <model>.sig beside it)')
    .usage('[key|certificate|sigstore] <model> [options]')
    .argument('<model>', 'model directory or single file (after key|certificate|sigstore in the model_signing form)')
    .argument('[model_signing-model]', 'the model, when the first argument is a model_signing method')
    .option('--sigstore', 'Sigstore keyless: a Fulcio certificate for an OIDC identity, logged in Rekor (needs network access)')
    .option('--identity-token <token|file>', 'Sigstore keyless: the OIDC identity token, or a file holding it (default: ambient CI credentials, e.g. GitHub Actions, or SIGSTORE_ID_TOKEN)')
    .option('--fulcio-url <url>', 'Sigstore keyless: Fulcio (default https://fulcio.sigstore.dev)')
    .option('--rekor-url <url>', 'Sigstore keyless: Rekor (default https://rekor.sigstore.dev)')
    .option('--tsa-url <url>', 'Sigstore keyless: also get an RFC 3161 timestamp from this TSA')
    .option('--key <pem>', 'EC private key (P-256, P-384 or P-521), PEM')
    .option('--password <password>', 'password of an encrypted private key (or set MODELSEAL_KEY_PASSWORD, which ps cannot see)')
    .option('--cert <pem>', 'signing certificate for the key (certificate method)')
    .option('--chain <pem>', 'certificate chain to embed after the leaf (repeatable; a file may hold several)', collect)
    .option('-o, --output <path>', 'bundle path (default <model>.sig beside the model)')
    .option('--force', 'replace an existing bundle')
    .option('--json', 'print one JSON result object on stdout')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress bar')
    .option('--merkle', 'also write a signed Merkle companion (<bundle>.merkle + .merkle.tree) for range / tensor verification')
    .option('--leaf-size <size>', 'Merkle leaf size with --merkle: a power of two from 1KiB to 1GiB (default 1MiB)');
  addModelSigningSpellings(
    cmd,
    ['--private-key <pem>', '--private_key <pem>', '--signing-certificate <pem>', '--signing_certificate <pem>', '--signature <path>', '--identity_token <token>', '--use_ambient_credentials', '--use_staging'],
    ['--certificate-chain <pem>', '--certificate_chain <pem>'],
  );
  addSignAttestOptions(cmd);
  addHashingOptions(cmd).action(async (first: string, second: string | undefined, flags: SignFlags & SignAttestFlags) => {
    const ctx = contextOf(flags);
    await runAction(ctx, async () => {
      const { method, model } = splitMethod(first, second, 'sign');
      const key = one('--key', flags.key, flags.privateKey, flags.private_key);
      const keyless = method === 'sigstore' || flags.sigstore === true;
      if (method !== undefined) {
        checkMethodFlags('sign', method, givenSignMethodFlags(flags));
        if (method === 'key' && key === undefined) throw new InputError('USAGE', 'sign key needs --private_key KEY.pem.');
        if (method === 'certificate' && one('--cert', flags.cert, flags.signingCertificate, flags.signing_certificate) === undefined) {
          throw new InputError('USAGE', 'sign certificate needs --private_key KEY.pem and --signing_certificate CERT.pem.');
        }
        // model_signing's default: model.sig in the current directory, replaced if it exists
        if (one('--output', flags.output, flags.signature) === undefined) flags.signature = 'model.sig';
        flags.force = true;
      }
      if (keyless) return keylessSign(model, flags, ctx, key !== undefined);
      if (key === undefined) throw new InputError('USAGE', 'sign needs a private key (--key KEY.pem), or --sigstore for keyless signing.');
      const cert = one('--cert', flags.cert, flags.signingCertificate, flags.signing_certificate);
      const chain = [...(flags.chain ?? []), ...(flags.certificateChain ?? []), ...(flags.certificate_chain ?? [])];
      const output = one('--output', flags.output, flags.signature);
      const hashing = hashingOptionsFrom(flags);
      const options: SignModelOptions = { ...hashing, privateKey: key };
      const password = flags.password ?? process.env.MODELSEAL_KEY_PASSWORD;
      if (password !== undefined) options.password = password;
      if (cert !== undefined) options.certificate = cert;
      if (chain.length) options.chain = chain;
      if (output !== undefined) options.output = output;
      if (flags.force) options.force = true;
      if (flags.leafSize !== undefined && !flags.merkle) throw new InputError('USAGE', '--leaf-size applies only with --merkle.');
      if (flags.merkle) options.merkle = flags.leafSize !== undefined ? { leafSize: parseSize(flags.leafSize, '--leaf-size') } : true;
      // --attest: everything that can be checked before hashing is (an existing .att, the mode)
      const source = await preflightSignAttest(flags, output !== undefined ? output : defaultBundlePath(model));
      const r = await withProgress({ json: false, quiet: ctx.quiet || ctx.json, progress: flags.progress }, (onProgress) => {
        options.onProgress = onProgress;
        return signModel(model, options);
      });
      const m = r.manifest;
      // --attest: bind TEE evidence to the signature just written (<bundle>.att)
      const att = await signAttestStep({ ...flags, ...(password !== undefined ? { password } : {}) }, { bundlePath: r.bundlePath, privateKey: key, ...(source ? { source } : {}) });
      if (ctx.json) {
        writeJson({
          ok: true,
          ...(att.json ? { attestation: att.json } : {}),
          bundle: r.bundlePath,
          model,
          modelName: m.modelName,
          rootDigest: r.rootDigest,
          resources: m.resources.length,
          serialization: m.serialization,
          signer: r.signer,
          bytes: r.hashing.bytes,
          hashSeconds: r.hashing.seconds,
          signSeconds: r.signSeconds,
          backend: r.hashing.backend,
          ...(r.companion ? { companion: r.companion } : {}),
        });
      } else {
        process.stdout.write(`${r.bundlePath}\n`);
        info(
          ctx,
          `signed ${m.modelName}: root ${r.rootDigest} (${m.resources.length} ${m.serialization.method === 'shards' ? 'shard' : 'file'} resources, ${m.serialization.hashType})\n` +
            `signer: ${r.signer}\n` +
            `hashed ${formatBytes(r.hashing.bytes)} in ${r.hashing.seconds.toFixed(3)} s (backend=${r.hashing.backend}); signed and written in ${(r.signSeconds * 1000).toFixed(1)} ms`,
        );
        if (r.companion) {
          process.stdout.write(`${r.companion.path}\n`);
          info(ctx, `Merkle companion: ${r.companion.files} files, ${r.companion.tree}, leaf ${formatBytes(r.companion.leafSize)}; leaves from the hashing pass (${formatBytes(r.companion.bytes)} read again, ${r.companion.seconds.toFixed(3)} s to build and sign)`);
        }
        for (const line of att.lines) process.stdout.write(`${line}\n`);
      }
      return att.exitCode;
    });
  });
}
/** Which signing method's flags were given (for the model_signing form's method word). */
function givenSignMethodFlags(f: SignFlags): Record<PkiMethod, string[]> {
  const named = (pairs: Array<[unknown, string]>) => pairs.filter(([v]) => v !== undefined && v !== false).map(([, n]) => n);
  const keyless = named([[f.identityToken, '--identity-token'], [f.identity_token, '--identity_token'], [f.fulcioUrl, '--fulcio-url'], [f.rekorUrl, '--rekor-url'], [f.tsaUrl, '--tsa-url'], [f.use_ambient_credentials, '--use_ambient_credentials'], [f.use_staging, '--use_staging']]);
  const cert = named([[f.cert, '--cert'], [f.signingCertificate, '--signing-certificate'], [f.signing_certificate, '--signing_certificate'], [f.chain, '--chain'], [f.certificateChain, '--certificate-chain'], [f.certificate_chain, '--certificate_chain']]);
  // a private key belongs to both the key and the certificate methods: it only conflicts with sigstore
  return { key: [], certificate: cert, sigstore: keyless };
}

/** `sign sigstore MODEL` / `sign MODEL --sigstore`: keyless signing through sigstore-js. */
async function keylessSign(model: string, flags: SignFlags & SignAttestFlags, ctx: { json: boolean; quiet: boolean }, keyGiven: boolean): Promise<number> {
  if (keyGiven) throw new InputError('USAGE', 'keyless signing (--sigstore / sign sigstore) takes no private key; drop --key, or drop --sigstore.');
  if (flags.cert !== undefined || flags.signingCertificate !== undefined || flags.signing_certificate !== undefined) throw new InputError('USAGE', 'keyless signing gets its certificate from Fulcio; drop --cert / --signing_certificate.');
  if ((flags as { attest?: unknown }).attest !== undefined) throw new InputError('USAGE', '--attest binds evidence with the signing key, which keyless signing does not keep; sign with --key to attest.');
  if (flags.merkle || flags.leafSize !== undefined) throw new InputError('USAGE', 'a Merkle companion (--merkle, --leaf-size) is not available with keyless signing; sign with --key or --cert for a companion, or drop --merkle.');
  const tokenArg = one('--identity-token', flags.identityToken, flags.identity_token);
  const urls = flags.use_staging ? SIGSTORE_STAGING : undefined;
  const output = one('--output', flags.output, flags.signature);
  const options: KeylessSignOptions = { ...hashingOptionsFrom(flags) };
  if (tokenArg !== undefined) options.identityToken = readIdentityToken(tokenArg);
  const fulcio = flags.fulcioUrl ?? urls?.fulcioURL;
  const rekor = flags.rekorUrl ?? urls?.rekorURL;
  if (fulcio !== undefined) options.fulcioURL = fulcio;
  if (rekor !== undefined) options.rekorURL = rekor;
  if (flags.tsaUrl !== undefined) options.tsaURL = flags.tsaUrl;
  if (output !== undefined) options.output = output;
  if (flags.force) options.force = true;
  const r = await withProgress({ json: false, quiet: ctx.quiet || ctx.json, progress: flags.progress }, (onProgress) => {
    options.onProgress = onProgress;
    return signModelKeyless(model, options);
  });
  const m = r.manifest;
  if (ctx.json) {
    writeJson({ ok: true, bundle: r.bundlePath, model, modelName: m.modelName, rootDigest: r.rootDigest, resources: m.resources.length, serialization: m.serialization, signer: r.signer, bytes: r.hashing.bytes, hashSeconds: r.hashing.seconds, signSeconds: r.signSeconds, backend: r.hashing.backend });
  } else {
    process.stdout.write(`${r.bundlePath}\n`);
    info(ctx, `signed ${m.modelName}: root ${r.rootDigest}\nsigner: ${r.signer}\nhashed ${formatBytes(r.hashing.bytes)} in ${r.hashing.seconds.toFixed(3)} s (backend=${r.hashing.backend}); certificate, signature and log entry in ${(r.signSeconds * 1000).toFixed(0)} ms`);
  }
  return 0;
}
