import type { EvidenceKind } from '../core/types.js';

/** One piece of simulated evidence. */
export interface SimulatedEvidence {
  kind: EvidenceKind;
  /** The evidence in the platform's real layout (NVIDIA: nvtrust-style JSON envelope around the SPDM bytes). */
  evidence: Uint8Array;
  /** DER certificate chain, leaf first, ending with the simulated root. */
  certs: Uint8Array[];
  simulated: true;
  /** NVIDIA only: the raw SPDM GET_MEASUREMENTS request ‖ response inside `evidence`. */
  spdm?: Uint8Array;
}
