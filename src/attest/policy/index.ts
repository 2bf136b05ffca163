/**
 * The policy validator (validate, as opposed to verify): given evidence that the platform verifiers
 * already checked cryptographically, decide whether it is *acceptable* to this relying party —
 * measurements, MRTD / RTMRs, minimum TCB, debug, platform kinds, GPU CC mode, TDI state, age.
 * Pure: no I/O except {@link loadPolicy}; every rule reports pass or fail with a reason.
 */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';
import type { EvidenceKind, EvidenceVerdict } from '../core/types.js';
import { InputError } from '../../errors.js';
import { POLICY_SCHEMA } from './schema.js';
import { readInputText } from '../../io/input-file.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../io/json-depth.js';

export { POLICY_SCHEMA, POLICY_SCHEMA_ID } from './schema.js';

type Hex = string;

/** A policy document (see docs/policy.schema.json and docs/policy.md). */
export interface Policy {
  $schema?: string;
  version: 1;
  description?: string;
  allowSimulated?: boolean;
  platforms?: EvidenceKind[];
  requireCpu?: boolean;
  requireKinds?: EvidenceKind[];
  allowDebug?: boolean;
  maxEvidenceAgeSeconds?: number;
  snp?: {
    measurements?: Hex[];
    hostData?: Hex[];
    idKeyDigests?: Hex[];
    vmpls?: number[];
    minimumGuestSvn?: number;
    products?: string[];
    minimumTcb?: SnpTcbMinimum;
    minimumLaunchTcb?: SnpTcbMinimum;
    guestPolicy?: SnpGuestPolicyRule;
    minimumFirmware?: { version?: string; build?: number };
    allowProvisionalFirmware?: boolean;
    reportIds?: Hex[];
    familyIds?: Hex[];
    imageIds?: Hex[];
    chipIds?: Hex[];
    requiredMitigations?: { launch?: string; current?: string };
  };
  tdx?: {
    mrtd?: Hex[];
    rtmr0?: Hex[];
    rtmr1?: Hex[];
    rtmr2?: Hex[];
    rtmr3?: Hex[];
    mrConfigId?: Hex[];
    mrOwner?: Hex[];
    mrSeam?: Hex[];
    minimumTeeTcbSvn?: Hex;
    minimumQeSvn?: number;
    minimumPceSvn?: number;
    tdAttributes?: Bits64Rule;
    xfam?: Bits64Rule;
    tcbStatuses?: string[];
    allowExpiredCollateral?: boolean;
  };
  nvidia?: { requireCcMode?: boolean; driverVersions?: string[]; vbiosVersions?: string[] };
  tdisp?: { requireRun?: boolean };
}

/** Component-wise minimum of an SEV-SNP TCB_VERSION (`fmc` on Turin only). */
export interface SnpTcbMinimum {
  bootloader?: number;
  tee?: number;
  snp?: number;
  microcode?: number;
  fmc?: number;
}

/** Required SEV-SNP guest POLICY bits: true = must be 1, false = must be 0, absent = not checked. */
export interface SnpGuestPolicyRule {
  smt?: boolean;
  migrateMa?: boolean;
  debug?: boolean;
  singleSocket?: boolean;
  cxlAllow?: boolean;
  memAes256Xts?: boolean;
  raplDis?: boolean;
  ciphertextHiding?: boolean;
  pageSwapDisable?: boolean;
  /** Minimum ABI_MAJOR.ABI_MINOR, "major.minor". */
  minimumAbi?: string;
}

/** A 64-bit register rule: the exact value ("0x…"), or the bits under `mask` equal `value`. */
export type Bits64Rule = string | { mask: string; value: string };

/** A verified verdict, with when its evidence was taken (from the attestation statement). */
export type PolicyEvidence = EvidenceVerdict & { collectedAt?: string | Date };

/** One rule applied to one piece of evidence (or to the whole set when `evidence` is absent). */
export interface RuleResult {
  /** Stable code of the rule, e.g. POLICY_DEBUG; it is the failure code when `ok` is false. */
  rule: string;
  ok: boolean;
  reason: string;
  /** Index into the verdicts, when the rule is about one piece of evidence. */
  evidence?: number;
  kind?: EvidenceKind;
}

export interface PolicyResult {
  ok: boolean;
  /** The first failing rule's code. */
  code?: string;
  message: string;
  rules: RuleResult[];
  /** true when simulated evidence was accepted (allowSimulated): the result then proves nothing about hardware. */
  simulated: boolean;
}

let validator: ReturnType<AjvClass['compile']> | undefined;

/**
 * ajv is loaded on first use, synchronously (it is CommonJS): importing it costs ~80 ms, which every
 * command paid at start-up when this module imported it eagerly, though only policy checks need it.
 */
function newAjv(options: ConstructorParameters<typeof AjvClass>[0]): AjvClass {
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return new Ajv(options);
}

function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` ("${String((e.params as { additionalProperty?: string }).additionalProperty)}")` : ''}`)
    .join('; ');
}

/** Checks a parsed JSON value against the policy schema; throws InputError POLICY_INVALID naming the bad fields. */
export function parsePolicy(value: unknown): Policy {
  validator ??= newAjv({ allErrors: true, strict: true }).compile(POLICY_SCHEMA);
  if (!validator(value)) {
    throw new InputError('POLICY_INVALID', `The policy does not follow docs/policy.schema.json: ${formatAjvErrors(validator.errors)}.`);
  }
  const policy = value as Policy;
  // A value bit outside its mask can never match: the schema cannot say so, and such a rule would refuse everything.
  for (const [path, rule] of [['/tdx/tdAttributes', policy.tdx?.tdAttributes], ['/tdx/xfam', policy.tdx?.xfam]] as const) {
    if (typeof rule === 'object' && (BigInt(rule.value) & ~BigInt(rule.mask)) !== 0n) {
      throw new InputError('POLICY_INVALID', `The policy does not follow docs/policy.schema.json: ${path} value ${rule.value} sets bits outside its mask ${rule.mask}, so it could never match.`);
    }
  }
  return policy;
}

/** Reads and checks a policy file (JSON). */
export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readInputText(path, 'policy');
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    throw new InputError('POLICY_UNREADABLE', `Cannot read the policy file ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (jsonTooDeep(text)) throw new InputError('POLICY_INVALID', `The policy file ${path} nests deeper than ${MAX_JSON_DEPTH} levels; it is not a policy.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError('POLICY_INVALID', `The policy file ${path} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return parsePolicy(json);
}

// ---- claim accessors: the verifiers' claim names, read defensively (a missing claim fails its rule) ----

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function debugOf(c: Record<string, unknown>): boolean | undefined {
  for (const v of [c.debug, obj(c.attributes)?.debug, obj(c.tdAttributes)?.debug]) if (typeof v === 'boolean') return v;
  return undefined;
}

function tdxMeasurement(c: Record<string, unknown>, name: 'mrtd' | 'rtmr0' | 'rtmr1' | 'rtmr2' | 'rtmr3' | 'mrConfigId' | 'mrOwner'): string | undefined {
  if (name === 'mrtd') return str(c.mrTd) ?? str(c.mrtd);
  if (name.startsWith('rtmr')) {
    const i = Number(name.slice(4));
    const list = c.rtmrs;
    return (Array.isArray(list) ? str(list[i]) : undefined) ?? str(c[name]);
  }
  return str(c[name]);
}

function tcbStatusOf(c: Record<string, unknown>): string | undefined {
  return str(c.tcbStatus) ?? str(obj(c.tcb)?.status);
}

function tdiStateOf(c: Record<string, unknown>): string | undefined {
  const v = c.tdiState ?? c.state;
  if (typeof v === 'number') return (['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN', 'ERROR'] as const)[v] ?? `unknown (${v})`;
  return str(v);
}

const lower = (s: string) => s.toLowerCase();
const CPU_KINDS: readonly EvidenceKind[] = ['sev-snp', 'tdx'];
/** Allowed clock skew between the collecting machine and the validator for "collected in the future". */
const CLOCK_SKEW_SECONDS = 300;

/**
 * Applies `policy` to verified evidence at time `now`. Each present rule yields one {@link RuleResult}
 * per piece of evidence it concerns; the result is ok only when every rule passed.
 */
export function validatePolicy(verdicts: readonly PolicyEvidence[], policy: Policy, now: Date = new Date()): PolicyResult {
  const rules: RuleResult[] = [];
  const add = (rule: string, ok: boolean, reason: string, i?: number, kind?: EvidenceKind) =>
    rules.push({ rule, ok, reason, ...(i === undefined ? {} : { evidence: i }), ...(kind ? { kind } : {}) });
  const allowSimulated = policy.allowSimulated === true;

  if (verdicts.length === 0) add('POLICY_NO_EVIDENCE', false, 'No evidence was given to validate.');

  // Presence rules over the whole set.
  const kinds = new Set(verdicts.map((v) => v.kind));
  if (policy.requireCpu !== false) {
    const cpu = verdicts.find((v) => CPU_KINDS.includes(v.kind));
    add('POLICY_REQUIRED_KIND', cpu !== undefined, cpu ? `CPU report present (${cpu.kind}).` : 'No CPU TEE report (sev-snp or tdx) is present, and the policy requires one.');
  }
  for (const k of policy.requireKinds ?? []) {
    add('POLICY_REQUIRED_KIND', kinds.has(k), kinds.has(k) ? `${k} evidence present.` : `The policy requires ${k} evidence and there is none.`);
  }

  verdicts.forEach((v, i) => {
    const c = v.claims ?? {};
    const r = (rule: string, ok: boolean, reason: string) => add(rule, ok, reason, i, v.kind);

    r('POLICY_NOT_VERIFIED', v.verified, v.verified ? 'Evidence verified cryptographically.' : `Evidence did not verify [${v.code ?? 'UNKNOWN'}]; a policy cannot accept it.`);
    if (v.simulated) {
      r('POLICY_SIMULATED', allowSimulated, allowSimulated ? 'SIMULATED evidence, accepted because the policy sets allowSimulated (it proves nothing about real hardware).' : 'SIMULATED evidence is refused (the policy does not set allowSimulated).');
    }
    if (policy.platforms) {
      const ok = policy.platforms.includes(v.kind);
      r('POLICY_PLATFORM', ok, ok ? `${v.kind} is an allowed platform.` : `${v.kind} is not among the allowed platforms (${policy.platforms.join(', ')}).`);
    }
    if (policy.maxEvidenceAgeSeconds !== undefined) {
      const at = v.collectedAt === undefined ? NaN : new Date(v.collectedAt).getTime();
      if (Number.isNaN(at)) r('POLICY_EVIDENCE_AGE', false, 'The evidence has no collection time, so its age cannot be checked.');
      else {
        const age = (now.getTime() - at) / 1000;
        const ok = age <= policy.maxEvidenceAgeSeconds && age >= -CLOCK_SKEW_SECONDS;
        r('POLICY_EVIDENCE_AGE', ok, age < -CLOCK_SKEW_SECONDS
          ? `The evidence claims to be collected ${Math.round(-age)} s in the future.`
          : `Evidence age ${Math.max(0, Math.round(age))} s ${ok ? '≤' : '>'} maximum ${policy.maxEvidenceAgeSeconds} s.`);
      }
    }
    if (CPU_KINDS.includes(v.kind)) {
      const debug = debugOf(c);
      if (debug === undefined) r('POLICY_DEBUG', false, 'The verifier did not report whether the guest is a debug guest.');
      else if (!debug) r('POLICY_DEBUG', true, 'Not a debug guest.');
      else r('POLICY_DEBUG', policy.allowDebug === true, policy.allowDebug ? 'Debug guest, allowed by allowDebug.' : 'Debug guest: the host can read its memory; refused (set allowDebug to accept).');
    }
    if (v.kind === 'sev-snp' && policy.snp) snpRules(policy.snp, c, r);
    if (v.kind === 'tdx' && policy.tdx) tdxRules(policy.tdx, c, r);
    if (v.kind === 'nvidia-gpu' && policy.nvidia) nvidiaRules(policy.nvidia, c, r);
    if (v.kind === 'tdisp' && policy.tdisp?.requireRun) {
      const state = tdiStateOf(c);
      r('POLICY_TDI_STATE', state === 'RUN', state === undefined ? 'The TDI state was not reported.' : state === 'RUN' ? 'TDI is in RUN.' : `TDI is in ${state}, not RUN.`);
    }
  });

  const failed = rules.find((x) => !x.ok);
  const simulated = verdicts.some((v) => v.simulated);
  const message = failed
    ? `Policy refused the evidence: ${failed.reason}`
    : `Policy satisfied: ${rules.length} rule checks passed${simulated ? ' (SIMULATED evidence: proves nothing about real hardware)' : ''}.`;
  return { ok: !failed, ...(failed ? { code: failed.rule } : {}), message, rules, simulated };
}

type Check = (rule: string, ok: boolean, reason: string) => void;

/** Allowed values shown in a failure reason (all of them when few, else the count). */
function allowedText(allowed: readonly string[]): string {
  return allowed.length <= 3 ? `allowed: ${allowed.map(lower).join(', ')}` : `${allowed.length} values allowed`;
}

function allowList(r: Check, rule: string, label: string, allowed: readonly string[] | undefined, actual: string | undefined): void {
  if (!allowed) return;
  if (actual === undefined) return r(rule, false, `${label} was not reported by the verifier.`);
  const ok = allowed.map(lower).includes(lower(actual));
  r(rule, ok, ok ? `${label} ${lower(actual)} is allowed.` : `${label} ${lower(actual)} is not in the allowed list (${allowedText(allowed)}).`);
}

type TcbName = keyof SnpTcbMinimum;
const TCB_NAMES: readonly TcbName[] = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'];

function tcbText(t: Record<string, unknown>): string {
  return TCB_NAMES.filter((n) => typeof t[n] === 'number').map((n) => `${n} ${String(t[n])}`).join(', ');
}

/** Every listed component of the claim `tcb` ≥ its minimum (fmc is skipped where the report has none: before Turin). */
function tcbMinimum(r: Check, rule: string, field: string, min: SnpTcbMinimum, tcb: Record<string, unknown> | undefined): void {
  if (!tcb) return r(rule, false, `${field} was not reported by the verifier.`);
  const low: string[] = [];
  for (const [name, want] of Object.entries(min) as Array<[string, number]>) {
    const have = tcb[name];
    if (name === 'fmc' && have === undefined) continue; // no FMC component before Turin
    if (typeof have !== 'number' || have < want) low.push(`${name} ${typeof have === 'number' ? have : 'missing'} < ${want}`);
  }
  r(rule, low.length === 0, low.length === 0 ? `${field} meets the minimum.` : `${field} below the minimum: ${low.join(', ')}.`);
}

/** "major.minor[.build]" → numbers; undefined when the claim is not in that form. */
function versionParts(v: unknown): number[] | undefined {
  if (typeof v !== 'string' || !/^\d{1,3}\.\d{1,3}(?:\.\d{1,3})?$/.test(v)) return undefined;
  return v.split('.').map(Number);
}

/** Lexicographic comparison of version tuples of equal length. */
function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

const GUEST_POLICY_BITS: ReadonlyArray<[keyof SnpGuestPolicyRule, string, number]> = [
  ['smt', 'SMT', 16],
  ['migrateMa', 'MIGRATE_MA', 18],
  ['debug', 'DEBUG', 19],
  ['singleSocket', 'SINGLE_SOCKET', 20],
  ['cxlAllow', 'CXL_ALLOW', 21],
  ['memAes256Xts', 'MEM_AES_256_XTS', 22],
  ['raplDis', 'RAPL_DIS', 23],
  ['ciphertextHiding', 'CIPHERTEXT_HIDING', 24],
  ['pageSwapDisable', 'PAGE_SWAP_DISABLE', 25],
];

function guestPolicyRules(r: Check, want: SnpGuestPolicyRule, gp: Record<string, unknown> | undefined): void {
  for (const [key, name, bit] of GUEST_POLICY_BITS) {
    const required = want[key];
    if (required === undefined) continue;
    const have = gp?.[key];
    const field = `snp.guestPolicy.${key}: POLICY.${name} (bit ${bit})`;
    if (typeof have !== 'boolean') r('POLICY_GUEST_POLICY', false, `${field} was not reported by the verifier.`);
    else r('POLICY_GUEST_POLICY', have === required, `${field} is ${have ? 1 : 0}${have === required ? ', as required' : `; the policy requires ${required ? 1 : 0}`}.`);
  }
  if (want.minimumAbi !== undefined) {
    const min = versionParts(want.minimumAbi)!;
    const have = typeof gp?.abiMajor === 'number' && typeof gp.abiMinor === 'number' ? [gp.abiMajor, gp.abiMinor] : undefined;
    const field = 'snp.guestPolicy.minimumAbi: POLICY.ABI_MAJOR.ABI_MINOR';
    if (!have) r('POLICY_GUEST_POLICY', false, `${field} was not reported by the verifier.`);
    else {
      const ok = compareVersions(have, min) >= 0;
      r('POLICY_GUEST_POLICY', ok, `${field} ${have.join('.')} ${ok ? '≥' : '<'} minimum ${want.minimumAbi}.`);
    }
  }
}

function firmwareMinimum(r: Check, min: NonNullable<NonNullable<Policy['snp']>['minimumFirmware']>, current: unknown): void {
  const have = versionParts(current);
  if (!have || have.length !== 3) return r('POLICY_FIRMWARE', false, 'snp.minimumFirmware: the current firmware version was not reported by the verifier.');
  const [major, minor, build] = have as [number, number, number];
  let ok: boolean;
  let wanted: string;
  if (min.version !== undefined) {
    const v = versionParts(min.version)!;
    ok = min.build === undefined ? compareVersions([major, minor], v) >= 0 : compareVersions(have, [...v, min.build]) >= 0;
    wanted = min.build === undefined ? min.version : `${min.version}.${min.build}`;
  } else {
    ok = build >= min.build!;
    wanted = `build ${min.build!}`;
  }
  const shown = min.version === undefined ? `CURRENT_BUILD ${build} (firmware ${major}.${minor}.${build})` : `CURRENT firmware ${major}.${minor}.${build}`;
  r('POLICY_FIRMWARE', ok, `snp.minimumFirmware: ${shown} ${ok ? '≥' : '<'} minimum ${wanted}.`);
}

/** go-sev-guest's PermitProvisionalFirmware: committed = current, or (when allowed) committed ≤ current. */
function provisionalFirmware(r: Check, allow: boolean, c: Record<string, unknown>): void {
  const field = `snp.allowProvisionalFirmware ${String(allow)}`;
  const committed = obj(c.committedTcb);
  const current = obj(c.currentTcb);
  const cv = versionParts(c.committedFirmwareVersion);
  const uv = versionParts(c.firmwareVersion);
  if (!committed || !current || !cv || !uv || cv.length !== uv.length) {
    return r('POLICY_PROVISIONAL_FIRMWARE', false, `${field}: COMMITTED_TCB, CURRENT_TCB and both firmware versions must be reported, and they were not.`);
  }
  const problems: string[] = [];
  const names = TCB_NAMES.filter((n) => committed[n] !== undefined || current[n] !== undefined);
  const tcbBad = names.filter((n) => {
    const a = committed[n];
    const b = current[n];
    return typeof a !== 'number' || typeof b !== 'number' || (allow ? a > b : a !== b);
  });
  if (tcbBad.length > 0) {
    problems.push(`COMMITTED_TCB (${tcbText(committed)}) ${allow ? 'is above' : '≠'} CURRENT_TCB (${tcbText(current)}) in ${tcbBad.join(', ')}`);
  }
  const cmp = compareVersions(cv, uv);
  if (allow ? cmp > 0 : cmp !== 0) problems.push(`committed firmware ${cv.join('.')} ${allow ? 'is above' : '≠'} current ${uv.join('.')}`);
  if (problems.length === 0) {
    r('POLICY_PROVISIONAL_FIRMWARE', true, allow ? 'Committed TCB and firmware ≤ current (provisional firmware allowed).' : 'Committed TCB and firmware equal the current ones.');
  } else {
    r('POLICY_PROVISIONAL_FIRMWARE', false, `${field}: ${problems.join('; ')}${allow ? ' (the report is inconsistent).' : ': the running firmware is provisional and can be rolled back (set allowProvisionalFirmware to accept).'}`);
  }
}

function chipIdRule(r: Check, allowed: readonly string[] | undefined, actual: string | undefined): void {
  if (!allowed) return;
  if (actual === undefined) return r('POLICY_CHIP_ID', false, 'snp.chipIds: CHIP_ID was not reported by the verifier.');
  const a = lower(actual);
  // An 8-byte entry is a Turin hwID: the report's CHIP_ID is those 8 bytes, then zeros.
  const full = (e: string) => (e.length === 16 ? lower(e) + '0'.repeat(112) : lower(e));
  const ok = allowed.some((e) => full(e) === a);
  const masked = /^0+$/.test(a);
  r('POLICY_CHIP_ID', ok, ok
    ? `CHIP_ID ${a.slice(0, 16)}… is allowed.`
    : `snp.chipIds: CHIP_ID ${masked ? 'is masked (all zero: MASK_CHIP_ID)' : `${a.slice(0, 16)}…`} is not in the allowed list (${allowed.length === 1 ? `allowed: ${lower(allowed[0]!).slice(0, 16)}…` : `${allowed.length} values allowed`}).`);
}

function mitigationRule(r: Check, which: 'launch' | 'current', required: string | undefined, c: Record<string, unknown>): void {
  if (required === undefined) return;
  const name = which === 'launch' ? 'LAUNCH_MIT_VECTOR' : 'CURRENT_MIT_VECTOR';
  const claim = which === 'launch' ? c.launchMitVector : c.currentMitVector;
  const field = `snp.requiredMitigations.${which}: ${name}`;
  if (typeof claim !== 'string' || !/^0x[0-9a-f]+$/i.test(claim)) {
    const v = typeof c.reportVersion === 'number' ? ` (report version ${c.reportVersion}; the vectors arrived in version 5)` : '';
    return r('POLICY_MITIGATION', false, `${field} is not in this report${v}.`);
  }
  const want = BigInt(required);
  const have = BigInt(claim);
  const missing = want & ~have;
  r('POLICY_MITIGATION', missing === 0n, missing === 0n
    ? `${name} ${claim} has the required bits ${required}.`
    : `${field} ${claim} lacks bit(s) ${bitList(missing)} of the required ${required}.`);
}

function bitList(v: bigint): string {
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if ((v >> BigInt(i)) & 1n) out.push(i);
  return out.join(', ');
}

function snpRules(p: NonNullable<Policy['snp']>, c: Record<string, unknown>, r: Check): void {
  allowList(r, 'POLICY_MEASUREMENT', 'MEASUREMENT', p.measurements, str(c.measurement));
  allowList(r, 'POLICY_HOST_DATA', 'HOST_DATA', p.hostData, str(c.hostData));
  allowList(r, 'POLICY_ID_KEY', 'ID_KEY_DIGEST', p.idKeyDigests, str(c.idKeyDigest));
  if (p.vmpls) {
    const vmpl = typeof c.vmpl === 'number' ? c.vmpl : undefined;
    r('POLICY_VMPL', vmpl !== undefined && p.vmpls.includes(vmpl), vmpl === undefined ? 'VMPL was not reported.' : `VMPL ${vmpl} ${p.vmpls.includes(vmpl) ? 'is' : 'is not'} allowed (${p.vmpls.join(', ')}).`);
  }
  if (p.minimumGuestSvn !== undefined) {
    const svn = typeof c.guestSvn === 'number' ? c.guestSvn : undefined;
    r('POLICY_GUEST_SVN', svn !== undefined && svn >= p.minimumGuestSvn, svn === undefined ? 'GUEST_SVN was not reported.' : `GUEST_SVN ${svn} ${svn >= p.minimumGuestSvn ? '≥' : '<'} minimum ${p.minimumGuestSvn}.`);
  }
  if (p.products) {
    const product = str(c.product);
    const ok = product !== undefined && p.products.some((x) => product.toLowerCase().startsWith(x.toLowerCase()));
    r('POLICY_PRODUCT', ok, product === undefined ? 'The SNP product was not determined.' : `Product ${product} ${ok ? 'is' : 'is not'} allowed (${p.products.join(', ')}).`);
  }
  if (p.minimumTcb) tcbMinimum(r, 'POLICY_TCB', 'REPORTED_TCB', p.minimumTcb, obj(c.tcb));
  if (p.minimumLaunchTcb) tcbMinimum(r, 'POLICY_LAUNCH_TCB', 'LAUNCH_TCB', p.minimumLaunchTcb, obj(c.launchTcb));
  if (p.guestPolicy) guestPolicyRules(r, p.guestPolicy, obj(c.guestPolicy));
  if (p.minimumFirmware) firmwareMinimum(r, p.minimumFirmware, c.firmwareVersion);
  if (p.allowProvisionalFirmware !== undefined) provisionalFirmware(r, p.allowProvisionalFirmware, c);
  allowList(r, 'POLICY_REPORT_ID', 'REPORT_ID', p.reportIds, str(c.reportId));
  allowList(r, 'POLICY_FAMILY_ID', 'FAMILY_ID', p.familyIds, str(c.familyId));
  allowList(r, 'POLICY_IMAGE_ID', 'IMAGE_ID', p.imageIds, str(c.imageId));
  chipIdRule(r, p.chipIds, str(c.chipId));
  mitigationRule(r, 'launch', p.requiredMitigations?.launch, c);
  mitigationRule(r, 'current', p.requiredMitigations?.current, c);
}

/** A 64-bit claim: '0x…' is a number; 16 bare hex digits are the register's little-endian bytes (the `xfam` claim). */
function u64Claim(v: unknown): bigint | undefined {
  if (typeof v !== 'string') return undefined;
  if (/^0x[0-9a-f]{1,16}$/i.test(v)) return BigInt(v);
  if (!/^[0-9a-f]{16}$/i.test(v)) return undefined;
  let out = 0n;
  for (let i = 7; i >= 0; i--) out = (out << 8n) | BigInt(parseInt(v.slice(i * 2, i * 2 + 2), 16));
  return out;
}

const hex64 = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');

function bits64Rule(r: Check, rule: string, field: string, name: string, want: Bits64Rule | undefined, claim: unknown): void {
  if (want === undefined) return;
  const have = u64Claim(claim);
  if (have === undefined) return r(rule, false, `${field}: ${name} was not reported by the verifier.`);
  if (typeof want === 'string') {
    const ok = have === BigInt(want);
    return r(rule, ok, ok ? `${name} ${hex64(have)} is the required value.` : `${field}: ${name} is ${hex64(have)}; the policy requires ${hex64(BigInt(want))} (differs in bit(s) ${bitList(have ^ BigInt(want))}).`);
  }
  const mask = BigInt(want.mask);
  const value = BigInt(want.value);
  const diff = (have & mask) ^ value;
  r(rule, diff === 0n, diff === 0n
    ? `${name} ${hex64(have)} matches ${hex64(value)} under mask ${hex64(mask)}.`
    : `${field}: ${name} is ${hex64(have)}; under mask ${hex64(mask)} it must be ${hex64(value)} but is ${hex64(have & mask)} (bit(s) ${bitList(diff)}).`);
}

function minimumSvn(r: Check, rule: string, field: string, min: number | undefined, have: unknown, source: string): void {
  if (min === undefined) return;
  if (typeof have !== 'number') return r(rule, false, `${field}: ${source} was not reported by the verifier.`);
  r(rule, have >= min, `${source} ${have} ${have >= min ? '≥' : '<'} minimum ${min}${have >= min ? '' : ` (${field})`}.`);
}

function teeTcbSvnRule(r: Check, min: string | undefined, claim: unknown): void {
  if (min === undefined) return;
  if (typeof claim !== 'string' || !/^[0-9a-f]{32}$/i.test(claim)) return r('POLICY_TEE_TCB_SVN', false, 'tdx.minimumTeeTcbSvn: TEE_TCB_SVN was not reported by the verifier.');
  const low: string[] = [];
  for (let i = 0; i < 16; i++) {
    const have = parseInt(claim.slice(i * 2, i * 2 + 2), 16);
    const want = parseInt(min.slice(i * 2, i * 2 + 2), 16);
    if (have < want) low.push(`byte ${i} is ${have} < ${want}`);
  }
  r('POLICY_TEE_TCB_SVN', low.length === 0, low.length === 0
    ? `TEE_TCB_SVN ${lower(claim)} ≥ minimum ${lower(min)} in every byte.`
    : `tdx.minimumTeeTcbSvn: TEE_TCB_SVN ${lower(claim)} is below the minimum ${lower(min)}: ${low.join(', ')}.`);
}

function tdxRules(p: NonNullable<Policy['tdx']>, c: Record<string, unknown>, r: Check): void {
  allowList(r, 'POLICY_MRTD', 'MRTD', p.mrtd, tdxMeasurement(c, 'mrtd'));
  for (const n of [0, 1, 2, 3] as const) {
    const key = `rtmr${n}` as const;
    allowList(r, 'POLICY_RTMR', `RTMR${n}`, p[key], tdxMeasurement(c, key));
  }
  allowList(r, 'POLICY_MRCONFIGID', 'MRCONFIGID', p.mrConfigId, tdxMeasurement(c, 'mrConfigId'));
  allowList(r, 'POLICY_MROWNER', 'MROWNER', p.mrOwner, tdxMeasurement(c, 'mrOwner'));
  allowList(r, 'POLICY_MRSEAM', 'MRSEAM', p.mrSeam, str(c.mrSeam));
  teeTcbSvnRule(r, p.minimumTeeTcbSvn, c.teeTcbSvn ?? obj(c.tcb)?.teeTcbSvn);
  minimumSvn(r, 'POLICY_QE_SVN', 'tdx.minimumQeSvn', p.minimumQeSvn, obj(c.tcb)?.qeIsvSvn, 'QE ISVSVN');
  minimumSvn(r, 'POLICY_PCE_SVN', 'tdx.minimumPceSvn', p.minimumPceSvn, obj(c.pckTcb)?.pceSvn, 'PCE SVN of the PCK certificate');
  bits64Rule(r, 'POLICY_TD_ATTRIBUTES', 'tdx.tdAttributes', 'TD_ATTRIBUTES', p.tdAttributes, c.tdAttributes);
  bits64Rule(r, 'POLICY_XFAM', 'tdx.xfam', 'XFAM', p.xfam, c.xfam);
  if (p.tcbStatuses && c.collateralExpired === true) {
    r('POLICY_COLLATERAL_EXPIRED', p.allowExpiredCollateral === true, p.allowExpiredCollateral
      ? 'TCB collateral is past its nextUpdate; accepted by allowExpiredCollateral.'
      : 'The TCB status comes from collateral past its nextUpdate at the verification time: fetch fresh collateral (or set allowExpiredCollateral).');
  }
  if (p.tcbStatuses) {
    const status = tcbStatusOf(c);
    const ok = status !== undefined && p.tcbStatuses.includes(status);
    r('POLICY_TCB', ok, status === undefined
      ? 'No TCB status: the quote was verified without TCB collateral (pass --collateral).'
      : `TCB status ${status} ${ok ? 'is' : 'is not'} accepted (${p.tcbStatuses.join(', ')}).`);
  }
}

function nvidiaRules(p: NonNullable<Policy['nvidia']>, c: Record<string, unknown>, r: Check): void {
  if (p.requireCcMode) {
    const cc = c.ccMode;
    r('POLICY_GPU_CC_MODE', cc === true, cc === true ? 'GPU confidential-computing mode is on.' : cc === false ? 'GPU confidential-computing mode is OFF.' : 'GPU CC mode is not recorded in the evidence, so it cannot be required.');
  }
  const devices = Array.isArray(c.devices) ? (c.devices as Record<string, unknown>[]).filter((d) => d.device !== 'nvswitch') : [c];
  const versions = (key: 'driverVersion' | 'vbiosVersion') => devices.map((d) => str(d[key]));
  for (const [rule, label, allowed, key] of [
    ['POLICY_GPU_DRIVER', 'Driver version', p.driverVersions, 'driverVersion'],
    ['POLICY_GPU_VBIOS', 'VBIOS version', p.vbiosVersions, 'vbiosVersion'],
  ] as const) {
    if (!allowed) continue;
    const have = versions(key);
    const bad = have.filter((v) => v === undefined || !allowed.map(lower).includes(lower(v)));
    r(rule, bad.length === 0, bad.length === 0 ? `${label} ${have.join(', ')} allowed.` : `${label} ${bad.map((v) => v ?? 'missing').join(', ')} not in the allowed list.`);
  }
}
