/**
 * The JSON Schema of an attestation policy (draft 2020-12 subset that ajv 8 validates). The same
 * document is published as docs/policy.schema.json; a test keeps the two identical.
 */

const hex = (bytes: number) => ({ type: 'string', pattern: `^[0-9a-fA-F]{${bytes * 2}}$` });
const hexList = (bytes: number, description: string) => ({
  type: 'array',
  description,
  items: hex(bytes),
  minItems: 1,
  uniqueItems: true,
});
const u8 = { type: 'integer', minimum: 0, maximum: 255 };
const u16 = { type: 'integer', minimum: 0, maximum: 65535 };
const U8_DEC = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** "major.minor", each 0–255 (SEV-SNP API / ABI versions, as go-sev-guest writes them). */
const majorMinor = (description: string) => ({ type: 'string', pattern: `^${U8_DEC}\\.${U8_DEC}$`, description });
/** A 64-bit value as 0x-prefixed hex (as the verdicts print TD_ATTRIBUTES and the SNP mitigation vectors). */
const u64Hex = { type: 'string', pattern: '^0[xX][0-9a-fA-F]{1,16}$' };
/** A 64-bit register: an exact value, or `{ mask, value }` (the bits under `mask` must equal `value`). */
const bits64 = (description: string) => ({
  description,
  oneOf: [
    u64Hex,
    { type: 'object', additionalProperties: false, required: ['mask', 'value'], properties: { mask: u64Hex, value: u64Hex } },
  ],
});
const snpTcb = (description: string) => ({
  type: 'object',
  additionalProperties: false,
  description,
  properties: { bootloader: u8, tee: u8, snp: u8, microcode: u8, fmc: u8 },
});
const policyBit = (bit: number, name: string) => ({ type: 'boolean', description: `POLICY bit ${bit} (${name}): true = must be 1, false = must be 0.` });

export const POLICY_SCHEMA_ID = 'https://modelseal.dev/schemas/attestation-policy-v1.json';

export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: POLICY_SCHEMA_ID,
  title: 'modelseal attestation policy',
  description:
    'What a relying party requires of verified TEE evidence (validate), applied after the evidence was verified cryptographically (verify). Every rule that is present must pass; absent rules are not checked.',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Policy format version.' },
    description: { type: 'string' },
    allowSimulated: {
      type: 'boolean',
      default: false,
      description: 'Accept evidence of the simulated platform (tests and demos only: it proves nothing about real hardware).',
    },
    platforms: {
      type: 'array',
      description: 'Evidence kinds that may appear. Any other kind fails POLICY_PLATFORM. Default: all kinds.',
      items: { enum: ['sev-snp', 'tdx', 'nvidia-gpu', 'tdisp'] },
      minItems: 1,
      uniqueItems: true,
    },
    requireCpu: {
      type: 'boolean',
      default: true,
      description: 'A CPU TEE report (sev-snp or tdx) must be present.',
    },
    requireKinds: {
      type: 'array',
      description: 'Evidence kinds that must each be present at least once (e.g. ["nvidia-gpu"]).',
      items: { enum: ['sev-snp', 'tdx', 'nvidia-gpu', 'tdisp'] },
      uniqueItems: true,
    },
    allowDebug: {
      type: 'boolean',
      default: false,
      description: 'Accept debug guests (SNP POLICY.DEBUG, TDX TD_ATTRIBUTES.DEBUG). Debug guests expose their memory to the host.',
    },
    maxEvidenceAgeSeconds: {
      type: 'integer',
      minimum: 0,
      description: 'Evidence older than this (collection time to validation time) fails POLICY_EVIDENCE_AGE.',
    },
    snp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        measurements: hexList(48, 'Allowed launch MEASUREMENTs (SHA-384, hex).'),
        hostData: hexList(32, 'Allowed HOST_DATA values.'),
        idKeyDigests: hexList(48, 'Allowed ID_KEY_DIGEST values.'),
        vmpls: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 3 }, minItems: 1, uniqueItems: true, description: 'Allowed VMPLs of the requester.' },
        minimumGuestSvn: { type: 'integer', minimum: 0, maximum: 4294967295 },
        products: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true, description: 'Allowed products (Milan, Genoa, Turin).' },
        minimumTcb: snpTcb('Minimum REPORTED_TCB, component by component (fmc on Turin only).'),
        minimumLaunchTcb: snpTcb('Minimum LAUNCH_TCB (the CURRENT_TCB when the guest was launched), component by component.'),
        guestPolicy: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          description: 'The guest POLICY the report carries, bit by bit: true = the bit must be 1, false = it must be 0; an absent bit is not checked. DEBUG is also governed by allowDebug.',
          properties: {
            smt: policyBit(16, 'SMT allowed'),
            migrateMa: policyBit(18, 'MIGRATE_MA, a migration agent may be associated'),
            debug: policyBit(19, 'DEBUG'),
            singleSocket: policyBit(20, 'SINGLE_SOCKET'),
            cxlAllow: policyBit(21, 'CXL_ALLOW'),
            memAes256Xts: policyBit(22, 'MEM_AES_256_XTS required'),
            raplDis: policyBit(23, 'RAPL_DIS, RAPL must be disabled'),
            ciphertextHiding: policyBit(24, 'CIPHERTEXT_HIDING required'),
            pageSwapDisable: policyBit(25, 'PAGE_SWAP_DISABLE'),
            minimumAbi: majorMinor('Minimum ABI_MAJOR.ABI_MINOR of the guest policy, e.g. "0.31".'),
          },
        },
        minimumFirmware: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          description: 'Minimum running firmware (CURRENT_MAJOR.CURRENT_MINOR, CURRENT_BUILD). With both members the comparison is on (major, minor, build) in that order.',
          properties: { version: majorMinor('Minimum API version "major.minor", e.g. "1.55".'), build: u8 },
        },
        allowProvisionalFirmware: {
          type: 'boolean',
          description: 'false: COMMITTED_TCB and the committed firmware version must equal the current ones (no provisional, roll-back-able firmware). true: committed ≤ current. Absent: not checked.',
        },
        reportIds: hexList(32, 'Allowed REPORT_ID values (a migratable guest keeps its REPORT_ID).'),
        familyIds: hexList(16, 'Allowed FAMILY_ID values (from the ID block).'),
        imageIds: hexList(16, 'Allowed IMAGE_ID values (from the ID block).'),
        chipIds: {
          type: 'array',
          description: 'Allowed CHIP_IDs: 64 bytes, or 8 bytes for a Turin chip (the rest of its CHIP_ID is zero). A masked (all-zero) CHIP_ID matches only an all-zero entry.',
          items: { type: 'string', pattern: '^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{128})$' },
          minItems: 1,
          uniqueItems: true,
        },
        requiredMitigations: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          description: 'Mitigation-vector bits that must be set (report version 5 and later; an older report fails).',
          properties: { launch: u64Hex, current: u64Hex },
        },
      },
    },
    tdx: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mrtd: hexList(48, 'Allowed MRTD values.'),
        rtmr0: hexList(48, 'Allowed RTMR0 values.'),
        rtmr1: hexList(48, 'Allowed RTMR1 values.'),
        rtmr2: hexList(48, 'Allowed RTMR2 values.'),
        rtmr3: hexList(48, 'Allowed RTMR3 values.'),
        mrConfigId: hexList(48, 'Allowed MRCONFIGID values.'),
        mrOwner: hexList(48, 'Allowed MROWNER values.'),
        tcbStatuses: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string' },
          description: 'Accepted TCB statuses from the collateral evaluation, e.g. ["UpToDate"] or ["UpToDate", "SWHardeningNeeded"].',
        },
        mrSeam: hexList(48, 'Allowed MRSEAM values (the TDX module measurement).'),
        minimumTeeTcbSvn: { ...hex(16), description: 'Minimum TEE_TCB_SVN, byte by byte (each of the 16 SVN bytes must be ≥ this one).' },
        minimumQeSvn: { ...u16, description: 'Minimum ISVSVN of the quoting enclave (its report is signed by the PCK key).' },
        minimumPceSvn: { ...u16, description: 'Minimum PCE SVN (from the PCK certificate the quote chains to).' },
        tdAttributes: bits64('TD_ATTRIBUTES as a 64-bit value: exact ("0x0000000010000000") or { "mask", "value" }.'),
        xfam: bits64('XFAM as a 64-bit value: exact ("0x00000000000602e7") or { "mask", "value" }.'),
        allowExpiredCollateral: {
          type: 'boolean',
          default: false,
          description: 'Accept a TCB status computed from collateral past its nextUpdate at the verification time (stale: fetch fresh collateral instead).',
        },
      },
    },
    nvidia: {
      type: 'object',
      additionalProperties: false,
      properties: {
        requireCcMode: { type: 'boolean', description: 'Every GPU must report confidential-computing mode on.' },
        driverVersions: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
        vbiosVersions: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
      },
    },
    tdisp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        requireRun: { type: 'boolean', description: 'Every TDI must be in the RUN state.' },
      },
    },
  },
} as const;
