/** Intel TDX: quote v4/v5 and TDREPORT parsers, PCK extension, collateral and offline verifier. */
export { parseTdxQuote, parseQeReport, INTEL_QE_VENDOR_ID, TDX_BODY_V10_BYTES, TDX_BODY_V15_BYTES, TDX_QUOTE_HEADER_BYTES } from './quote.js';
export type { TdxQuote, TdReportBody, QeReport } from './quote.js';
export { parseTdReport, TDREPORT_BYTES } from './tdreport.js';
export type { TdReport } from './tdreport.js';
export { parsePckExtension } from './pck.js';
export type { PckInfo } from './pck.js';
export { loadCollateralDir, evaluateTdxTcb, evaluateQeIdentity, pickCollateral, topLevelJsonValueText, worstStatus, TCB_STATUS_ORDER } from './collateral.js';
export type { CollateralSet, TcbInfo, QeIdentity, TdxTcbEvaluation } from './collateral.js';
export { verifyTdxQuote, tdxClaims, intelSgxRoot } from './verify.js';
export type { TdxVerifyInputs } from './verify.js';
