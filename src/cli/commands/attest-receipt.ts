/**
 * `modelseal attest verify-receipt FILE --nonce HEX`: checks a verification receipt written by
 * `modelseal verify … --receipt OUT --nonce HEX` inside a CVM — that it answers this nonce, that its CPU
 * report verifies to the vendor root and vouches for the model root, the result and the signing key,
 * and (with --policy) that the CPU evidence satisfies the policy. Exit 0 verified, 1 refused, 2 unreadable.
 */
import type { Command } from 'commander';
import { EXIT_OK, EXIT_VERIFY_FAILED, InputError } from '../../errors.js';
import { loadPolicy, readInputFile, validatePolicy, verifyReceipt, type VerifyReceiptOptions } from '../../index.js';
import { parseHex, parseTime } from '../args.js';
import { contextOf, info, runAction, writeJson } from '../output.js';

interface ReceiptFlags {
  nonce: string;
  root?: string;
  policy?: string;
  at?: string;
  collateral?: string;
  allowSimulated?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Adds `verify-receipt` to the `attest` command group. */
export function registerReceiptCommands(attest: Command): void {
  attest
    .command('verify-receipt')
    .description('check a verification receipt (model verified inside a TEE) against your nonce (exit 0 verified, 1 refused, 2 unreadable)')
    .argument('<file>', 'receipt written by `modelseal verify --receipt`')
    .requiredOption('--nonce <hex>', 'the nonce you sent with the request (8 to 64 bytes, hex)')
    .option('--root <hex>', 'the model root digest you expect (64 hex digits)')
    .option('--policy <file>', 'also validate the CPU evidence against this policy (docs/policy.md)')
    .option('--at <time>', 'verification time for certificates and collateral (ISO 8601 or Unix seconds); default now')
    .option('--collateral <dir>', 'TDX collateral directory (TCB Info, QE Identity, CRLs)')
    .option('--allow-simulated', 'accept receipts made on the SIMULATED platform (tests and demos only)')
    .option('--json', 'print the result as one JSON object on stdout')
    .option('-q, --quiet', 'no human output')
    .action(async (file: string, flags: ReceiptFlags) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(readInputFile(file, 'receipt'));
        } catch (e) {
          if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
          throw new InputError('FILE_UNREADABLE', `Cannot read the receipt ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
        }
        const opts: VerifyReceiptOptions = { nonce: parseHex(flags.nonce, '--nonce', 1, Infinity) };
        if (flags.root) opts.expectedRootDigest = parseHex(flags.root, '--root', 1, Infinity);
        if (flags.at) opts.at = parseTime(flags.at, '--at');
        if (flags.collateral) opts.collateralDir = flags.collateral;
        if (flags.allowSimulated) opts.allowSimulated = true;
        const policy = flags.policy ? loadPolicy(flags.policy) : undefined;
        // --allow-simulated or a policy with allowSimulated: the relying party's explicit choice either way.
        if (policy?.allowSimulated) opts.allowSimulated = true;
        const r = await verifyReceipt(bytes, opts);
        const p = policy && r.ok ? validatePolicy(r.verdicts, { ...policy, allowSimulated: opts.allowSimulated === true }, opts.at ?? new Date()) : undefined;
        const ok = r.ok && (p?.ok ?? true);
        if (ctx.json) {
          writeJson({
            ok,
            ...(ok ? {} : { code: r.ok ? p?.code : r.code }),
            simulated: r.simulated,
            message: r.ok && p && !p.ok ? p.message : r.message,
            rootDigest: r.rootDigest,
            result: r.result,
            createdAt: r.createdAt,
            failures: r.failures,
            evidence: r.verdict ? { kind: r.verdict.kind, verified: r.verdict.verified, code: r.verdict.code, chain: r.verdict.chain, warnings: r.verdict.warnings } : undefined,
            ...(p ? { policy: p } : {}),
          });
        } else if (!ctx.quiet) {
          const tag = r.simulated ? ' (SIMULATED platform: proves nothing about real hardware)' : '';
          process.stdout.write(`${r.ok ? 'RECEIPT VERIFIED' : `RECEIPT REFUSED [${r.code}]`}${tag}: ${r.message}\n`);
          for (const f of r.failures.slice(1)) info(ctx, `  also: [${f.code}] ${f.message}`);
          if (r.verdict?.chain.length) info(ctx, `  chain: ${r.verdict.chain.join(' <- ')}`);
          for (const w of r.verdict?.warnings ?? []) info(ctx, `  warning: ${w}`);
          if (p) {
            process.stdout.write(`${p.ok ? 'POLICY SATISFIED' : `POLICY REFUSED [${p.code}]`}: ${p.message}\n`);
            for (const rule of p.rules) info(ctx, `  ${rule.ok ? 'pass' : 'FAIL'} ${rule.rule}: ${rule.reason}`);
          }
        }
        return ok ? EXIT_OK : EXIT_VERIFY_FAILED;
      });
    });
}

/**
 * Registered after `attest` (src/cli/main.ts loads commands in order): finds the `attest` group and
 * adds `verify-receipt` to it.
 */
export function register(program: Command): void {
  const attest = program.commands.find((c) => c.name() === 'attest') ?? program.command('attest').description('TEE attestation evidence');
  registerReceiptCommands(attest);
}
