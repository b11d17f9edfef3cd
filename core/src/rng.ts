// A seeded random number generator whose every output is bit-identical on every JavaScript engine.
//
// Why not Math.random or a float-based generator: a trained model's sample grid, a resumed training
// run and a browser demo must all draw the same latents from the same seed. That holds only if each
// step is defined by operations that ECMAScript pins down exactly:
//   - the integer generator uses 32-bit integer arithmetic only (Math.imul, shifts, xor, >>> 0);
//   - floats are built from integers by exact scaling;
//   - normals use + − × ÷ and Math.sqrt (IEEE-754 correctly rounded on every engine) and a logarithm
//     computed from those same operations, because Math.log is "implementation-approximated" in the
//     spec and does differ in the last bit between engines.
// JavaScript never fuses a*b+c into one rounding, so the expression order below fixes the results.

/** Generator algorithm identifier stored in serialized states, so a future change is detected. */
export const RNG_ALGORITHM = 'xoshiro128**/splitmix32' as const;

/**
 * A generator state as plain JSON: checkpoints write it with JSON.stringify and
 * {@link Rng.fromState} restores it, continuing exactly the same stream.
 */
export interface RngState {
  algorithm: typeof RNG_ALGORITHM;
  /** The four 32-bit words of xoshiro128** as unsigned integers; never all zero. */
  words: [number, number, number, number];
  /**
   * The second normal of the last Marsaglia pair, not yet returned (`null` when none is pending).
   * Part of the state because dropping it would shift every later normal after a resume.
   */
  pendingNormal: number | null;
}

const UINT32_MAX = 0xffffffff;
const TWO_POW_MINUS_53 = 1 / 9007199254740992;

/** Advances a splitmix32-style counter and returns its mixed output; only used to expand a seed. */
function splitmix32(counter: number): { next: number; output: number } {
  const next = (counter + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return { next, output: z };
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
}

/** Throws unless `seed` is an integer in [0, 2^32 − 1]; `name` is the parameter name for the message. */
export function assertSeed(seed: unknown, name = 'seed'): asserts seed is number {
  if (!isUint32(seed)) {
    throw new RangeError(`${name} must be an integer in [0, ${UINT32_MAX}], got ${describe(seed)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ln 2 split so that e·LN2_HIGH is exact for every binary64 exponent e (|e| ≤ 1075 needs 11 free
// low bits; LN2_HIGH has 32 significant bits), and LN2_LOW carries the rest of ln 2.
const LN2_HIGH = 0.6931471803691238; // 0x3FE62E42FEE00000
const LN2_LOW = 1.9082149292705877e-10;
const SQRT_HALF = Math.SQRT1_2;
const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;
// Coefficients 1/(2k+1) of atanh's series; each is a correctly rounded division, identical everywhere.
const ATANH_SERIES = Array.from({ length: 12 }, (_, k) => 1 / (2 * k + 3));

/**
 * Natural logarithm from IEEE basic operations only, so it returns the same bits on every engine.
 * Accurate to about 1 ulp (well within 1e-15 relative of Math.log over the whole double range).
 * Returns NaN for negative or NaN input, −Infinity for 0 and Infinity for Infinity, like Math.log.
 */
export function portableLog(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;

  // Write x = m · 2^e with m in [√½, √2): multiplying by powers of two is exact while the
  // result stays normal, which every step below guarantees (big steps first, then single ones).
  let m = x;
  let e = 0;
  while (m >= TWO_POW_32) {
    m *= TWO_POW_MINUS_32;
    e += 32;
  }
  while (m < TWO_POW_MINUS_32) {
    m *= TWO_POW_32;
    e -= 32;
  }
  while (m >= 2) {
    m *= 0.5;
    e += 1;
  }
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  // Centring on 1 keeps log m small, so it neither cancels against e·ln2 nor converges slowly.
  if (m > 2 * SQRT_HALF) {
    m *= 0.5;
    e += 1;
  }

  // log m = 2·atanh(f) with f = (m−1)/(m+1), |f| ≤ 0.172: m−1 is exact (Sterbenz), and the series
  // 2f·(1 + f²/3 + f⁴/5 + …) has shrunk below 2^-60 of the first term after these 12 terms.
  const f = (m - 1) / (m + 1);
  const f2 = f * f;
  let tail = 0;
  for (let k = ATANH_SERIES.length - 1; k >= 0; k--) tail = f2 * (ATANH_SERIES[k]! + tail);
  const twoF = 2 * f;
  return e * LN2_HIGH + (twoF + (twoF * tail + e * LN2_LOW));
}

/**
 * xoshiro128** (Blackman & Vigna) with a 128-bit state, seeded by expanding a 32-bit seed through
 * splitmix32. Not cryptographically secure; meant for reproducible sampling.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private pendingNormal: number | null;

  private constructor(words: readonly [number, number, number, number], pendingNormal: number | null) {
    [this.s0, this.s1, this.s2, this.s3] = words;
    this.pendingNormal = pendingNormal;
  }

  /** A generator for `seed`, an integer in [0, 2^32 − 1]; equal seeds give equal streams everywhere. */
  static fromSeed(seed: number): Rng {
    assertSeed(seed);
    let counter = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(counter);
      counter = step.next;
      words.push(step.output);
    }
    // splitmix32's output is a bijection of its counter and the four counters differ, so at most one
    // word can be zero and the all-zero state (a fixed point of xoshiro) cannot occur.
    return new Rng(words as [number, number, number, number], null);
  }

  /** Restores a generator from {@link getState}'s output (for example parsed from a checkpoint). */
  static fromState(state: RngState): Rng {
    const where = 'Rng.fromState(state)';
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(`${where}: state must be an object from rng.getState(), got ${describe(state)}`);
    }
    if (state.algorithm !== RNG_ALGORITHM) {
      throw new TypeError(`${where}: state.algorithm must be "${RNG_ALGORITHM}", got ${describe(state.algorithm)}`);
    }
    const words = state.words;
    if (!Array.isArray(words) || words.length !== 4 || !words.every(isUint32)) {
      throw new TypeError(`${where}: state.words must be 4 integers in [0, ${UINT32_MAX}], got ${describe(words)}`);
    }
    if (words.every((w) => w === 0)) {
      throw new RangeError(`${where}: state.words must not all be zero (xoshiro128** would only output zeros)`);
    }
    const pending = state.pendingNormal;
    if (pending !== null && !(typeof pending === 'number' && Number.isFinite(pending))) {
      throw new TypeError(`${where}: state.pendingNormal must be null or a finite number, got ${describe(pending)}`);
    }
    return new Rng([words[0], words[1], words[2], words[3]], pending);
  }

  /** The current state as a JSON-serializable object; doubles survive JSON round trips exactly. */
  getState(): RngState {
    return { algorithm: RNG_ALGORITHM, words: [this.s0, this.s1, this.s2, this.s3], pendingNormal: this.pendingNormal };
  }

  /** An independent copy at the same position of the stream. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /** The next 32-bit unsigned integer, uniform over [0, 2^32 − 1]. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const shifted = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= shifted;
    this.s3 = rotateLeft(this.s3, 11);
    // Keep the stored words unsigned so getState() reports canonical values.
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A float uniform in [0, 1) with 53 random bits (every multiple of 2^-53 equally likely). */
  nextFloat(): number {
    const high = this.nextUint32() >>> 6; // 26 bits
    const low = this.nextUint32() >>> 5; // 27 bits
    return (high * 134217728 + low) * TWO_POW_MINUS_53;
  }

  /**
   * An unbiased integer in [0, bound) for an integer `bound` in [1, 2^32]; uses rejection instead
   * of `% bound`, which would favour small values when bound does not divide 2^32.
   */
  nextInt(bound: number): number {
    if (!(Number.isInteger(bound) && bound >= 1 && bound <= TWO_POW_32)) {
      throw new RangeError(`bound must be an integer in [1, ${TWO_POW_32}], got ${describe(bound)}`);
    }
    // Accept only draws below the largest multiple of bound that fits in 2^32.
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    for (;;) {
      const draw = this.nextUint32();
      if (draw < limit) return draw % bound;
    }
  }

  /** A standard normal N(0, 1) by the Marsaglia polar method, with the portable logarithm. */
  nextNormal(): number {
    if (this.pendingNormal !== null) {
      const value = this.pendingNormal;
      this.pendingNormal = null;
      return value;
    }
    for (;;) {
      const u = 2 * this.nextFloat() - 1;
      const v = 2 * this.nextFloat() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const factor = Math.sqrt((-2 * portableLog(s)) / s);
      this.pendingNormal = v * factor;
      return u * factor;
    }
  }

  /** Fills `target` with standard normals and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(target: T): T {
    for (let i = 0; i < target.length; i++) target[i] = this.nextNormal();
    return target;
  }
}
