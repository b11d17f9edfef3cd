// The class of every sample a class-conditional generator is asked for. A request names one class for
// the whole batch or one per sample; it comes from code, JSON bodies and query strings alike, so it is
// checked here once, with errors that say which parameter, what was wrong and what is allowed. Shared
// by the Node server and browser code, like the latents.

import type { ClassInputSpec } from './card.js';
import { GantryError } from './errors.js';

/** One class index for every sample, or one per sample. */
export type ClassRequest = number | readonly number[];

/** A class request that does not fit the model; `parameter` is the name the caller used for it. */
export class ClassRequestError extends GantryError {
  override name = 'ClassRequestError';
  constructor(
    message: string,
    readonly parameter: string,
    /** The model's class count, or `null` for an unconditional model. */
    readonly classes: number | null,
  ) {
    super('class-request', message);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export interface ClassRequestContext {
  /** The parameter's name in messages (default "class"). */
  parameter?: string;
  /** The model's name in messages. */
  model?: string;
}

/**
 * The class index of each of `n` samples: `undefined` for an unconditional model (no `classInput`), an
 * Int32Array of n indices in [0, classes − 1] for a conditional one. `request` is unvalidated input:
 * an integer (every sample gets it) or an array of n integers (one per sample). Throws
 * {@link ClassRequestError} when a conditional model gets no class, an unconditional one gets one, or a
 * value is not an integer in range.
 */
export function resolveClasses(
  classInput: ClassInputSpec | undefined,
  request: unknown,
  n: number,
  context: ClassRequestContext = {},
): Int32Array | undefined {
  const parameter = context.parameter ?? 'class';
  const model = context.model === undefined ? 'the model' : `model "${context.model}"`;
  if (classInput === undefined) {
    if (request === undefined) return undefined;
    throw new ClassRequestError(
      `${parameter} was given (${show(request)}) but ${model} is unconditional: it has no class input; leave ${parameter} out`,
      parameter,
      null,
    );
  }
  const { classes } = classInput;
  const max = classes - 1;
  const allowed = `an integer in [0, ${max}] for every sample, or an array of ${n} such integers, one per sample`;
  if (request === undefined) {
    throw new ClassRequestError(
      `${parameter} is required: ${model} is class-conditional with ${classes} classes; give ${allowed}`,
      parameter,
      classes,
    );
  }
  const checkIndex = (value: unknown, name: string): number => {
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max)) {
      throw new ClassRequestError(
        `${name} must be an integer in [0, ${max}] (${model} has ${classes} classes), got ${show(value)}`,
        parameter,
        classes,
      );
    }
    return value;
  };
  if (Array.isArray(request)) {
    if (request.length !== n) {
      throw new ClassRequestError(
        `${parameter} has ${request.length} entries but ${n} samples are asked for; give ${allowed}`,
        parameter,
        classes,
      );
    }
    return Int32Array.from(request, (value: unknown, i) => checkIndex(value, `${parameter}[${i}]`));
  }
  if (typeof request !== 'number') {
    throw new ClassRequestError(`${parameter} must be ${allowed}; got ${show(request)}`, parameter, classes);
  }
  return new Int32Array(n).fill(checkIndex(request, parameter));
}
