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
        minimumTcb: {
          type: 'object',
          additionalProperties: false,
          description: 'Minimum REPORTED_TCB, component by component (fmc on Turin only).',
          properties: { bootloader: u8, tee: u8, snp: u8, microcode: u8, fmc: u8 },
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
