import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutputSpec } from './card.js';
import { canonicalSamples, onnxSampleDims, padRows, pixelLevel, planBatches } from './samples.js';

const nhwc: OutputSpec = { shape: [2, 3, 2], layout: 'NHWC', range: [-1, 1] };
const nchw: OutputSpec = { ...nhwc, layout: 'NCHW' };

test('NHWC float32 output is passed through with the card range', () => {
  const raw = Float32Array.from({ length: 24 }, (_, i) => i / 24);
  const { samples, range } = canonicalSamples(raw, 2, nhwc);
  assert.equal(samples, raw);
  assert.deepEqual(range, [-1, 1]);
  assert.deepEqual(onnxSampleDims(nhwc), [2, 3, 2]);
});

test('NCHW output is transposed to NHWC: value (s, c, y, x) lands at (s, y, x, c)', () => {
  // Encode each element's coordinates in its value, so the check does not reuse the index arithmetic.
  const [h, w, c] = nchw.shape;
  const n = 2;
  const raw = new Float32Array(n * c * h * w);
  let i = 0;
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[i++] = s * 1000 + ch * 100 + y * 10 + x;
  const { samples } = canonicalSamples(raw, n, nchw);
  const expected: number[] = [];
  for (let s = 0; s < n; s++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) expected.push(s * 1000 + ch * 100 + y * 10 + x);
  assert.deepEqual(Array.from(samples), expected);
  assert.deepEqual(onnxSampleDims(nchw), [2, 2, 3]);
});

test('uint8 pixels keep their values, with range [0, 255], in either layout', () => {
  const raw = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
  const flat = canonicalSamples(raw, 1, { ...nhwc, dtype: 'uint8' });
  assert.deepEqual(Array.from(flat.samples), Array.from(raw));
  assert.deepEqual(flat.range, [0, 255]);
  const transposed = canonicalSamples(raw, 1, { ...nchw, dtype: 'uint8' });
  assert.deepEqual(transposed.range, [0, 255]);
  assert.deepEqual(Array.from(transposed.samples), [0, 120, 20, 140, 40, 160, 60, 180, 80, 200, 100, 220]);
});

test('an element type or size that does not match the card is refused', () => {
  assert.throws(
    () => canonicalSamples(new Float32Array(12), 1, { ...nhwc, dtype: 'uint8' }),
    /holds float32 values but the card promises output.dtype uint8/,
  );
  assert.throws(
    () => canonicalSamples(new Uint8Array(12), 1, nhwc),
    /holds uint8 values but the card promises output.dtype float32/,
  );
  assert.throws(() => canonicalSamples(new Float32Array(10), 1, nchw), /has 10 values but n × 2 × 2 × 3 \(NCHW\) = 12/);
});

test('batches cover every sample once; a fixed batch axis pads the last run', () => {
  assert.deepEqual(planBatches(5, { chunkSize: 2, fixedBatch: null }), [
    { start: 0, count: 2, batch: 2 },
    { start: 2, count: 2, batch: 2 },
    { start: 4, count: 1, batch: 1 },
  ]);
  assert.deepEqual(planBatches(5, { chunkSize: 64, fixedBatch: 4 }), [
    { start: 0, count: 4, batch: 4 },
    { start: 4, count: 1, batch: 4 },
  ]);
  assert.deepEqual(planBatches(0, { chunkSize: 4, fixedBatch: null }), []);
  assert.throws(() => planBatches(3, { chunkSize: 0, fixedBatch: null }), /batch size must be a positive integer/);
  const padded = padRows(Int32Array.of(7, 8), 4);
  assert.deepEqual(Array.from(padded), [7, 8, 0, 0]);
  const whole = Float32Array.of(1, 2);
  assert.equal(padRows(whole, 2), whole);
});

test('pixel levels: lo → 0, hi → 255, the midpoint rounds, outside values and NaN clamp', () => {
  assert.deepEqual(
    [-1, 1, 0, -3, 3, Number.NaN].map((v) => pixelLevel(v, -1, 1)),
    [0, 255, 128, 0, 255, 0],
  );
  assert.deepEqual(
    [0, 100, 255].map((v) => pixelLevel(v, 0, 255)),
    [0, 100, 255],
  );
});
