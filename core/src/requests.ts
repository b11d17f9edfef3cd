// What a latent-space request means, in one place for every runtime: the Node library, the HTTP API and
// the browser package all turn a request into latent rows (and classes) here, so the same request gives
// the same latents, and so the same pictures, everywhere.
//
// Conventions:
// - A seed names one latent: seedLatent(spec, s) is the first row sampleLatents(spec, n, s) draws, so
//   `{n, seed}` (n rows from one seed) and `{seeds: [s]}` agree on the first picture.
// - Truncation (the "truncation trick") redraws, from the same stream, every component whose magnitude
//   exceeds the threshold; it is deterministic per seed. It only applies to normal latents.
// - An arithmetic term is the mean of its latents (DCGAN's averaged "smiling woman" vectors); the result
//   is Σ coef·mean.

import type { LatentSpec } from './card.js';
import { GantryError } from './errors.js';
import { MAX_INTERPOLATION_STEPS, MAX_LATENT_ROWS, combine, interpolate, type InterpolationMethod } from './latents.js';
import { Rng, assertSeed } from './rng.js';

/** A request field that is out of range; `parameter` is its name as the caller wrote it. */
export class LatentRequestError extends GantryError {
  override name = 'LatentRequestError';
  constructor(
    message: string,
    readonly parameter: string,
  ) {
    super('latent-request', message);
  }
}

/** Smallest truncation threshold: below it almost every draw would be redrawn. */
export const MIN_TRUNCATION = 0.05;
/** A redraw loop that ran this often for one component means the threshold is unusable. */
const MAX_REDRAWS = 10_000;

function fail(parameter: string, message: string): never {
  throw new LatentRequestError(`${parameter} ${message}`, parameter);
}

function checkTruncation(spec: LatentSpec, truncation: number | undefined): void {
  if (truncation === undefined) return;
  if (typeof truncation !== 'number' || !Number.isFinite(truncation) || truncation < MIN_TRUNCATION) {
    fail('truncation', `must be a number ≥ ${MIN_TRUNCATION} (a threshold in standard deviations), got ${String(truncation)}`);
  }
  if (spec.distribution !== 'normal')
    fail('truncation', `applies to normal latents only; this model's latents are ${spec.distribution}`);
}

/** `n` latent rows drawn from one seed, optionally truncated. */
export function sampleRows(spec: LatentSpec, n: number, seed: number, truncation?: number): Float32Array {
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_LATENT_ROWS))
    fail('n', `must be an integer in [1, ${MAX_LATENT_ROWS}], got ${String(n)}`);
  assertSeed(seed);
  checkTruncation(spec, truncation);
  const rng = Rng.fromSeed(seed);
  const values = new Float32Array(n * spec.size);
  if (spec.distribution === 'uniform') {
    for (let i = 0; i < values.length; i++) values[i] = (rng.nextUint32() >>> 8) / 8388608 - 1;
    return values;
  }
  for (let i = 0; i < values.length; i++) {
    let v = rng.nextNormal();
    if (truncation !== undefined) {
      let redraws = 0;
      while (Math.abs(v) > truncation) {
        if (++redraws > MAX_REDRAWS) fail('truncation', `${truncation} is too small to sample from`);
        v = rng.nextNormal();
      }
    }
    values[i] = v;
  }
  return values;
}

/** The latent a seed names (see the conventions above). */
export function seedLatent(spec: LatentSpec, seed: number, truncation?: number): Float32Array {
  return sampleRows(spec, 1, seed, truncation);
}

/** One latent per seed, stacked row-major. */
export function seedLatents(spec: LatentSpec, seeds: readonly number[], truncation?: number, parameter = 'seeds'): Float32Array {
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.length > MAX_LATENT_ROWS) {
    fail(parameter, `must be a non-empty array of at most ${MAX_LATENT_ROWS} seeds`);
  }
  const out = new Float32Array(seeds.length * spec.size);
  seeds.forEach((seed, i) => {
    try {
      assertSeed(seed, `${parameter}[${i}]`);
    } catch {
      fail(`${parameter}[${i}]`, `must be an integer in [0, 2^32 − 1], got ${String(seed)}`);
    }
    out.set(seedLatent(spec, seed, truncation), i * spec.size);
  });
  return out;
}

/** Explicit latent rows, checked for shape and finiteness. */
export function explicitLatents(spec: LatentSpec, rows: readonly (readonly number[])[], parameter = 'latents'): Float32Array {
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_LATENT_ROWS) {
    fail(parameter, `must be a non-empty array of at most ${MAX_LATENT_ROWS} latent vectors`);
  }
  const out = new Float32Array(rows.length * spec.size);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== spec.size)
      fail(`${parameter}[${i}]`, `must be an array of ${spec.size} numbers (the model's latent size)`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        fail(`${parameter}[${i}][${j}]`, `must be a finite number, got ${String(v)}`);
      out[i * spec.size + j] = v;
    });
  });
  return out;
}

/** Latent rows named by seeds or given explicitly: exactly one of the two. */
export interface LatentSource {
  seeds?: readonly number[];
  latents?: readonly (readonly number[])[];
}

function sourceRows(spec: LatentSpec, source: LatentSource, where: string, truncation?: number): Float32Array {
  const prefix = where === '' ? '' : `${where}.`;
  if ((source.seeds === undefined) === (source.latents === undefined)) {
    fail(`${prefix}seeds`, `or ${prefix}latents must be given, not both and not neither`);
  }
  return source.seeds !== undefined
    ? seedLatents(spec, source.seeds, truncation, `${prefix}seeds`)
    : explicitLatents(spec, source.latents!, `${prefix}latents`);
}

export interface GenerateRequest extends LatentSource {
  /** With `seed`: n rows drawn from one seed. */
  n?: number;
  seed?: number;
  truncation?: number;
}

/**
 * The latent rows a generate request names: `latents`, or `seeds` (one row each), or `n` rows from
 * `seed` (default seed 0 when only n is given is the caller's choice: pass it explicitly).
 */
export function generateLatents(spec: LatentSpec, request: GenerateRequest): Float32Array {
  const given = [
    request.latents !== undefined,
    request.seeds !== undefined,
    request.seed !== undefined || request.n !== undefined,
  ].filter(Boolean).length;
  if (given !== 1) fail('seeds', 'or latents or {n, seed} must name the latents: exactly one of the three');
  if (request.latents !== undefined) {
    if (request.truncation !== undefined) fail('truncation', 'cannot apply to explicit latents; truncate them yourself');
    return explicitLatents(spec, request.latents);
  }
  if (request.seeds !== undefined) return seedLatents(spec, request.seeds, request.truncation);
  if (request.seed === undefined) fail('seed', 'is required with n');
  return sampleRows(spec, request.n ?? 1, request.seed, request.truncation);
}

export interface InterpolationRequest extends LatentSource {
  /** Frames between consecutive key points, both key points included (≥ 2). */
  steps: number;
  method?: InterpolationMethod;
  /** Return from the last key point to the first, so the frames loop. */
  loop?: boolean;
  truncation?: number;
}

export interface InterpolationPlan {
  /** frames × latent size. */
  latents: Float32Array;
  frames: number;
  /** For each frame, the key point it starts from and its position t ∈ [0, 1) towards the next. */
  segment: Int32Array;
  t: Float64Array;
  /** The row of each key point among the frames. */
  keyFrames: number[];
}

/**
 * Frames through key points k0 → k1 → … (→ k0 with `loop`): each segment has `steps` frames including
 * both ends, and shared ends appear once, so there are (segments × (steps − 1) + 1) frames (one fewer
 * for a loop, whose last frame would repeat the first).
 */
export function planInterpolation(spec: LatentSpec, request: InterpolationRequest): InterpolationPlan {
  const keys = sourceRows(spec, request, '', request.truncation);
  const count = keys.length / spec.size;
  if (count < 2) fail(request.seeds !== undefined ? 'seeds' : 'latents', 'must name at least 2 key points');
  const steps = request.steps;
  if (!(Number.isInteger(steps) && steps >= 2 && steps <= MAX_INTERPOLATION_STEPS))
    fail('steps', `must be an integer in [2, ${MAX_INTERPOLATION_STEPS}], got ${String(steps)}`);
  const method = request.method ?? 'slerp';
  if (method !== 'lerp' && method !== 'slerp') fail('method', `must be "lerp" or "slerp", got ${String(method)}`);
  const loop = request.loop ?? false;
  const segments = loop ? count : count - 1;
  const frames = segments * (steps - 1) + (loop ? 0 : 1);
  if (frames > MAX_LATENT_ROWS) fail('steps', `× key points gives ${frames} frames; at most ${MAX_LATENT_ROWS} are allowed`);
  const size = spec.size;
  const latents = new Float32Array(frames * size);
  const segment = new Int32Array(frames);
  const t = new Float64Array(frames);
  const keyFrames: number[] = [];
  const key = (i: number): Float32Array => keys.subarray((i % count) * size, ((i % count) + 1) * size);
  let frame = 0;
  for (let s = 0; s < segments; s++) {
    const path = interpolate(key(s), key(s + 1), steps, method);
    keyFrames.push(frame);
    // Each segment contributes its frames but the last, which the next segment starts with.
    for (let j = 0; j < steps - 1; j++, frame++) {
      latents.set(path.subarray(j * size, (j + 1) * size), frame * size);
      segment[frame] = s;
      t[frame] = j / (steps - 1);
    }
  }
  if (!loop) {
    latents.set(key(count - 1), frame * size);
    segment[frame] = count - 1;
    t[frame] = 0;
    keyFrames.push(frame);
  }
  return { latents, frames, segment, t, keyFrames };
}

export interface ArithmeticTerm extends LatentSource {
  coef: number;
}

export interface ArithmeticPlan {
  /** The mean latent of each term, row-major (terms × latent size). */
  termMeans: Float32Array;
  /** Σ coef · mean. */
  result: Float32Array;
  /** Every latent of every term, row-major, with `termOf` naming each row's term. */
  members: Float32Array;
  termOf: Int32Array;
}

/** DCGAN's vector arithmetic: each term is the mean of its latents; the result is Σ coef·mean. */
export function planArithmetic(spec: LatentSpec, terms: readonly ArithmeticTerm[], truncation?: number): ArithmeticPlan {
  if (!Array.isArray(terms) || terms.length === 0 || terms.length > 16)
    fail('terms', 'must be an array of 1 to 16 terms {coef, seeds | latents}');
  const size = spec.size;
  const rows = terms.map((term, i) => {
    if (typeof term.coef !== 'number' || !Number.isFinite(term.coef) || Math.abs(term.coef) > 100) {
      fail(`terms[${i}].coef`, `must be a finite number in [-100, 100], got ${String(term.coef)}`);
    }
    return sourceRows(spec, term, `terms[${i}]`, truncation);
  });
  const total = rows.reduce((sum, r) => sum + r.length / size, 0);
  if (total > MAX_LATENT_ROWS) fail('terms', `name ${total} latents; at most ${MAX_LATENT_ROWS} are allowed`);
  const termMeans = new Float32Array(terms.length * size);
  const members = new Float32Array(total * size);
  const termOf = new Int32Array(total);
  let row = 0;
  rows.forEach((r, i) => {
    const count = r.length / size;
    const mean = combine(
      Array.from({ length: count }, (_, j) => ({ vector: r.subarray(j * size, (j + 1) * size), weight: 1 / count })),
    );
    termMeans.set(mean, i * size);
    members.set(r, row * size);
    termOf.fill(i, row, row + count);
    row += count;
  });
  const result = combine(terms.map((term, i) => ({ vector: termMeans.subarray(i * size, (i + 1) * size), weight: term.coef })));
  return { termMeans, result, members, termOf };
}
