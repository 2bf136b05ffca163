/**
 * `modelseal verify <model> --sig BUNDLE (--key PUB.pem | --cert-root CA.pem |
 *   --sigstore-identity ID --sigstore-issuer URL [--trusted-root FILE])`.
 * Exit 0 verified, 1 verification failed, 2 usage / unreadable input.
 */
import { Option, type Command } from 'commander';
import { InputError, ModelsealError } from '../../errors.js';
import { defaultBundlePath, verifyModel, type VerifyModelOptions, type VerifyModelResult } from '../../index.js';
import { collect, formatBytes, parseIntArg } from '../args.js';
import { addVerifyAttestOptions, verifyAttestStep, type VerifyAttestFlags } from '../attest-options.js';
import { setExitCode } from '../exit-code.js';
import { addRehashOptions, rehashOptionsFrom } from '../hashing-options.js';
import { info, runCommand, writeJson } from '../output.js';
import { createProgress } from '../progress.js';

interface VerifyFlags {
  sig?: string;
  signature?: string;
  key?: string;
  publicKey?: string;
  public_key?: string;
  certRoot?: string[];
  certificateChain?: string[];
  certificate_chain?: string[];
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
  ignorePath?: string[];
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  allow_symlinks?: boolean;
  backend: string;
  workers?: string;
  disableBackend?: string[];
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  maxList?: string;
}

function one(name: string, ...values: Array<string | undefined>): string | undefined {
  const given = values.filter((v): v is string => v !== undefined);
  if (given.length > 1 && new Set(given).size > 1) throw new InputError('USAGE', `${name} was given twice with different values.`);
  return given[0];
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
  if (identity !== undefined || issuer !== undefined) {
    if (identity === undefined || issuer === undefined) throw new InputError('USAGE', 'Sigstore verification needs both --sigstore-identity and --sigstore-issuer.');
    o.sigstore = { identity, issuer, ...(trustedRoot !== undefined ? { trustedRoot } : {}) };
  } else if (trustedRoot !== undefined) throw new InputError('USAGE', '--trusted-root only applies to Sigstore verification.');
  if (flags.only !== undefined) o.only = flags.only;
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

function human(r: VerifyModelResult, max: number): string {
  const lines: string[] = [];
  lines.push(`signer: ${r.signer.description}`);
  lines.push(`root digest: ${r.rootDigest} (${r.total} signed resources, ${r.serialization.method}/${r.serialization.hashType}${r.serialization.shardSize ? `, shard ${r.serialization.shardSize}` : ''})`);
  for (const m of r.mismatches.slice(0, max)) lines.push(`  mismatch: ${m.name}\n    expected ${m.algorithm}:${m.expected}\n    actual   ${m.algorithm}:${m.actual}`);
  if (r.mismatches.length > max) lines.push(`  … and ${r.mismatches.length - max} more mismatches (see --json)`);
  lines.push(...listLines('missing', r.missing, max), ...listLines('extra (unsigned)', r.extra, max), ...listLines('--only matched nothing signed', r.unmatched, max));
  for (const w of r.warnings) lines.push(`note: ${w}`);
  if (r.hashing.bytes > 0) lines.push(`hashed ${formatBytes(r.hashing.bytes)} in ${r.hashing.seconds.toFixed(3)} s (backend=${r.hashing.backend})`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('verify a model (whole, ignoring unsigned files, or a subset) against an OMS / Sigstore bundle')
    .argument('<model>', 'model directory or single file')
    .option('--sig <bundle>', 'the signature bundle (default <model>.sig)')
    .option('--key <pem>', 'public key of a key-signed bundle (PEM)')
    .option('--cert-root <pem>', 'trusted root CA certificate(s) of a certificate-signed bundle (repeatable)', collect)
    .option('--sigstore-identity <id>', 'Sigstore keyless: the signer identity (e-mail or URI), matched exactly')
    .option('--sigstore-issuer <url>', 'Sigstore keyless: the OIDC issuer URL, matched exactly')
    .option('--trusted-root <file>', 'Sigstore keyless: trusted_root.json (default: the public-good root shipped with @sigstore/tuf)')
    .option('--only <paths...>', 'verify only these files, directories or globs (relative to the model root): a subset verdict')
    .option('--ignore-unsigned-files', 'tolerate files that were not signed (every signed file must still match)');
  addRehashOptions(cmd)
    .option('--max-list <n>', 'at most this many names per list in human output', '20')
    .option('--json', 'print one JSON result object on stdout')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress bar')
    // model_signing spellings
    .addOption(new Option('--signature <bundle>').hideHelp())
    .addOption(new Option('--public-key <pem>').hideHelp())
    .addOption(new Option('--public_key <pem>').hideHelp())
    .addOption(new Option('--certificate-chain <pem>').argParser(collect).hideHelp())
    .addOption(new Option('--certificate_chain <pem>').argParser(collect).hideHelp())
    .addOption(new Option('--identity <id>').hideHelp())
    .addOption(new Option('--identity-provider <url>').hideHelp())
    .addOption(new Option('--identity_provider <url>').hideHelp())
    .addOption(new Option('--trust-config <file>').hideHelp())
    .addOption(new Option('--trust_config <file>').hideHelp())
    .addOption(new Option('--ignore_unsigned_files').hideHelp())
    .addOption(new Option('--allow_symlinks').hideHelp());
  addVerifyAttestOptions(cmd);
  cmd.action(async (model: string, flags: VerifyFlags & VerifyAttestFlags) => {
      const ctx = { json: flags.json === true, quiet: flags.quiet === true };
      setExitCode(
        await runCommand(ctx, async () => {
          const bundle = one('--sig', flags.sig, flags.signature) ?? defaultBundlePath(model);
          const options = optionsFrom(flags);
          const max = parseIntArg(flags.maxList ?? '20', '--max-list', 1, 1_000_000);
          const progress = createProgress({ json: false, quiet: ctx.quiet || ctx.json, progress: flags.progress });
          options.onProgress = (e) => progress.update(e);
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
              model,
              bundle,
            });
          } else {
            info(ctx, human(r, max));
            // The verdict goes to stdout so scripts can read it without --json.
            process.stdout.write(`${r.summary}\n`);
            for (const line of att.lines) process.stdout.write(`${line}\n`);
          }
          return r.verified ? att.exitCode : 1;
        }),
      );
    });
}
