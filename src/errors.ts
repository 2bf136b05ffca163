/**
 * Domain errors. Every error a user can cause carries a stable `code` that callers switch on and the
 * CLI maps to an exit code; the message is a sentence that says what was wrong and what to do.
 */

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

export class ModelsealError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  /** Extra machine-readable detail (printed with --json). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
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
  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'input' });
    this.name = 'InputError';
  }
}

/** Cryptographic or policy verification failed: exit code 1. */
export class VerificationError extends ModelsealError {
  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'verification' });
    this.name = 'VerificationError';
  }
}

/** A backend, device or feature that is not available here: exit code 2. */
export class UnavailableError extends ModelsealError {
  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { ...options, kind: 'unavailable' });
    this.name = 'UnavailableError';
  }
}

export function isModelsealError(e: unknown): e is ModelsealError {
  return e instanceof ModelsealError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { name?: string }).name?.endsWith('Error') === true && 'kind' in e);
}

/**
 * Errors cross worker-thread boundaries as plain objects; this rebuilds the typed error.
 */
export function reviveError(e: unknown): unknown {
  if (typeof e === 'object' && e !== null && 'code' in e && 'kind' in e && 'message' in e) {
    const o = e as { code: string; kind: ErrorKind; message: string; details?: Record<string, unknown> };
    return new ModelsealError(o.code, o.message, { kind: o.kind, details: o.details });
  }
  return e;
}
