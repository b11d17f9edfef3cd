// Latent sampling and latent-space arithmetic shared by training, the server and browser demos.
// Sampling is bit-reproducible across engines (see rng.ts); interpolation uses Math.acos/sin and is
// only reproducible to float32 rounding, which is all a picture needs.

import type { LatentDistribution, LatentSpec } from './card.js';
import { Rng, assertSeed } from './rng.js';

/** Largest number of latent rows one call samples; a guard against accidental huge allocations. */
export const MAX_LATENT_ROWS = 65536;
/** Largest number of steps {@link interpolate} produces. */
export const MAX_INTERPOLATION_STEPS = 4096;
/** Below this angle (radians) slerp's sin(ω) division is ill-conditioned, so it falls back to lerp. */
export const SLERP_PARALLEL_THRESHOLD = 1e-4;

/** One latent vector. Plain arrays are accepted as input; results are always Float32Array. */
export type LatentVector = Float32Array | Float64Array | readonly number[];

export type InterpolationMethod = 'lerp' | 'slerp';

export interface WeightedLatent {
  vector: LatentVector;
  weight: number;
}

const DISTRIBUTIONS: readonly LatentDistribution[] = ['normal', 'uniform'];

function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function assertIntegerIn(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${show(value)}`);
  }
}

function assertFinite(value: unknown, name: string): asserts value is number {
  if (!(typeof value === 'number' && Number.isFinite(value))) {
    throw new RangeError(`${name} must be a finite number, got ${show(value)}`);
  }
}

function assertSpec(spec: LatentSpec): void {
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError(`spec must be an object {size, distribution}, got ${show(spec)}`);
  }
  if (!(Number.isInteger(spec.size) && spec.size >= 1)) {
    throw new RangeError(`spec.size must be a positive integer, got ${show(spec.size)}`);
  }
  if (!DISTRIBUTIONS.includes(spec.distribution)) {
    throw new TypeError(`spec.distribution must be "normal" or "uniform", got ${show(spec.distribution)}`);
  }
}

function assertVector(value: unknown, name: string): asserts value is LatentVector {
  const ok = value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value);
  if (!ok) throw new TypeError(`${name} must be a Float32Array, Float64Array or number[], got ${show(value)}`);
  if ((value as LatentVector).length === 0) throw new RangeError(`${name} must not be empty`);
  if (Array.isArray(value) && !value.every((v) => typeof v === 'number')) {
    throw new TypeError(`${name} must contain only numbers`);
  }
}

function assertSameLength(a: LatentVector, b: LatentVector, aName: string, bName: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${aName} and ${bName} must have the same length, got ${a.length} and ${b.length}`);
  }
}

/**
 * Samples `n` latent vectors for `spec` from a generator, advancing it; row-major n × spec.size.
 * normal: N(0, 1) rounded to float32. uniform: U[−1, 1) on the float32 grid of step 2^-23, built
 * from 24 random bits so that rounding to float32 can never produce the excluded value 1.
 */
export function sampleLatentsWithRng(spec: LatentSpec, n: number, rng: Rng): Float32Array {
  assertSpec(spec);
  assertIntegerIn(n, 'n', 1, MAX_LATENT_ROWS);
  if (!(rng instanceof Rng)) throw new TypeError(`rng must be an Rng instance, got ${show(rng)}`);
  const values = new Float32Array(n * spec.size);
  if (spec.distribution === 'normal') {
    for (let i = 0; i < values.length; i++) values[i] = rng.nextNormal();
  } else {
    for (let i = 0; i < values.length; i++) values[i] = (rng.nextUint32() >>> 8) / 8388608 - 1;
  }
  return values;
}

/** Samples `n` latent vectors for `spec` from a fresh generator seeded with `seed` (0 … 2^32 − 1). */
export function sampleLatents(spec: LatentSpec, n: number, seed: number): Float32Array {
  assertSeed(seed);
  return sampleLatentsWithRng(spec, n, Rng.fromSeed(seed));
}

/** Row `index` of a row-major latent matrix with rows of `size`, as a view (no copy). */
export function latentRow(latents: Float32Array, size: number, index: number): Float32Array {
  assertIntegerIn(size, 'size', 1, Number.MAX_SAFE_INTEGER);
  if (latents.length % size !== 0) {
    throw new RangeError(`latents.length (${latents.length}) must be a multiple of size (${size})`);
  }
  assertIntegerIn(index, 'index', 0, latents.length / size - 1);
  return latents.subarray(index * size, (index + 1) * size);
}

function assertInterpolationArguments(a: LatentVector, b: LatentVector, t: number): void {
  assertVector(a, 'a');
  assertVector(b, 'b');
  assertSameLength(a, b, 'a', 'b');
  assertFinite(t, 't');
}

/** Linear interpolation (1 − t)·a + t·b; t outside [0, 1] extrapolates. */
export function lerp(a: LatentVector, b: LatentVector, t: number): Float32Array {
  assertInterpolationArguments(a, b, t);
  return lerpUnchecked(a, b, t);
}

function lerpUnchecked(a: LatentVector, b: LatentVector, t: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!;
  return out;
}

/**
 * Spherical interpolation along the great arc between a and b (norms are interpolated too), which
 * keeps Gaussian latents at a typical radius where lerp would pass through the low-density centre.
 * Falls back to lerp when a or b is zero or the vectors are (anti)parallel, where the arc is
 * undefined or the division by sin(ω) would amplify rounding noise.
 */
export function slerp(a: LatentVector, b: LatentVector, t: number): Float32Array {
  assertInterpolationArguments(a, b, t);
  return slerpUnchecked(a, b, t);
}

function slerpUnchecked(a: LatentVector, b: LatentVector, t: number): Float32Array {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  normA = Math.sqrt(normA);
  normB = Math.sqrt(normB);
  if (normA === 0 || normB === 0) return lerpUnchecked(a, b, t);
  const cosine = Math.min(1, Math.max(-1, dot / (normA * normB)));
  const omega = Math.acos(cosine);
  if (omega < SLERP_PARALLEL_THRESHOLD || Math.PI - omega < SLERP_PARALLEL_THRESHOLD) return lerpUnchecked(a, b, t);
  // The arc is walked between the unit directions and the norm interpolated linearly on its own: near
  // antipodal ends the weights grow like 1/sin(ω), and applied to the raw vectors they would amplify the
  // difference between two (float32-rounded) norms into the result's length.
  const sinOmega = Math.sin(omega);
  const norm = (1 - t) * normA + t * normB;
  const weightA = (norm * Math.sin((1 - t) * omega)) / (sinOmega * normA);
  const weightB = (norm * Math.sin(t * omega)) / (sinOmega * normB);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = weightA * a[i]! + weightB * b[i]!;
  return out;
}

/**
 * `steps` vectors from a to b inclusive (t = 0, 1/(steps−1), …, 1), stacked row-major into one
 * steps × length array, ready to feed a generator as a batch.
 */
export function interpolate(
  a: LatentVector,
  b: LatentVector,
  steps: number,
  method: InterpolationMethod = 'slerp',
): Float32Array {
  assertVector(a, 'a');
  assertVector(b, 'b');
  assertSameLength(a, b, 'a', 'b');
  assertIntegerIn(steps, 'steps', 2, MAX_INTERPOLATION_STEPS);
  if (method !== 'lerp' && method !== 'slerp') {
    throw new TypeError(`method must be "lerp" or "slerp", got ${show(method)}`);
  }
  const step = method === 'lerp' ? lerpUnchecked : slerpUnchecked;
  const out = new Float32Array(steps * a.length);
  for (let i = 0; i < steps; i++) {
    // Exact endpoints: t = i / (steps − 1) is exactly 0 and 1 at the ends.
    out.set(step(a, b, i / (steps - 1)), i * a.length);
  }
  return out;
}

/**
 * Latent vector arithmetic: Σ weight·vector, e.g. "smiling woman − neutral woman + neutral man" as
 * combine([{vector: a, weight: 1}, {vector: b, weight: -1}, {vector: c, weight: 1}]).
 */
export function combine(terms: readonly WeightedLatent[]): Float32Array {
  if (!Array.isArray(terms) || terms.length === 0) {
    throw new RangeError(`terms must be a non-empty array of {vector, weight}, got ${show(terms)}`);
  }
  terms.forEach((term, i) => {
    if (typeof term !== 'object' || term === null) {
      throw new TypeError(`terms[${i}] must be an object {vector, weight}, got ${show(term)}`);
    }
    assertVector(term.vector, `terms[${i}].vector`);
    assertFinite(term.weight, `terms[${i}].weight`);
    if (i > 0) assertSameLength(terms[0]!.vector, term.vector, 'terms[0].vector', `terms[${i}].vector`);
  });
  // Accumulate in float64 and round once, so the order of terms barely matters.
  const sum = new Float64Array(terms[0]!.vector.length);
  for (const { vector, weight } of terms) {
    for (let i = 0; i < sum.length; i++) sum[i] += weight * vector[i]!;
  }
  return Float32Array.from(sum);
}
