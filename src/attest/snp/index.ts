/** AMD SEV-SNP: report parser, VCEK/VLEK extensions and offline verifier. */
export { parseSnpReport, withSnpProduct, snpSignatureRs, snpProductFromCpuid, decodeSnpTcb, SNP_REPORT_BYTES, SNP_SIGNED_BYTES, SNP_SUPPORTED_VERSIONS } from './report.js';
export type { SnpReport, SnpTcb, SnpPolicy, SnpProduct, SnpTcbLayout } from './report.js';
export { parseVekExtensions, productFromName } from './vcek.js';
export type { VekInfo } from './vcek.js';
export { verifySnpReport, snpClaims, vcekUrl, amdRoots } from './verify.js';
export type { SnpVerifyInputs } from './verify.js';
