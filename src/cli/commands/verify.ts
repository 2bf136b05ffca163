/**
 * `modelseal verify <model> --sig BUNDLE (--key PUB.pem | --cert-root CA.pem |
 *   --sigstore-identity ID --sigstore-issuer URL [--trusted-root FILE])`.
 * Exit 0 verified, 1 verification failed, 2 usage / unreadable input.
 */
import type { Command } from 'commander';
import { InputError, ModelsealError } from '../../errors.js';
import { defaultBundlePath, verifyModel, verifyTensors, type OpenVerifiedOptions, type VerifyModelOptions, type VerifyModelResult, type VerifyTensorsResult } from '../../index.js';
import { collect, formatBytes, parseIntArg } from '../args.js';
import { addVerifyAttestOptions, verifyAttestStep, type VerifyAttestFlags } from '../attest-options.js';
import { addModelSigningSpellings, checkMethodFlags, oneSpelling as one, splitMethod, type PkiMethod } from '../model-signing.js';
import { addRehashOptions, rehashOptionsFrom, type RehashFlags } from '../hashing-options.js';
import { contextOf, info, runAction, writeJson } from '../output.js';
import { createProgress } from '../progress.js';

interface VerifyFlags extends RehashFlags {
  sig?: string;
  signature?: string;
  key?: string;
  publicKey?: string;
  public_key?: string;
  certRoot?: string[];
  certificateChain?: string[];
  certificate_chain?: string[];
  allowPartialChain?: boolean;
  sigstoreIdentity?: string;
  identity?: string;
  sigstoreIssuer?: string;
  identityProvider?: string;
  identity_provider?: string;
  trustedRoot?: string;
  trustConfig?: string;
  trust_config?: string;
  only?: string[];
  ignoreUnsignedFiles?: boolean;
  ignore_unsigned_files?: boolean;
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  maxList?: string;
  companion?: string | false;
  tensor?: string[];
  file?: string[];
  use_staging?: boolean;
  log_fingerprints?: boolean;
}

function optionsFrom(flags: VerifyFlags): VerifyModelOptions {
  const o: VerifyModelOptions = {};
  const key = one('--key', flags.key, flags.publicKey, flags.public_key);
  const roots = [...(flags.certRoot ?? []), ...(flags.certificateChain ?? []), ...(flags.certificate_chain ?? [])];
  const identity = one('--sigstore-identity', flags.sigstoreIdentity, flags.identity);
  const issuer = one('--sigstore-issuer', flags.sigstoreIssuer, flags.identityProvider, flags.identity_provider);
  const trustedRoot = one('--trusted-root', flags.trustedRoot, flags.trustConfig, flags.trust_config);
  const methods = [key !== undefined, roots.length > 0, identity !== undefined || issuer !== undefined].filter(Boolean).length;
  if (methods !== 1) {
    throw new InputError('USAGE', 'verify needs exactly one of: --key PUB.pem, --cert-root CA.pem, or --sigstore-identity ID --sigstore-issuer URL.');
  }
  if (key !== undefined) o.publicKey = key;
  if (roots.length) o.certRoot = roots;
  if (flags.allowPartialChain === true) o.allowPartialChain = true;
  if (identity !== undefined || issuer !== undefined) {
    if (identity === undefined || issuer === undefined) throw new InputError('USAGE', 'Sigstore verification needs both --sigstore-identity and --sigstore-issuer.');
    o.sigstore = { identity, issuer, ...(trustedRoot !== undefined ? { trustedRoot } : {}) };
  } else if (trustedRoot !== undefined) throw new InputError('USAGE', '--trusted-root only applies to Sigstore verification.');
  if (flags.only !== undefined) o.only = flags.only;
  if (flags.companion !== undefined) o.companion = flags.companion;
  if (flags.ignoreUnsignedFiles || flags.ignore_unsigned_files) o.ignoreUnsignedFiles = true;
  Object.assign(o, rehashOptionsFrom(flags));
  return o;
}

function listLines(title: string, items: string[], max: number): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, max).map((n) => `  ${title}: ${n}`);
  if (items.length > max) shown.push(`  … and ${items.length - max} more ${title} (see --json)`);
  return shown;
}

/** Which method's flags were given (for the model_signing form's method word). */
function givenMethodFlags(f: VerifyFlags): Record<PkiMethod, string[]> {
  const named = (pairs: Array<[unknown, string]>) => pairs.filter(([v]) => v !== undefined && v !== false).map(([, n]) => n);
  return {
    key: named([[f.key, '--key'], [f.publicKey, '--public-key'], [f.public_key, '--public_key']]),
    certificate: named([[f.certRoot, '--cert-root'], [f.certificateChain, '--certificate-chain'], [f.certificate_chain, '--certificate_chain'], [f.allowPartialChain, '--allow-partial-chain']]),
    sigstore: named([
      [f.sigstoreIdentity, '--sigstore-identity'], [f.identity, '--identity'], [f.sigstoreIssuer, '--sigstore-issuer'],
      [f.identityProvider, '--identity-provider'], [f.identity_provider, '--identity_provider'],
      [f.trustedRoot, '--trusted-root'], [f.trustConfig, '--trust-config'], [f.trust_config, '--trust_config'],
    ]),
  };
}

/** The files that made a verdict fail (also shown with -q: a failure must name its file). */
function problemLines(r: VerifyModelResult, max: number): string[] {
  const lines: string[] = [];
  for (const m of r.mismatches.slice(0, max)) lines.push(`  mismatch: ${m.name}\n    expected ${m.algorithm}:${m.expected}\n    actual   ${m.algorithm}:${m.actual}`);
  if (r.mismatches.length > max) lines.push(`  … and ${r.mismatches.length - max} more mismatches (see --json)`);
  lines.push(...listLines('missing', r.missing, max), ...listLines('extra (unsigned)', r.extra, max), ...listLines('--only matched nothing signed', r.unmatched, max));
  return lines;
}

function human(r: VerifyModelResult, max: number): string {
  const lines: string[] = [];
  lines.push(`signer: ${r.signer.description}`);
  lines.push(`root digest: ${r.rootDigest} (${r.total} signed resources, ${r.serialization.method}/${r.serialization.hashType}${r.serialization.shardSize ? `, shard ${r.serialization.shardSize}` : ''})`);
  lines.push(...problemLines(r, max));
  for (const w of r.warnings) lines.push(`note: ${w}`);
  if (r.companion) {
    const c = r.companion;
    lines.push(`Merkle companion ${c.path}: ${c.verified ? 'verified' : 'FAILED'} (${c.files} files, leaf ${formatBytes(c.leafSize)})`);
    for (const m of c.mismatches.slice(0, max)) lines.push(`  companion mismatch [${m.code}]: ${m.file}${m.start !== undefined ? ` bytes [${m.start}, ${m.end})` : ''}`);
  }
  if (r.hashing.bytes > 0) lines.push(`hashed ${formatBytes(r.hashing.bytes)} in ${r.hashing.seconds.toFixed(3)} s (backend=${r.hashing.backend})`);
  return lines.join('\n');
}

/** `verify --tensor`: only the leaves under the named tensors (and the header bytes that place them). */
async function tensorVerdict(model: string, bundle: string, o: VerifyModelOptions, flags: VerifyFlags, ctx: { json: boolean; quiet: boolean }, max: number): Promise<number> {
  if (o.only !== undefined || o.ignoreUnsignedFiles) throw new InputError('USAGE', '--tensor cannot be combined with --only or --ignore-unsigned-files.');
  // The library copies only the trust options that are set (an undefined one is not given).
  const { publicKey, certRoot, allowPartialChain, sigstore, companion } = o;
  const opts: OpenVerifiedOptions & { files?: string[] } = { signature: bundle, publicKey, certRoot, allowPartialChain, sigstore, companion, files: flags.file };
  let r: VerifyTensorsResult;
  try {
    r = await verifyTensors(model, flags.tensor!, opts);
  } catch (e) {
    if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
    if (ctx.json) writeJson({ verified: false, scope: 'tensors', summary: `verification FAILED: ${e.code}`, error: e.toJSON(), model, bundle });
    process.stderr.write(`modelseal: verification FAILED [${e.code}]: ${e.message}\n`);
    if (!ctx.json) process.stdout.write(`verification FAILED: ${e.code}\n`);
    return 1;
  }
  if (ctx.json) {
    writeJson({ verified: r.verified, scope: 'tensors', summary: r.summary, rootDigest: r.rootDigest, total: r.total, tensors: r.selected, unmatched: r.unmatched, granularity: r.granularity, bytesHashed: r.bytesHashed, bytesTotal: r.bytesTotal, signer: r.signer, notes: r.notes, model, bundle });
  } else {
    const lines = [`signer: ${r.signer.description}`, `root digest: ${r.rootDigest} (granularity: ${r.granularity})`];
    for (const t of r.selected.filter((x) => !x.verified).slice(0, max)) lines.push(`  mismatch [${t.code}]: ${t.file} ${t.name} bytes [${t.start}, ${t.end})`);
    for (const u of r.unmatched) lines.push(`  --tensor matched nothing: ${u}`);
    for (const n of r.notes) lines.push(`note: ${n}`);
    lines.push(`hashed ${formatBytes(r.bytesHashed)} of ${formatBytes(r.bytesTotal)}`);
    info(ctx, lines.join('\n'));
    process.stdout.write(`${r.summary}\n`);
  }
  return r.verified ? 0 : 1;
}

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('verify a model (whole, ignoring unsigned files, or a subset) against an OMS / Sigstore bundle')
    .usage('[key|certificate|sigstore] <model> [options]')
    .argument('<model>', 'model directory or single file (after key|certificate|sigstore in the model_signing form)')
    .argument('[model_signing-model]', 'the model, when the first argument is a model_signing method')
    .option('--sig <bundle>', 'the signature bundle (default <model>.sig)')
    .option('--key <pem>', 'public key of a key-signed bundle (PEM)')
    .option('--cert-root <pem>', 'trusted root CA certificate(s) of a certificate-signed bundle (repeatable)', collect)
    .option('--allow-partial-chain', 'with --cert-root: accept a root that is not self-signed (an intermediate CA) as the trust anchor')
    .option('--sigstore-identity <id>', 'Sigstore keyless: the signer identity (e-mail or URI), matched exactly')
    .option('--sigstore-issuer <url>', 'Sigstore keyless: the OIDC issuer URL, matched exactly')
    .option('--trusted-root <file>', 'Sigstore keyless: trusted_root.json (default: the public-good root shipped with @sigstore/tuf)')
    .option('--only <paths...>', 'verify only these files, directories or globs (relative to the model root): a subset verdict')
    .option('--ignore-unsigned-files', 'tolerate files that were not signed (every signed file must still match)');
  addRehashOptions(cmd)
    .option('--companion <file>', 'Merkle companion to check too (default <bundle>.merkle when present)')
    .option('--no-companion', 'ignore a Merkle companion beside the bundle')
    .option('--tensor <name>', 'verify only these tensors (names or globs; repeatable): "tensors verified: k of n"', collect)
    .option('--file <path>', 'with --tensor: search only this file of the model (repeatable)', collect)
    .option('--max-list <n>', 'at most this many names per list in human output', '20')
    .option('--json', 'print one JSON result object on stdout')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress bar');
  addModelSigningSpellings(
    cmd,
    ['--signature <bundle>', '--public-key <pem>', '--public_key <pem>', '--identity <id>', '--identity-provider <url>', '--identity_provider <url>', '--trust-config <file>', '--trust_config <file>', '--ignore_unsigned_files', '--allow_symlinks', '--use_staging', '--log_fingerprints'],
    ['--certificate-chain <pem>', '--certificate_chain <pem>'],
  );
  addVerifyAttestOptions(cmd);
  cmd.action(async (first: string, second: string | undefined, flags: VerifyFlags & VerifyAttestFlags) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        const { method, model } = splitMethod(first, second, 'verify');
        if (method !== undefined) checkMethodFlags('verify', method, givenMethodFlags(flags));
        if (flags.log_fingerprints) throw new InputError('USAGE', '--log_fingerprints is not supported by modelseal; drop it (the signer and its certificate chain are printed without -q, and by `modelseal inspect BUNDLE`).');
        if (flags.use_staging) throw new InputError('USAGE', "--use_staging: modelseal verifies offline and ships no staging trust root; pass the staging trusted_root.json with --trust_config instead.");
        const bundle = one('--sig', flags.sig, flags.signature) ?? defaultBundlePath(model);
        const options = optionsFrom(flags);
        const max = parseIntArg(flags.maxList ?? '20', '--max-list', 1, 1_000_000);
        const progress = createProgress({ json: false, quiet: ctx.quiet || ctx.json, progress: flags.progress });
        options.onProgress = (e) => progress.update(e);
        if (flags.file !== undefined && flags.tensor === undefined) throw new InputError('USAGE', '--file applies only with --tensor.');
        if (flags.tensor !== undefined) return tensorVerdict(model, bundle, options, flags, ctx, max);
        let r: VerifyModelResult;
        try {
          r = await verifyModel(model, bundle, options);
        } catch (e) {
          // A signature / key / chain failure is a verdict too: --json still answers `verified: false`.
          if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
          if (ctx.json) {
            writeJson({ verified: false, scope: options.only ? 'subset' : 'model', summary: `verification FAILED: ${e.code}`, rootDigest: null, mismatches: [], missing: [], extra: [], unmatched: [], error: e.toJSON(), model, bundle });
          }
          process.stderr.write(`modelseal: verification FAILED [${e.code}]: ${e.message}\n`);
          if (!ctx.json) process.stdout.write(`verification FAILED: ${e.code}\n`);
          return 1;
        } finally {
          progress.stop();
        }
        // --attestation/--policy: evidence chains, binding and policy; --receipt: a receipt of this verdict
        const att = await verifyAttestStep(flags, {
          bundlePath: bundle,
          ...(typeof options.publicKey === 'string' ? { publicKey: options.publicKey } : {}),
          result: r,
        });
        if (ctx.json) {
          writeJson({
            ...(att.json ? { attestation: att.json } : {}),
            verified: r.verified,
            scope: r.scope,
            summary: r.summary,
            rootDigest: r.rootDigest,
            checked: r.checked,
            total: r.total,
            mismatches: r.mismatches,
            missing: r.missing,
            extra: r.extra,
            unmatched: r.unmatched,
            signer: r.signer,
            format: r.format,
            encoding: r.encoding,
            serialization: r.serialization,
            warnings: r.warnings,
            hashing: r.hashing,
            ...(r.companion ? { companion: r.companion } : {}),
            model,
            bundle,
          });
        } else {
          info(ctx, human(r, max));
          if (ctx.quiet && !r.verified) process.stderr.write(problemLines(r, max).join('\n') + '\n');
          // The verdict goes to stdout so scripts can read it without --json.
          process.stdout.write(`${r.summary}\n`);
          for (const line of att.lines) process.stdout.write(`${line}\n`);
        }
        return r.verified ? att.exitCode : 1;
      });
    });
}
