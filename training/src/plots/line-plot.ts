// Line plots: several named series over a shared x axis. A non-finite value breaks a series' line,
// so a curve with a jump or a value that cannot be drawn (∞) shows a gap instead of a false segment.
import { drawChart, finiteRange, fixed, markerSvg, PALETTE, type Chart, type ChartOptions, type Marker } from './chart.js';

export interface LineSeries {
  label: string;
  x: readonly number[];
  y: readonly number[];
  /** Default: the next palette colour. */
  colour?: string;
  /** 'line' (default), 'dot' (markers only) or 'line+dot'. */
  style?: Exclude<Marker, 'cross'>;
  dashed?: boolean;
}

export interface LinePlotOptions extends ChartOptions {
  series: readonly LineSeries[];
}

export function linePlot(options: LinePlotOptions): Chart {
  if (options.series.length === 0) throw new RangeError('a line plot needs at least one series');
  options.series.forEach((s, k) => {
    if (s.x.length !== s.y.length)
      throw new RangeError(`series ${k} ("${s.label}") has ${s.x.length} x values but ${s.y.length} y values`);
  });
  const xRange = finiteRange(options.series.flatMap((s) => s.x));
  const yRange = finiteRange(options.series.flatMap((s) => s.y));
  const extent = { xLo: xRange?.[0] ?? NaN, xHi: xRange?.[1] ?? NaN, yLo: yRange?.[0] ?? NaN, yHi: yRange?.[1] ?? NaN };
  const styled = options.series.map((s, k) => ({
    ...s,
    colour: s.colour ?? PALETTE[k % PALETTE.length]!,
    style: s.style ?? 'line',
  }));
  const legend = styled.map((s) => ({ label: s.label, colour: s.colour, marker: s.style, dashed: s.dashed ?? false }));
  return drawChart(options, extent, legend, (toPixel) => {
    const parts: string[] = [];
    for (const s of styled) {
      const points = s.x.map((x, i) => (Number.isFinite(x) && Number.isFinite(s.y[i]!) ? toPixel(x, s.y[i]!) : undefined));
      if (s.style !== 'dot') {
        let path = '';
        let pen = false;
        for (const p of points) {
          if (p === undefined) {
            pen = false;
            continue;
          }
          path += `${pen ? 'L' : 'M'}${fixed(p[0])} ${fixed(p[1])}`;
          pen = true;
        }
        const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
        parts.push(`<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round"${dash}/>`);
      }
      if (s.style !== 'line') {
        for (const p of points) if (p !== undefined) parts.push(markerSvg('dot', p[0], p[1], s.colour, { size: 3 }));
      }
    }
    return parts.join('');
  });
}
