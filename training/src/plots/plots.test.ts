import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { linePlot } from './line-plot.js';
import { scatterPlot } from './scatter-plot.js';
import { svgToPixels, svgToPng } from './render.js';
import { formatTick, niceTicks } from './ticks.js';
import type { RawImage } from '@gantry/files/image';

test('ticks fall on round numbers that cover the range', () => {
  assert.deepEqual(niceTicks(0, 1).values, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);
  assert.equal(niceTicks(0, 1).decimals, 1);
  const wide = niceTicks(-4.13, 4.2);
  assert.deepEqual(wide.values, [-6, -4, -2, 0, 2, 4, 6]);
  assert.deepEqual([wide.lo, wide.hi, wide.decimals], [-6, 6, 0]);
  const quarter = niceTicks(0, 1.03);
  assert.deepEqual(quarter.values, [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.equal(quarter.decimals, 2);
  const single = niceTicks(3, 3);
  assert.deepEqual(
    single.values.map((v) => formatTick(v, single.decimals)),
    ['2.6', '2.8', '3.0', '3.2', '3.4'],
    'a single value is widened by 10 %',
  );
  assert.throws(() => niceTicks(1, 0), /lo ≤ hi/);
});

test('tick labels use a minus sign and never print "-0"', () => {
  assert.equal(formatTick(-0.5, 1), '−0.5');
  assert.equal(formatTick(-1e-17, 2), '0.00');
  assert.equal(formatTick(0.6000000000000001, 1), '0.6');
});

function pixel(image: RawImage, [x, y]: readonly [number, number]): [number, number, number] {
  const i = (Math.round(y) * image.width + Math.round(x)) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

test('a line plot draws each series at its data coordinates, breaks lines at NaN and escapes text', async () => {
  const chart = linePlot({
    title: 'a < b & c',
    x: { label: 'θ' },
    y: { label: 'value', min: 0, max: 4 },
    series: [
      { label: 'red', x: [0, 1, 2, 3, 4], y: [1, 1, NaN, 1, 1], colour: '#ff0000' },
      { label: 'blue dots', x: [2], y: [3], colour: '#0000ff', style: 'dot' },
    ],
  });
  assert.match(chart.svg, /a &lt; b &amp; c/);
  const image = await svgToPixels(chart.svg);
  assert.deepEqual([image.width, image.height, image.channels], [760, 480, 3]);
  const isRed = ([r, g, b]: number[]): boolean => r! > 200 && g! < 80 && b! < 80;
  assert.ok(isRed(pixel(image, chart.toPixel(0.5, 1))), 'the line runs through (0.5, 1)');
  assert.ok(isRed(pixel(image, chart.toPixel(3.5, 1))), 'and through (3.5, 1)');
  assert.ok(!isRed(pixel(image, chart.toPixel(2, 1))), 'but not through the NaN at x = 2');
  const [r, g, b] = pixel(image, chart.toPixel(2, 3));
  assert.ok(b > 200 && r < 80 && g < 80, `the blue dot is at (2, 3): got ${[r, g, b]}`);
  assert.deepEqual(pixel(image, [3, 3]), [255, 255, 255], 'the background is white');
});

test('a scatter plot is square, marks every point and renders to a PNG', async () => {
  const chart = scatterPlot({
    title: 'samples',
    x: { label: 'x' },
    y: { label: 'y' },
    groups: [
      { label: 'centres', points: [-3, -3, 3, 3], marker: 'cross', colour: '#00aa00' },
      { label: 'samples', points: [0, 2, 1, -3], colour: '#000000', size: 3, opacity: 1 },
    ],
  });
  const [left, bottom] = chart.toPixel(0, 0);
  const [right, top] = chart.toPixel(1, 1);
  assert.ok(right - left > 10 && Math.abs(right - left - (bottom - top)) < 1e-9, 'equal scales on both axes');
  const image = await svgToPixels(chart.svg);
  assert.deepEqual(pixel(image, chart.toPixel(0, 2)), [0, 0, 0]);
  const [r, g, b] = pixel(image, chart.toPixel(3, 3));
  assert.ok(g > 120 && r < 60 && b < 60, `the cross is drawn at the centre (3, 3): got ${[r, g, b]}`);
  const png = await svgToPng(chart.svg);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', chart.width, chart.height, 3]);
});

test('plots name what is wrong with their input', () => {
  assert.throws(
    () => linePlot({ title: '', x: { label: '' }, y: { label: '' }, series: [{ label: 's', x: [1, 2], y: [1] }] }),
    /series 0 \("s"\) has 2 x values but 1 y values/,
  );
  assert.throws(
    () => linePlot({ title: '', x: { label: '' }, y: { label: '' }, series: [{ label: 's', x: [1], y: [Infinity] }] }),
    /the y axis needs finite min ≤ max/,
  );
  assert.throws(
    () => scatterPlot({ title: '', x: { label: '' }, y: { label: '' }, groups: [{ label: 'g', points: [1, 2, 3] }] }),
    /\(x, y\) pairs, got 3 values/,
  );
  assert.throws(
    () => linePlot({ title: '', x: { label: '' }, y: { label: '' }, width: 50, series: [{ label: 's', x: [1], y: [1] }] }),
    /width must be an integer in \[200, 4000\]/,
  );
});
