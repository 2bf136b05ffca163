/** `modelseal inspect BUNDLE [--json]`: what a bundle claims (format, signer, statement, resources), unverified. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { COMPANION_PREDICATE_TYPE, inspectBundle, inspectCompanion, type BundleInspection, type CompanionInspection } from '../../index.js';
import { parseIntArg } from '../args.js';
import { contextOf, runAction, writeJson } from '../output.js';

interface InspectFlags {
  json?: boolean;
  resources?: boolean;
  maxList?: string;
}

function human(r: BundleInspection, showAll: boolean, max: number): string {
  const out: string[] = ['NOT VERIFIED: this shows what the bundle claims; use `modelseal verify` to check it.'];
  out.push(`media type: ${r.mediaType}`);
  out.push(`method: ${r.method}`);
  const s = r.signer;
  if (s.keyHint) out.push(`key hint: ${s.keyHint} (sha256 of the signer's public key PEM)`);
  if (s.keyDetails) out.push(`key details: ${s.keyDetails}`);
  if (s.embeddedKey) out.push(`embedded key: ${s.embeddedKey.curve}, hint ${s.embeddedKey.hint} (informational, never trusted)`);
  for (const [i, c] of (s.certificates ?? []).entries()) {
    out.push(`certificate ${i}: ${c.subject} (issuer ${c.issuer}), ${c.notBefore} … ${c.notAfter}${c.isCA ? ', CA' : ''}${c.keyCurve ? `, key ${c.keyCurve}` : ''}`);
    if (c.subjectAltName) out.push(`  SAN: ${c.subjectAltName}`);
    if (c.oidcIssuer) out.push(`  OIDC issuer: ${c.oidcIssuer}`);
  }
  if (s.tlogEntries !== undefined) out.push(`transparency-log entries: ${s.tlogEntries}, RFC 3161 timestamps: ${s.rfc3161Timestamps ?? 0}`);
  out.push(`payload type: ${r.payloadType}, signatures: ${r.signatures}`);
  if (r.predicateType) out.push(`predicate type: ${r.predicateType}`);
  if (r.statementError) out.push(`statement: NOT a usable OMS statement [${r.statementError.code}]: ${r.statementError.message}`);
  if (r.manifest) {
    const m = r.manifest;
    const ser = m.serialization;
    out.push(`format: ${r.format}`);
    out.push(`model name: ${m.modelName || '(none)'}`);
    out.push(`root digest: ${r.declaredRootDigest} ${r.rootDigestConsistent ? '(consistent with the listed resources)' : `(INCONSISTENT: the resources hash to ${m.rootDigest})`}`);
    out.push(`serialization: ${ser.method}, ${ser.hashType}${ser.shardSize ? `, shard size ${ser.shardSize}` : ''}, allow_symlinks ${ser.allowSymlinks}${ser.ignorePaths.length ? `, ignore_paths ${ser.ignorePaths.join(' ')}` : ''}`);
    out.push(`resources: ${m.resources.length}`);
    const list = showAll ? m.resources : m.resources.slice(0, max);
    for (const res of list) out.push(`  ${res.digest}  ${res.algorithm}  ${res.name}`);
    if (list.length < m.resources.length) out.push(`  … and ${m.resources.length - list.length} more (--resources shows all)`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

function companionLines(c: CompanionInspection, alone: boolean, showAll: boolean, max: number): string {
  const out: string[] = alone ? ['NOT VERIFIED: this shows what the companion claims; use `modelseal verify` to check it.'] : [];
  out.push(`Merkle companion: ${c.path} (${c.predicateType})`);
  out.push(`  bound to OMS root: ${c.omsRoot} (model ${c.modelName || '(none)'})`);
  out.push(`  sidecar: ${c.sidecar.path} (${c.sidecar.bytes === null ? 'MISSING' : `${c.sidecar.bytes} bytes`})`);
  out.push(`  files: ${c.files.length}`);
  const list = showAll ? c.files : c.files.slice(0, max);
  for (const f of list) out.push(`    ${f.root}  ${f.tree}  leaf ${f.leafSize}  ${f.size} bytes  ${f.name}`);
  if (list.length < c.files.length) out.push(`    … and ${c.files.length - list.length} more (--resources shows all)`);
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show what a signature bundle claims (format, signer, statement, resources) without verifying it')
    .argument('<bundle>', 'the .sig bundle')
    .option('--json', 'print one JSON object on stdout (decoded statement included)')
    .option('--resources', 'list every resource (default: the first --max-list)')
    .option('--max-list <n>', 'resources listed in human output', '50')
    .action(async (bundle: string, flags: InspectFlags) => {
      const ctx = contextOf(flags, false);
      await runAction(ctx, async () => {
        const max = parseIntArg(flags.maxList ?? '50', '--max-list', 1, 1_000_000);
        const r = inspectBundle(bundle);
        // a companion given directly, or the one beside the bundle (sign --merkle)
        const cpath = r.predicateType === COMPANION_PREDICATE_TYPE ? bundle : existsSync(`${bundle}.merkle`) ? `${bundle}.merkle` : undefined;
        const companion = cpath !== undefined ? inspectCompanion(cpath) : undefined;
        if (ctx.json) writeJson(companion ? { ...r, companion } : r);
        else {
          if (r.predicateType !== COMPANION_PREDICATE_TYPE) process.stdout.write(human(r, flags.resources === true, max) + '\n');
          if (companion) process.stdout.write(companionLines(companion, r.predicateType === COMPANION_PREDICATE_TYPE, flags.resources === true, max) + '\n');
        }
        return 0;
      });
    });
}
