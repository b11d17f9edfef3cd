import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';
import { MAX_LATENT_ROWS, combine, interpolate, latentRow, lerp, sampleLatents, sampleLatentsWithRng, slerp } from './latents.js';

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test('sampleLatents golden values for seed 7 (normal and uniform)', () => {
  assert.deepEqual(
    Array.from(sampleLatents({ size: 4, distribution: 'normal' }, 2, 7)),
    [
      -1.5370383262634277, -0.2949978709220886, 2.7798852920532227, 0.5592584609985352, 1.1707197427749634, 0.22119922935962677,
      -0.8068733811378479, -1.2010109424591064,
    ],
  );
  assert.deepEqual(
    Array.from(sampleLatents({ size: 4, distribution: 'uniform' }, 2, 7)),
    [
      -0.5323445796966553, 0.024464726448059082, -0.10217094421386719, -0.6545696258544922, 0.13133931159973145,
      -0.05293762683868408, 0.026422858238220215, -0.2863401174545288,
    ],
  );
});

test('sampleLatents is row-major n × size and equals the Rng variant with the same seed', () => {
  const spec = { size: 8, distribution: 'normal' } as const;
  const latents = sampleLatents(spec, 5, 42);
  assert.ok(latents instanceof Float32Array);
  assert.equal(latents.length, 40);
  assert.deepEqual(latents, sampleLatentsWithRng(spec, 5, Rng.fromSeed(42)));
  // Rows continue one stream: sampling 5 rows at once equals sampling 2 then 3 from one generator.
  const rng = Rng.fromSeed(42);
  const joined = new Float32Array(40);
  joined.set(sampleLatentsWithRng(spec, 2, rng), 0);
  joined.set(sampleLatentsWithRng(spec, 3, rng), 16);
  assert.deepEqual(joined, latents);
  assert.deepEqual(latentRow(latents, 8, 4), latents.subarray(32, 40));
});

test('uniform latents stay in [-1, 1) with mean 0 and variance 1/3', () => {
  const values = sampleLatents({ size: 100, distribution: 'uniform' }, 1000, 1);
  let sum = 0;
  let sumSquares = 0;
  for (const v of values) {
    assert.ok(v >= -1 && v < 1, `value ${v}`);
    sum += v;
    sumSquares += v * v;
  }
  const mean = sum / values.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sumSquares / values.length - 1 / 3) < 0.01);
});

test('normal latents have unit variance', () => {
  const values = sampleLatents({ size: 100, distribution: 'normal' }, 1000, 1);
  let sumSquares = 0;
  for (const v of values) sumSquares += v * v;
  assert.ok(Math.abs(sumSquares / values.length - 1) < 0.02);
});

test('sampleLatents validates its parameters, naming them', () => {
  const spec = { size: 4, distribution: 'normal' } as const;
  assert.throws(() => sampleLatents(spec, 0, 1), {
    name: 'RangeError',
    message: `n must be an integer in [1, ${MAX_LATENT_ROWS}], got 0`,
  });
  assert.throws(() => sampleLatents(spec, 2.5, 1), /n must be an integer/);
  assert.throws(() => sampleLatents(spec, 1, -3), /seed must be an integer in \[0, 4294967295\], got -3/);
  assert.throws(() => sampleLatents({ size: 0, distribution: 'normal' }, 1, 1), /spec\.size must be a positive integer, got 0/);
  assert.throws(
    () => sampleLatents({ size: 4, distribution: 'cauchy' as 'normal' }, 1, 1),
    (error: Error) =>
      error instanceof TypeError && /spec\.distribution must be "normal" or "uniform", got "cauchy"/.test(error.message),
  );
  assert.throws(() => sampleLatentsWithRng(spec, 1, {} as Rng), /rng must be an Rng instance/);
});

test('lerp hits the endpoints and the midpoint', () => {
  const a = [0, 2, -4];
  const b = [2, 2, 4];
  assert.deepEqual(Array.from(lerp(a, b, 0)), a);
  assert.deepEqual(Array.from(lerp(a, b, 1)), b);
  assert.deepEqual(Array.from(lerp(a, b, 0.5)), [1, 2, 0]);
  assert.throws(() => lerp(a, [1, 2], 0.5), /a and b must have the same length, got 3 and 2/);
  assert.throws(() => lerp(a, b, Number.NaN), /t must be a finite number, got NaN/);
  assert.throws(() => lerp('abc' as unknown as number[], b, 0), /a must be a Float32Array, Float64Array or number\[\]/);
});

test('slerp follows the arc between orthogonal vectors, keeping the norm', () => {
  const a = [1, 0];
  const b = [0, 1];
  const middle = slerp(a, b, 0.5);
  assertClose(middle, [Math.SQRT1_2, Math.SQRT1_2]);
  assertClose(slerp(a, b, 0), a);
  assertClose(slerp(a, b, 1), b);
  for (const t of [0.1, 0.3, 0.7]) assert.ok(Math.abs(norm(slerp(a, b, t)) - 1) < 1e-6);
  // Different norms: the direction walks the arc between the unit directions, the norm goes linearly.
  assertClose(slerp([2, 0], [0, 4], 0.5), [3 * Math.SQRT1_2, 3 * Math.SQRT1_2]);
  const third = slerp([2, 0], [0, 4], 1 / 3);
  assertClose(third, [(8 / 3) * Math.cos(Math.PI / 6), (8 / 3) * Math.sin(Math.PI / 6)]);
  // Nearly antipodal float32 unit vectors: the slightly different rounded norms are not amplified.
  const nearlyOpposite = slerp(Float32Array.from([-0.999999076128006, 0, 0.0013593171201732122]), [1, 0.00039, 0], 0.5);
  assert.ok(Math.abs(norm(nearlyOpposite) - 1) < 1e-6, `norm ${norm(nearlyOpposite)}`);
});

test('slerp falls back to lerp for parallel, antiparallel and zero vectors', () => {
  const a = [1, 2, 3];
  const parallel = [2, 4, 6];
  assertClose(slerp(a, parallel, 0.25), lerp(a, parallel, 0.25));
  const opposite = [-1, -2, -3];
  assertClose(slerp(a, opposite, 0.25), lerp(a, opposite, 0.25));
  assertClose(slerp([0, 0, 0], a, 0.5), [0.5, 1, 1.5]);
  for (const value of slerp(a, parallel, 0.5)) assert.ok(Number.isFinite(value));
});

test('interpolate stacks steps rows from a to b inclusive', () => {
  const [a, b] = [
    [1, 0],
    [0, 1],
  ] as const;
  const linear = interpolate(a, b, 5, 'lerp');
  assert.equal(linear.length, 10);
  assertClose(linear.subarray(0, 2), a);
  assertClose(linear.subarray(8, 10), b);
  assertClose(linear.subarray(4, 6), [0.5, 0.5]);
  const spherical = interpolate(a, b, 3, 'slerp');
  assertClose(spherical.subarray(2, 4), [Math.SQRT1_2, Math.SQRT1_2]);
  assert.throws(() => interpolate(a, b, 1), /steps must be an integer in \[2, 4096\], got 1/);
  assert.throws(() => interpolate(a, b, 3, 'cubic' as 'lerp'), /method must be "lerp" or "slerp", got "cubic"/);
});

test('combine computes weighted sums such as a - b + c', () => {
  const a = new Float32Array([1, 2, 3]);
  const b = new Float32Array([0.5, 0.5, 0.5]);
  const c = [10, 20, 30];
  const result = combine([
    { vector: a, weight: 1 },
    { vector: b, weight: -1 },
    { vector: c, weight: 1 },
  ]);
  assert.ok(result instanceof Float32Array);
  assert.deepEqual(Array.from(result), [10.5, 21.5, 32.5]);
  assert.deepEqual(Array.from(combine([{ vector: c, weight: 0.5 }])), [5, 10, 15]);
  assert.throws(() => combine([]), /terms must be a non-empty array/);
  assert.throws(
    () =>
      combine([
        { vector: a, weight: 1 },
        { vector: [1], weight: 1 },
      ]),
    /terms\[0\]\.vector and terms\[1\]\.vector must have the same length, got 3 and 1/,
  );
  assert.throws(() => combine([{ vector: a, weight: Infinity }]), /terms\[0\]\.weight must be a finite number, got Infinity/);
});
