/**
 * `modelseal attest inspect | verify | collect`: show, verify (offline, pinned vendor roots) and, on
 * real hardware, collect attestation evidence. The kind of evidence is recognised from its content.
 * Exit codes as for `verify`: 0 verified, 1 refused, 2 unreadable input or usage.
 */
import type { Command } from 'commander';
import { InputError, UnavailableError, EXIT_OK, EXIT_VERIFY_FAILED } from '../../errors.js';
import { collectEvidence, inspectEvidence, readInputFile, verifyEvidence, writeOutputFile, type EvidenceKind, type InputKind, type VerifyEvidenceOptions } from '../../index.js';
import { collect, parseHex, parseTime } from '../args.js';
import { contextOf, info, runAction, writeJson } from '../output.js';

interface CommonFlags {
  json?: boolean;
  quiet?: boolean;
}
interface VerifyFlags extends CommonFlags {
  certs?: string[];
  collateral?: string;
  collateralAt?: string;
  at?: string;
  allowSimulated?: boolean;
  simulatedRoot?: string[];
  reportData?: string;
  nonce?: string;
  rims?: string[];
  signatureOnly?: boolean;
}
interface CollectFlags extends CommonFlags {
  kind: 'auto' | 'snp' | 'tdx' | 'nvidia' | 'tdisp';
  reportData?: string;
  nonce?: string;
  out?: string;
}

function readInput(path: string, what: string, kind: InputKind = 'evidence'): Uint8Array {
  try {
    return new Uint8Array(readInputFile(path, kind));
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    throw new InputError('FILE_UNREADABLE', `Cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/** Flattens nested fields into `a.b.c: value` lines for human output. */
function printFields(ctx: CommonFlags, prefix: string, v: unknown, depth = 0): void {
  if (ctx.quiet || v === undefined) return;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) {
    process.stdout.write(`${prefix}: ${v.join(', ')}\n`);
  } else if (typeof v === 'object' && v !== null && depth < 6) {
    for (const [k, x] of Object.entries(v)) printFields(ctx, prefix ? `${prefix}.${k}` : k, x, depth + 1);
  } else {
    process.stdout.write(`${prefix}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
}

export function register(program: Command): void {
  const attest = program.command('attest').description('inspect, verify and collect TEE attestation evidence (SEV-SNP, TDX, NVIDIA GPU, TDISP)');

  attest
    .command('inspect')
    .description('print every field of a report, quote or GPU report (kind recognised from the content; binary, hex, base64 or JSON)')
    .argument('<file>', 'evidence file')
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'no output except errors')
    .action(async (file: string, flags: CommonFlags) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        const r = await inspectEvidence(readInput(file, 'evidence file'));
        if (ctx.json) writeJson({ ok: true, ...r });
        else {
          printFields(flags, '', { kind: r.kind, format: r.format, encoding: r.encoding, envelope: r.envelope, unwrapped: r.unwrapped });
          printFields(flags, '', r.fields);
          r.certificates.forEach((c, i) => printFields(flags, `certificate[${i}]`, c));
          if (r.meta) printFields(flags, 'meta', r.meta);
          if (r.trailingBytes > 0 && r.format !== 'tdx-quote') printFields(flags, 'trailingBytes', r.trailingBytes);
          for (const w of r.warnings) info(ctx, `warning: ${w}`);
        }
        return EXIT_OK;
      });
    });

  attest
    .command('verify')
    .description('verify evidence cryptographically, offline, against the built-in vendor roots (exit 0 verified, 1 refused, 2 unreadable)')
    .argument('<file>', 'evidence file (binary, hex, base64 or JSON envelope)')
    .option('--certs <files...>', 'certificates, DER or PEM, single or chains (e.g. the VCEK/VLEK, a GPU chain); put FILE before --certs, or repeat --certs')
    .option('--collateral <dir>', 'directory with TDX collateral: TCB Info and QE Identity JSON, the TCB signing chain PEM, CRLs')
    .option('--at <time>', 'verification time (ISO 8601 or Unix seconds); default now — pin it for old evidence')
    .option('--collateral-at <time>', 'verification time for the collateral signing certificate only (default --at)')
    .option('--report-data <hex>', 'expected REPORT_DATA (SNP/TDX), zero-padded to 64 bytes')
    .option('--nonce <hex>', 'expected nonce (NVIDIA)')
    .option('--rims <files...>', 'NVIDIA RIMs (SWID tag XML): the driver and the VBIOS RIM, both needed for a firmware verdict; put FILE before --rims')
    .option('--signature-only', 'check signatures and certificate chains only: TDX collateral for another FMSPC (or none usable) is then a warning, not a failure')
    .option('--allow-simulated', 'accept evidence from the simulated platform (tests and demos only)')
    .option('--simulated-root <file>', 'a root certificate of the simulated platform (repeatable; with --allow-simulated)', collect)
    .option('--json', 'print the verdict as one JSON object on stdout')
    .option('-q, --quiet', 'no human output')
    .action(async (file: string, flags: VerifyFlags) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        const opts: VerifyEvidenceOptions = {};
        if (flags.at) opts.at = parseTime(flags.at, '--at');
        if (flags.collateralAt) opts.collateralAt = parseTime(flags.collateralAt, '--collateral-at');
        if (flags.certs?.length) opts.certs = flags.certs.map((f) => readInput(f, 'certificate file', 'certificate'));
        if (flags.collateral) opts.collateralDir = flags.collateral;
        if (flags.allowSimulated) opts.allowSimulated = true;
        if (flags.simulatedRoot?.length) opts.simulatedRoots = flags.simulatedRoot.map((f) => readInput(f, 'simulated root', 'certificate'));
        if (flags.reportData) opts.expectedReportData = parseHex(flags.reportData, '--report-data', 1, 64);
        if (flags.nonce) opts.expectedNonce = parseHex(flags.nonce, '--nonce', 1, 64);
        if (flags.rims?.length) opts.rims = flags.rims.map((f) => readInput(f, 'RIM file', 'rim'));
        if (flags.signatureOnly) opts.signatureOnly = true;
        const v = await verifyEvidence(readInput(file, 'evidence file'), opts);
        const code = v.verified ? EXIT_OK : EXIT_VERIFY_FAILED;
        if (ctx.json) {
          writeJson({ ok: v.verified, ...v });
        } else if (!ctx.quiet) {
          process.stdout.write(`${v.verified ? 'VERIFIED' : 'REFUSED'}${v.code ? ` [${v.code}]` : ''}${v.simulated ? ' (SIMULATED)' : ''}: ${v.message}\n`);
          if (v.chain.length) process.stdout.write(`chain: ${v.chain.join(' <- ')}\n`);
          for (const w of v.warnings) info(ctx, `warning: ${w}`);
          // A refused verdict's claims are what the evidence says, not what was proven.
          printFields(flags, v.verified ? 'claims' : 'unverified-claims', v.claims);
        }
        return code;
      });
    });

  attest
    .command('collect')
    .description('collect evidence on this machine (configfs-tsm, ioctls, NVML); needs real TEE hardware')
    .option('--kind <kind>', 'auto | snp | tdx | nvidia | tdisp', 'auto')
    .option('--report-data <hex>', 'REPORT_DATA for the CPU report (up to 64 bytes)')
    .option('--nonce <hex>', '32-byte nonce for GPU / TDISP evidence')
    .option('--out <file>', 'write the evidence envelope here (several kinds: FILE.<kind>.json each) instead of stdout')
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'no human output')
    .action(async (flags: CollectFlags) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        const kinds = { auto: undefined, snp: ['sev-snp'], tdx: ['tdx'], nvidia: ['nvidia-gpu'], tdisp: ['tdisp'] }[flags.kind];
        if (kinds === undefined && flags.kind !== 'auto') throw new InputError('USAGE', `--kind must be one of auto, snp, tdx, nvidia, tdisp (got "${flags.kind}").`);
        const o: NonNullable<Parameters<typeof collectEvidence>[0]> = {};
        if (kinds) o.kinds = kinds as EvidenceKind[];
        if (flags.reportData) o.reportData = parseHex(flags.reportData, '--report-data', 1, 64);
        if (flags.nonce) o.nonce = parseHex(flags.nonce, '--nonce', 32);
        const { records, unavailable } = await collectEvidence(o);
        for (const u of unavailable) info(ctx, `${u.kind}: not available — ${u.reason} (probed: ${u.probed.join(', ')})`);
        if (records.length === 0) {
          throw new UnavailableError('EVIDENCE_UNAVAILABLE', `No evidence could be collected here: ${unavailable.map((u) => `${u.kind}: ${u.reason}`).join('; ')}.`);
        }
        // Each record becomes a modelseal evidence envelope, which `attest verify/inspect` read back.
        const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
        const envelopes = records.map(({ evidence, certs, auxblob, ...rest }) => ({ ...rest, evidence: b64(evidence), certs: certs.map(b64), ...(auxblob ? { auxblob: b64(auxblob) } : {}) }));
        if (flags.out) {
          const files = envelopes.map((e) => (envelopes.length === 1 ? flags.out! : `${flags.out}.${e.kind as string}.json`));
          // replaces an earlier regular file as before; never a device, FIFO or directory
          envelopes.forEach((e, i) => writeOutputFile(files[i]!, JSON.stringify(e, null, 2) + '\n', { force: true, what: 'the evidence' }));
          for (const f of files) info(ctx, `evidence written to ${f}`);
          if (ctx.json) writeJson({ ok: true, files, unavailable });
        } else {
          writeJson({ ok: true, evidence: envelopes, unavailable });
        }
        return EXIT_OK;
      });
    });
}
