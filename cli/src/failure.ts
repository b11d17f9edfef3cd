import { isExpectedError } from '@gantry/core';

/**
 * How a failure is shown: an expected error (a GantryError: bad input, a missing or damaged file) as its
 * message alone; anything else (a bug, an unforeseen library failure) with its stack under --verbose.
 */
export function describeFailure(error: unknown, verbose: boolean): string {
  if (isExpectedError(error)) return `error: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  if (verbose) return `error: ${error instanceof Error && error.stack !== undefined ? error.stack : message}`;
  return `error: ${message.split('\n')[0]}\n(an unexpected failure; run with --verbose for the stack trace)`;
}
