/**
 * `modelseal sign <model> --key KEY.pem [--cert LEAF.pem --chain CHAIN.pem]`: an OMS bundle that
 * model_signing verifies. model_signing's flag spellings are accepted as hidden aliases.
 */
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { defaultBundlePath, signModel, type SignModelOptions } from '../../index.js';
import { collect, formatBytes } from '../args.js';
import { addSignAttestOptions, preflightSignAttest, signAttestStep, type SignAttestFlags } from '../attest-options.js';
import { setExitCode } from '../exit-code.js';
import { addHashingOptions, hashingOptionsFrom, type HashingFlags } from '../hashing-options.js';
import { info, runCommand, writeJson } from '../output.js';
import { createProgress } from '../progress.js';

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
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  allow_symlinks?: boolean;
}

function one(name: string, ...values: Array<string | undefined>): string | undefined {
  const given = values.filter((v): v is string => v !== undefined);
  if (given.length > 1 && new Set(given).size > 1) throw new InputError('USAGE', `${name} was given twice with different values.`);
  return given[0];
}

export function register(program: Command): void {
  const cmd = program
    .command('sign')
    .description('sign a model (directory or file) into an OMS / Sigstore bundle (default <model>.sig beside it)')
    .argument('<model>', 'model directory or single file')
    .option('--key <pem>', 'EC private key (P-256, P-384 or P-521), PEM')
    .option('--password <password>', 'password of an encrypted private key (or set MODELSEAL_KEY_PASSWORD, which ps cannot see)')
    .option('--cert <pem>', 'signing certificate for the key (certificate method)')
    .option('--chain <pem>', 'certificate chain to embed after the leaf (repeatable; a file may hold several)', collect)
    .option('-o, --output <path>', 'bundle path (default <model>.sig beside the model)')
    .option('--force', 'replace an existing bundle')
    .option('--json', 'print one JSON result object on stdout')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress bar')
    // model_signing spellings
    .addOption(new Option('--private-key <pem>').hideHelp())
    .addOption(new Option('--private_key <pem>').hideHelp())
    .addOption(new Option('--signing-certificate <pem>').hideHelp())
    .addOption(new Option('--signing_certificate <pem>').hideHelp())
    .addOption(new Option('--certificate-chain <pem>').argParser(collect).hideHelp())
    .addOption(new Option('--certificate_chain <pem>').argParser(collect).hideHelp())
    .addOption(new Option('--signature <path>').hideHelp())
    .addOption(new Option('--allow_symlinks').hideHelp());
  addSignAttestOptions(cmd);
  addHashingOptions(cmd).action(async (model: string, flags: SignFlags & SignAttestFlags) => {
    const ctx = { json: flags.json === true, quiet: flags.quiet === true };
    setExitCode(
      await runCommand(ctx, async () => {
        if (flags.allow_symlinks) flags.allowSymlinks = true;
        const key = one('--key', flags.key, flags.privateKey, flags.private_key);
        if (key === undefined) throw new InputError('USAGE', 'sign needs a private key: --key KEY.pem.');
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
        // --attest: everything that can be checked before hashing is (an existing .att, the mode)
        const source = await preflightSignAttest(flags, output !== undefined ? output : defaultBundlePath(model));
        const progress = createProgress({ json: false, quiet: ctx.quiet || ctx.json, progress: flags.progress });
        options.onProgress = (e) => progress.update(e);
        let r;
        try {
          r = await signModel(model, options);
        } finally {
          progress.stop();
        }
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
          });
        } else {
          process.stdout.write(`${r.bundlePath}\n`);
          info(
            ctx,
            `signed ${m.modelName}: root ${r.rootDigest} (${m.resources.length} ${m.serialization.method === 'shards' ? 'shard' : 'file'} resources, ${m.serialization.hashType})\n` +
              `signer: ${r.signer}\n` +
              `hashed ${formatBytes(r.hashing.bytes)} in ${r.hashing.seconds.toFixed(3)} s (backend=${r.hashing.backend}); signed and written in ${(r.signSeconds * 1000).toFixed(1)} ms`,
          );
          for (const line of att.lines) process.stdout.write(`${line}\n`);
        }
        return att.exitCode;
      }),
    );
  });
}
