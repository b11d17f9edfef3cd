// One error model for the whole toolkit. Every failure a person can act on is a GantryError with a
// stable `code` (for programs and HTTP mappings) and `expected: true`: the CLI prints its message as
// one line, a server maps it to a 4xx. Anything else (a TypeError from a bug, an unexpected library
// failure) is unexpected and keeps its stack for `--verbose`.

export interface GantryErrorOptions {
  /** The underlying error, kept for `--verbose` and logs. */
  cause?: unknown;
  /** Whether a person can act on the message alone (default true). */
  expected?: boolean;
}

export class GantryError extends Error {
  override name = 'GantryError';
  /** A stable, machine-readable identifier such as `card-invalid` or `class-request`. */
  readonly code: string;
  /** True when the message says what is wrong and what to do; false for internal failures. */
  readonly expected: boolean;

  constructor(code: string, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.expected = options.expected ?? true;
  }
}

/** True for errors whose message alone tells a person what to do (see {@link GantryError}). */
export function isExpectedError(error: unknown): error is GantryError {
  return error instanceof GantryError && error.expected;
}

/** The message of anything thrown, for wrapping it in a one-line error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
