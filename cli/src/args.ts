// Command-line parsing on node:util's parseArgs, with errors that say which option was wrong and
// what it accepts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GantryError } from '@gantry/core';

/** A command line that does not parse: an unknown command or option, a missing or bad value. */
export class UsageError extends GantryError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<T extends Options>(
  command: string,
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<{ options: T; args: string[]; allowPositionals: false; strict: true }>>['values'] {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    const known = Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
    throw new UsageError(`gantry ${command}: ${(error as Error).message.split('\n')[0]} (options: ${known}; see "gantry help")`);
  }
}

export function requireOption<V>(command: string, name: string, value: V | undefined, hint: string): V {
  if (value === undefined) throw new UsageError(`gantry ${command}: --${name} is required (${hint})`);
  return value;
}

export function integerOption(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`gantry ${command}: --${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

export function choiceOption<C extends string>(
  command: string,
  name: string,
  value: string | undefined,
  choices: readonly C[],
  fallback: C,
): C {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`gantry ${command}: --${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as C;
}

/**
 * A number option in a range; `minOpen`/`maxOpen` exclude the bound. The message shows the range as
 * an interval, e.g. "(0, 1]".
 */
export function numberOption(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min: number; max: number; minOpen?: boolean; maxOpen?: boolean },
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const aboveMin = range.minOpen ? n > range.min : n >= range.min;
  const belowMax = range.maxOpen ? n < range.max : n <= range.max;
  if (!(Number.isFinite(n) && aboveMin && belowMax)) {
    const interval = `${range.minOpen ? '(' : '['}${range.min}, ${range.max}${range.maxOpen ? ')' : ']'}`;
    throw new UsageError(`gantry ${command}: --${name} must be a number in ${interval}, got ${JSON.stringify(value)}`);
  }
  return n;
}
