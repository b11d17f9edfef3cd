import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleRgba } from './images.js';

test('grey samples become opaque grey RGBA; RGB keeps its channels; the range maps to 0…255', () => {
  // Two 1×2 grey samples in [-1, 1]: the second one is drawn.
  const grey = Float32Array.of(0, 0, -1, 1);
  assert.deepEqual(Array.from(sampleRgba(grey, 1, [1, 2, 1], [-1, 1])), [0, 0, 0, 255, 255, 255, 255, 255]);
  const rgb = Float32Array.of(0, 127.5, 255);
  assert.deepEqual(Array.from(sampleRgba(rgb, 0, [1, 1, 3], [0, 255])), [0, 128, 255, 255]);
  assert.throws(() => sampleRgba(grey, 2, [1, 2, 1], [-1, 1]), /sample index 2 is outside the 2 samples/);
  assert.throws(() => sampleRgba(new Float32Array(4), 0, [1, 1, 4], [0, 1]), /1 or 3 channels/);
});
