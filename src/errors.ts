/**
 * Domain errors. Every error a user can cause carries a stable `code` that callers switch on and the
 * CLI maps to an exit code; the message is a sentence that says what was wrong and what to do.
 * The codes are catalogued in ./error-codes.ts (one sentence and the exit code each).
 */
import { isErrorCode, type ErrorCode, type InputCode, type VerificationCode } from './error-codes.js';

export { ERROR_CODES, isErrorCode, sigstoreErrorCode, type ErrorCode, type ErrorCodeEntry, type InputCode, type VerificationCode } from './error-codes.js';

/** Exit codes of the CLI (documented in the README). */
export const EXIT_OK = 0;
/** Verification failed: the model, signature or evidence is not what was signed / is refused. */
export const EXIT_VERIFY_FAILED = 1;
/** Usage error or unreadable / malformed input. */
export const EXIT_USAGE = 2;
/** Interrupted (SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** How an error code maps to a CLI exit code. */
export type ErrorKind = 'usage' | 'input' | 'verification' | 'internal' | 'unavailable';

/** A modelseal error: a catalogued `code`, a sentence for the user, and how it ends the CLI. */
export class ModelsealError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** Extra machine-readable detail (printed with --json). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; kind?: ErrorKind; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelsealError';
    this.code = code;
    this.kind = options.kind ?? 'input';
    this.details = options.details;
  }

  /** The CLI exit code for this error. */
  get exitCode(): number {
    return this.kind === 'verification' ? EXIT_VERIFY_FAILED : EXIT_USAGE;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Bad input (paths, files, arguments, malformed documents): exit code 2. */
export class InputError extends ModelsealError {
  constructor(code: InputCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'input' });
    this.name = 'InputError';
  }
}

/** Cryptographic or policy verification failed: exit code 1. */
export class VerificationError extends ModelsealError {
  constructor(code: VerificationCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'verification' });
    this.name = 'VerificationError';
  }
}

/** A backend, device or feature that is not available here: exit code 2. */
export class UnavailableError extends ModelsealError {
  constructor(code: InputCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'unavailable' });
    this.name = 'UnavailableError';
  }
}

/** Whether `e` is a ModelsealError, or one that lost its prototype (same name, code and kind). */
export function isModelsealError(e: unknown): e is ModelsealError {
  return e instanceof ModelsealError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { name?: string }).name?.endsWith('Error') === true && 'kind' in e);
}

const ERROR_KINDS: readonly ErrorKind[] = ['usage', 'input', 'verification', 'internal', 'unavailable'];

/** A coded error as plain data, the form in which it crosses a worker-thread boundary. */
export interface WireError {
  code: string;
  message: string;
  kind: string;
  details?: Record<string, unknown>;
}

/**
 * The plain-data form of a thrown value, for sending it to another thread. A value without a
 * string `code` is an internal error (`INTERNAL`); one with a code but no kind is bad input.
 */
export function toWireError(e: unknown): WireError {
  const err = e as { code?: unknown; kind?: unknown; message?: unknown; details?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const details = err?.details;
  return {
    code: code ?? 'INTERNAL',
    message: typeof err?.message === 'string' ? err.message : String(e),
    kind: typeof err?.kind === 'string' ? err.kind : code !== undefined ? 'input' : 'internal',
    ...(typeof details === 'object' && details !== null ? { details: details as Record<string, unknown> } : {}),
  };
}

/**
 * Rebuilds a coded error that crossed a worker boundary as plain data (see {@link toWireError}).
 * The one place that turns such data back into a ModelsealError; a code missing from the catalogue
 * (a worker newer than its host) becomes `INTERNAL` with the original code in the message.
 */
export function reviveError(w: WireError): ModelsealError {
  const kind = (ERROR_KINDS as readonly string[]).includes(w.kind) ? (w.kind as ErrorKind) : 'internal';
  if (!isErrorCode(w.code)) return new ModelsealError('INTERNAL', `${w.message} [${w.code}]`, { kind: 'internal', details: w.details });
  return new ModelsealError(w.code, w.message, { kind, details: w.details });
}

/** Codes the native addon throws for bad input files (native/io.h); they end as InputErrors. */
const NATIVE_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<InputCode>(['FILE_NOT_FOUND', 'FILE_UNREADABLE', 'FILE_CHANGED', 'IO_ERROR', 'UNSUPPORTED_FILE_TYPE']);

/**
 * Rebuilds an error thrown by the native addon (a JS Error with a string `code`, native/napi_args.h)
 * as a ModelsealError with the same code: file problems are input errors, KERNEL_UNAVAILABLE is an
 * availability error, anything else (BAD_ARGUMENT, OUT_OF_MEMORY) is internal and its message says
 * `native backend:` (`what`). Values without a code, and ModelsealErrors, are returned as they are.
 */
export function fromNativeError(e: unknown, what = 'native backend'): unknown {
  if (e instanceof ModelsealError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (!(e instanceof Error) || typeof code !== 'string') return e;
  // every code the addon throws is catalogued; one that is not would be an addon bug
  if (!isErrorCode(code)) return new ModelsealError('INTERNAL', `${what}: ${e.message} [${code}]`, { cause: e, kind: 'internal' });
  if (NATIVE_INPUT_CODES.has(code)) return new InputError(code as InputCode, e.message, { cause: e });
  if (code === 'KERNEL_UNAVAILABLE') return new UnavailableError(code, e.message, { cause: e });
  return new ModelsealError(code, `${what}: ${e.message}`, { cause: e, kind: 'internal' });
}
