/**
 * Where evidence comes from, by name: the simulated platform, or this machine's TEE through the
 * acquisition layer (acquire/). Real hardware that is absent is a clear UnavailableError; nothing
 * here ever falls back to simulated evidence.
 */
import { InputError } from '../errors.js';
import { createHardwareEvidenceSource } from './acquire/index.js';
import type { EvidenceSource } from './core/types.js';

import { ATTEST_MODES, type AttestMode } from './modes.js';

export { ATTEST_MODES, type AttestMode } from './modes.js';

/** Which devices a source includes besides the CPU report. */
export interface EvidenceSourceOptions {
  /** GPU evidence: default on for `nvidia` and `simulated`, when present for `auto`. */
  gpu?: boolean;
  /** A TDISP interface report (simulated platform only). */
  tdisp?: boolean;
}

/**
 * The evidence source for a mode.
 * @throws InputError USAGE for an unknown mode; UnavailableError (from acquire/) when the hardware is absent.
 */
export async function evidenceSourceFor(mode: AttestMode, o: EvidenceSourceOptions = {}): Promise<EvidenceSource> {
  if (!ATTEST_MODES.includes(mode)) throw new InputError('USAGE', `--attest must be one of ${ATTEST_MODES.join(', ')} (got "${mode}").`);
  if (mode === 'simulated') {
    const { createSimulatedPlatform } = await import('./simulated/index.js');
    const platform = await createSimulatedPlatform();
    return platform.evidenceSource({ cpu: 'sev-snp', gpu: o.gpu !== false, tdisp: o.tdisp === true });
  }
  const gpu: boolean | 'auto' = o.gpu === false ? false : mode === 'nvidia' ? true : 'auto';
  const cpu = mode === 'snp' ? 'sev-snp' : mode === 'tdx' ? 'tdx' : mode === 'nvidia' ? 'none' : 'auto';
  return createHardwareEvidenceSource({ cpu, gpu });
}
