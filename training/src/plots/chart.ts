// The parts every plot shares: a frame with ticked, labelled axes, a title, a legend to the right of
// the plot area and notes under it, as SVG. Line and scatter plots only draw their marks inside it.
import { formatTick, niceTicks, type Ticks } from './ticks.js';

export interface AxisOptions {
  label: string;
  /** Fixed ends of the axis; by default the data's range, widened to round ticks. */
  min?: number;
  max?: number;
}

export interface ChartOptions {
  title: string;
  x: AxisOptions;
  y: AxisOptions;
  /** Whole image in pixels; defaults 760 × 480. */
  width?: number;
  height?: number;
  /** Lines of text printed under the plot (e.g. what a curve cannot show). */
  notes?: readonly string[];
}

export type Marker = 'line' | 'dot' | 'line+dot' | 'cross';

export interface LegendEntry {
  label: string;
  colour: string;
  marker: Marker;
  dashed?: boolean;
}

export interface Extent {
  xLo: number;
  xHi: number;
  yLo: number;
  yHi: number;
}

/** Data coordinates → pixel coordinates of the SVG (y grows downwards). */
export type ToPixel = (x: number, y: number) => readonly [number, number];

export interface Chart {
  svg: string;
  width: number;
  height: number;
  toPixel: ToPixel;
}

/** Matplotlib's "tab10": distinct, and readable by most colour-blind viewers. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
] as const;

export const FONT = 'DejaVu Sans, Verdana, sans-serif';
const TITLE_SIZE = 16;
const LABEL_SIZE = 14;
const TICK_SIZE = 12;
/** DejaVu Sans averages about 0.6 em a character; used only to reserve room for text. */
const CHAR_WIDTH = 0.6;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function fixed(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function text(x: number, y: number, content: string, size: number, extra = ''): string {
  return `<text x="${fixed(x)}" y="${fixed(y)}" font-size="${size}" ${extra}>${escapeXml(content)}</text>`;
}

/** A legend or marker glyph centred at (x, y). */
export function markerSvg(
  marker: Marker,
  x: number,
  y: number,
  colour: string,
  options: { dashed?: boolean; size?: number; opacity?: number } = {},
): string {
  const size = options.size ?? 3;
  const dash = options.dashed ? ' stroke-dasharray="6 4"' : '';
  const line = `<line x1="${fixed(x - 14)}" y1="${fixed(y)}" x2="${fixed(x + 14)}" y2="${fixed(y)}" stroke="${colour}" stroke-width="2"${dash}/>`;
  const dot = `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="${size}" fill="${colour}"${options.opacity === undefined ? '' : ` fill-opacity="${options.opacity}"`}/>`;
  const s = size * 2;
  const cross = `<path d="M${fixed(x - s)} ${fixed(y - s)}L${fixed(x + s)} ${fixed(y + s)}M${fixed(x - s)} ${fixed(y + s)}L${fixed(x + s)} ${fixed(y - s)}" stroke="${colour}" stroke-width="1.5"/>`;
  switch (marker) {
    case 'line':
      return line;
    case 'dot':
      return dot;
    case 'line+dot':
      return line + dot;
    case 'cross':
      return cross;
  }
}

function checkSize(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 200 && value <= 4000))
    throw new RangeError(`${name} must be an integer in [200, 4000] pixels, got ${value}`);
  return value;
}

function axisTicks(axis: AxisOptions, lo: number, hi: number, name: string): Ticks {
  const min = axis.min ?? lo;
  const max = axis.max ?? hi;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) {
    throw new RangeError(
      `the ${name} axis needs finite min ≤ max (set ${name}.min/${name}.max or give finite data), got [${min}, ${max}]`,
    );
  }
  const ticks = niceTicks(min, max);
  // Fixed ends are kept exactly; ticks outside them are dropped.
  const tickLo = axis.min ?? ticks.lo;
  const tickHi = axis.max ?? ticks.hi;
  if (tickLo === tickHi) return ticks;
  return { ...ticks, lo: tickLo, hi: tickHi, values: ticks.values.filter((v) => v >= tickLo - 1e-12 && v <= tickHi + 1e-12) };
}

/**
 * Draws the frame for data spanning `extent` and calls `marks` to draw inside the clipped plot area.
 * `square` gives both axes the same ticks and the plot area equal sides, so distances look true.
 */
export function drawChart(
  options: ChartOptions,
  extent: Extent,
  legend: readonly LegendEntry[],
  marks: (toPixel: ToPixel) => string,
  square = false,
): Chart {
  const width = checkSize(options.width ?? 760, 'width');
  const height = checkSize(options.height ?? 480, 'height');
  let xTicks: Ticks;
  let yTicks: Ticks;
  if (square) {
    // One range for both axes: the union of each axis' fixed ends or data range.
    const lo = Math.min(options.x.min ?? extent.xLo, options.y.min ?? extent.yLo);
    const hi = Math.max(options.x.max ?? extent.xHi, options.y.max ?? extent.yHi);
    xTicks = axisTicks({ label: options.x.label }, lo, hi, 'x');
    yTicks = xTicks;
  } else {
    xTicks = axisTicks(options.x, extent.xLo, extent.xHi, 'x');
    yTicks = axisTicks(options.y, extent.yLo, extent.yHi, 'y');
  }
  const notes = options.notes ?? [];
  const yLabels = yTicks.values.map((v) => formatTick(v, yTicks.decimals));
  const longestTick = Math.max(...yLabels.map((l) => l.length), 1);
  const longestLegend = Math.max(0, ...legend.map((e) => e.label.length));
  const left = 28 + LABEL_SIZE + longestTick * TICK_SIZE * CHAR_WIDTH;
  // The legend goes right of the plot unless its labels would take more than a third of the width;
  // then it goes under the x-axis label, in as many columns as fit.
  const legendEntryWidth = 60 + longestLegend * LABEL_SIZE * CHAR_WIDTH;
  const legendBelow = legend.length > 0 && legendEntryWidth > width / 3;
  const legendColumns = legendBelow
    ? Math.max(1, Math.min(legend.length, Math.floor((width - left - 12) / legendEntryWidth)))
    : 1;
  const legendRows = legendBelow ? Math.ceil(legend.length / legendColumns) : 0;
  const lineHeight = LABEL_SIZE + 8;
  const right = legend.length > 0 && !legendBelow ? legendEntryWidth : 24;
  const top = 44;
  const bottom = 60 + (legendRows > 0 ? legendRows * lineHeight + 6 : 0) + notes.length * (LABEL_SIZE + 6);
  let plotWidth = width - left - right;
  let plotHeight = height - top - bottom;
  if (plotWidth < 80 || plotHeight < 80) {
    throw new RangeError(
      `a ${width} × ${height} image leaves too little room for the plot after labels and legend; make it larger`,
    );
  }
  if (square) plotWidth = plotHeight = Math.min(plotWidth, plotHeight);
  const toPixel: ToPixel = (x, y) => [
    left + ((x - xTicks.lo) / (xTicks.hi - xTicks.lo)) * plotWidth,
    top + plotHeight - ((y - yTicks.lo) / (yTicks.hi - yTicks.lo)) * plotHeight,
  ];

  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  // Centred over the plot, but never pushed past the image's left edge by a long title.
  const titleX = Math.max(left + plotWidth / 2, 8 + (options.title.length * TITLE_SIZE * CHAR_WIDTH) / 2);
  parts.push(text(titleX, 26, options.title, TITLE_SIZE, 'text-anchor="middle" font-weight="bold"'));
  // Grid lines and ticks.
  for (const v of xTicks.values) {
    const [px] = toPixel(v, yTicks.lo);
    parts.push(`<line x1="${fixed(px)}" y1="${top}" x2="${fixed(px)}" y2="${fixed(top + plotHeight)}" stroke="#e6e6e6"/>`);
    parts.push(
      `<line x1="${fixed(px)}" y1="${fixed(top + plotHeight)}" x2="${fixed(px)}" y2="${fixed(top + plotHeight + 5)}" stroke="#000"/>`,
    );
    parts.push(text(px, top + plotHeight + 8 + TICK_SIZE, formatTick(v, xTicks.decimals), TICK_SIZE, 'text-anchor="middle"'));
  }
  yTicks.values.forEach((v, k) => {
    const [, py] = toPixel(xTicks.lo, v);
    parts.push(
      `<line x1="${fixed(left)}" y1="${fixed(py)}" x2="${fixed(left + plotWidth)}" y2="${fixed(py)}" stroke="#e6e6e6"/>`,
    );
    parts.push(`<line x1="${fixed(left - 5)}" y1="${fixed(py)}" x2="${fixed(left)}" y2="${fixed(py)}" stroke="#000"/>`);
    parts.push(text(left - 8, py + TICK_SIZE * 0.35, yLabels[k]!, TICK_SIZE, 'text-anchor="end"'));
  });
  // The clip leaves a few pixels around the frame so that markers on the frame are drawn whole.
  const bleed = 5;
  parts.push(
    `<clipPath id="plot-area"><rect x="${fixed(left - bleed)}" y="${top - bleed}" width="${fixed(plotWidth + 2 * bleed)}" height="${fixed(plotHeight + 2 * bleed)}"/></clipPath>`,
  );
  parts.push(`<g clip-path="url(#plot-area)">${marks(toPixel)}</g>`);
  parts.push(
    `<rect x="${fixed(left)}" y="${top}" width="${fixed(plotWidth)}" height="${fixed(plotHeight)}" fill="none" stroke="#000"/>`,
  );
  // Axis labels.
  parts.push(text(left + plotWidth / 2, top + plotHeight + 30 + LABEL_SIZE, options.x.label, LABEL_SIZE, 'text-anchor="middle"'));
  const yLabelX = 8 + LABEL_SIZE;
  const yLabelY = top + plotHeight / 2;
  parts.push(
    text(
      yLabelX,
      yLabelY,
      options.y.label,
      LABEL_SIZE,
      `text-anchor="middle" transform="rotate(-90 ${fixed(yLabelX)} ${fixed(yLabelY)})"`,
    ),
  );
  const belowAxis = top + plotHeight + 58;
  legend.forEach((entry, k) => {
    const [x, y] = legendBelow
      ? [left + 16 + (k % legendColumns) * legendEntryWidth, belowAxis + Math.floor(k / legendColumns) * lineHeight]
      : [left + plotWidth + 34, top + 12 + k * lineHeight];
    parts.push(
      markerSvg(entry.marker, x, y, entry.colour, { dashed: entry.dashed ?? false, size: entry.marker === 'cross' ? 4 : 3.5 }),
    );
    parts.push(text(x + 22, y + LABEL_SIZE * 0.35, entry.label, LABEL_SIZE));
  });
  const notesTop = belowAxis + (legendRows > 0 ? legendRows * lineHeight + 6 : 0);
  notes.forEach((note, k) =>
    parts.push(text(left, notesTop + k * (LABEL_SIZE + 6) + LABEL_SIZE * 0.35, note, LABEL_SIZE - 1, 'fill="#333"')),
  );

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">${parts.join('')}</svg>`;
  return { svg, width, height, toPixel };
}

/** The finite range of `values`, or undefined when none is finite. */
export function finiteRange(values: Iterable<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}
