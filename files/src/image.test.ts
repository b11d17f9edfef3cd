import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { gridLayout, sampleAt, sampleToPng, samplesToGridPixels, samplesToGridPng } from './image.js';

/** Decodes a PNG to raw pixels in its own channel count (sharp would otherwise expand grey to RGB). */
async function decodePng(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const meta = await sharp(png).metadata();
  const pipeline = meta.channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

test('gridLayout is near-square and never wider than n', () => {
  assert.deepEqual(gridLayout(16), { columns: 4, rows: 4 });
  assert.deepEqual(gridLayout(10), { columns: 4, rows: 3 });
  assert.deepEqual(gridLayout(1), { columns: 1, rows: 1 });
  assert.deepEqual(gridLayout(64), { columns: 8, rows: 8 });
  assert.deepEqual(gridLayout(5, 2), { columns: 2, rows: 3 });
  assert.deepEqual(gridLayout(3, 10), { columns: 3, rows: 1 });
  assert.throws(() => gridLayout(0), /n must be an integer in \[1, /);
  assert.throws(() => gridLayout(4, 0), /columns must be an integer in \[1, /);
});

test('tiles land at their grid positions with padding, range mapping and clamping', () => {
  // 3 samples of 2 × 2 × 1, each filled with one value; 2 columns → second row has one empty tile.
  const values = [-1, 1, 0];
  const samples = new Float32Array(values.flatMap((v) => [v, v, v, v]));
  const image = samplesToGridPixels(samples, 3, [2, 2, 1], [-1, 1], { columns: 2, padding: 1, background: 7 });
  assert.equal(image.width, 2 * 2 + 3);
  assert.equal(image.height, 2 * 2 + 3);
  assert.equal(image.channels, 1);
  const at = (x: number, y: number): number => image.data[y * image.width + x]!;
  assert.equal(at(0, 0), 7); // border
  assert.equal(at(1, 1), 0); // tile 0: -1 → black
  assert.equal(at(2, 2), 0);
  assert.equal(at(3, 1), 7); // gap between columns
  assert.equal(at(4, 1), 255); // tile 1: +1 → white
  assert.equal(at(1, 4), 128); // tile 2: 0 → mid grey (127.5 rounds up)
  assert.equal(at(4, 4), 7); // empty tile keeps the background
  const clamped = samplesToGridPixels(new Float32Array([-5, 5, Number.NaN, 0.5]), 1, [2, 2, 1], [0, 1], { padding: 0 });
  assert.deepEqual(Array.from(clamped.data), [0, 255, 0, 128]);
});

test('scale magnifies each source pixel to a block (nearest neighbour), RGB keeps channel order', () => {
  const rgb = new Float32Array([0, 0.5, 1, 1, 0, 0]); // two pixels, 1 × 2 × 3, range [0, 1]
  const image = samplesToGridPixels(rgb, 1, [1, 2, 3], [0, 1], { padding: 0, scale: 3 });
  assert.equal(image.width, 6);
  assert.equal(image.height, 3);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 6; x++) {
      const pixel = Array.from(image.data.subarray((y * 6 + x) * 3, (y * 6 + x) * 3 + 3));
      assert.deepEqual(pixel, x < 3 ? [0, 128, 255] : [255, 0, 0]);
    }
  }
});

test('samplesToGridPng encodes a 16-sample grid as a 4 × 4 greyscale PNG', async () => {
  const [h, w] = [5, 3];
  const samples = Float32Array.from({ length: 16 * h * w }, (_, i) => Math.sin(i));
  const png = await samplesToGridPng(samples, 16, [h, w, 1], [-1, 1]);
  const decoded = await decodePng(png);
  assert.equal(decoded.width, 4 * w + 5 * 2);
  assert.equal(decoded.height, 4 * h + 5 * 2);
  assert.equal(decoded.channels, 1);
  assert.deepEqual(decoded.data, Buffer.from(samplesToGridPixels(samples, 16, [h, w, 1], [-1, 1]).data));
});

test('sampleToPng encodes one RGB sample without padding', async () => {
  const samples = Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i % 7) / 6);
  const png = await sampleToPng(sampleAt(samples, [4, 4, 3], 1), [4, 4, 3], [0, 1], { scale: 2 });
  const decoded = await decodePng(png);
  assert.deepEqual([decoded.width, decoded.height, decoded.channels], [8, 8, 3]);
  assert.throws(() => sampleAt(samples, [4, 4, 3], 2), /index must be an integer in \[0, 1\], got 2/);
});

test('invalid arguments name the parameter and what is allowed', () => {
  const samples = new Float32Array(16);
  assert.throws(
    () => samplesToGridPixels(samples, 1, [2, 2, 2], [0, 1]),
    /shape\[2\] \(channels\) must be 1 \(grey\) or 3 \(RGB\), got 2/,
  );
  assert.throws(
    () => samplesToGridPixels(samples, 1, [2, 2, 1], [1, 0]),
    /range must be \[lo, hi\] with finite lo < hi, got \[1,0\]/,
  );
  assert.throws(
    () => samplesToGridPixels(samples, 5, [2, 2, 1], [0, 1]),
    /samples has 16 values but n × h × w × c = 5 × 2 × 2 × 1 needs 20/,
  );
  assert.throws(
    () => samplesToGridPixels(samples, 1, [2, 2, 1], [0, 1], { scale: 0 }),
    /scale must be an integer in \[1, 64\], got 0/,
  );
  assert.throws(() => samplesToGridPixels(samples, 1, [2, 2, 1], [0, 1], { padding: -1 }), /padding must be an integer/);
  assert.throws(
    () => samplesToGridPixels(samples, 1, [2, 2, 1], [0, 1], { background: 256 }),
    /background must be an integer in \[0, 255\]/,
  );
});
