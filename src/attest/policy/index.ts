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
    minimumTcb?: { bootloader?: number; tee?: number; snp?: number; microcode?: number; fmc?: number };
  };
  tdx?: {
    mrtd?: Hex[];
    rtmr0?: Hex[];
    rtmr1?: Hex[];
    rtmr2?: Hex[];
    rtmr3?: Hex[];
    mrConfigId?: Hex[];
    mrOwner?: Hex[];
    tcbStatuses?: string[];
    allowExpiredCollateral?: boolean;
  };
  nvidia?: { requireCcMode?: boolean; driverVersions?: string[]; vbiosVersions?: string[] };
  tdisp?: { requireRun?: boolean };
}

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
  return value as Policy;
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

function allowList(r: Check, rule: string, label: string, allowed: readonly string[] | undefined, actual: string | undefined): void {
  if (!allowed) return;
  if (actual === undefined) return r(rule, false, `${label} was not reported by the verifier.`);
  const ok = allowed.map(lower).includes(lower(actual));
  r(rule, ok, ok ? `${label} ${lower(actual)} is allowed.` : `${label} ${lower(actual)} is not in the allowed list (${allowed.length} value${allowed.length === 1 ? '' : 's'}).`);
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
  if (p.minimumTcb) {
    const tcb = obj(c.tcb);
    if (!tcb) return r('POLICY_TCB', false, 'REPORTED_TCB was not reported by the verifier.');
    const low: string[] = [];
    for (const [name, min] of Object.entries(p.minimumTcb) as Array<[string, number]>) {
      const have = tcb[name];
      if (name === 'fmc' && have === undefined) continue; // no FMC component before Turin
      if (typeof have !== 'number' || have < min) low.push(`${name} ${typeof have === 'number' ? have : 'missing'} < ${min}`);
    }
    r('POLICY_TCB', low.length === 0, low.length === 0 ? 'REPORTED_TCB meets the minimum.' : `REPORTED_TCB below the minimum: ${low.join(', ')}.`);
  }
}

function tdxRules(p: NonNullable<Policy['tdx']>, c: Record<string, unknown>, r: Check): void {
  allowList(r, 'POLICY_MRTD', 'MRTD', p.mrtd, tdxMeasurement(c, 'mrtd'));
  for (const n of [0, 1, 2, 3] as const) {
    const key = `rtmr${n}` as const;
    allowList(r, 'POLICY_RTMR', `RTMR${n}`, p[key], tdxMeasurement(c, key));
  }
  allowList(r, 'POLICY_MRCONFIGID', 'MRCONFIGID', p.mrConfigId, tdxMeasurement(c, 'mrConfigId'));
  allowList(r, 'POLICY_MROWNER', 'MROWNER', p.mrOwner, tdxMeasurement(c, 'mrOwner'));
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
