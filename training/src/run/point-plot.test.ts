import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plotPixels, plotRange } from './point-plot.js';

test('a scatter plot puts a point where its coordinates say; a histogram bar is as tall as its count', () => {
  assert.deepEqual(plotRange(Float32Array.from([0.5, -2, 1])), [-1.1 * 2, 1.1 * 2]);
  const range: [number, number] = [-2, 2];
  // (1, 1) lands at x = 192, y = 255 − 192 = 63 on the 256-pixel canvas.
  const scatter = plotPixels(Float32Array.from([1, 1]), 1, 2, range);
  assert.equal(scatter[63 * 256 + 192], 0);
  assert.equal(scatter[10 * 256 + 10], 255);
  // Two samples in one bin, one in another: bars of full and half height.
  const histogram = plotPixels(Float32Array.from([0.01, 0.02, -1.5]), 3, 1, range);
  const column = (x: number): number =>
    Array.from({ length: 256 }, (_, y) => histogram[y * 256 + x]).filter((v) => v === 0).length;
  assert.equal(column(130), 248);
  assert.equal(column(Math.floor((0.5 / 4) * 256) + 1), 124);
  assert.throws(() => plotPixels(new Float32Array(3), 1, 3, range), /1 or 2 coordinates, got 3/);
});
