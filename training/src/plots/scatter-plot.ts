// Scatter plots of 2-D samples, e.g. a generator's output over the centres of the modes it should
// cover. Axes share their scale so circles look round and distances compare across directions.
import { drawChart, finiteRange, markerSvg, PALETTE, type Chart, type ChartOptions } from './chart.js';

export interface PointGroup {
  label: string;
  /** Row-major (x, y) pairs. */
  points: ArrayLike<number>;
  colour?: string;
  /** 'dot' (default) for samples, 'cross' for centres and other reference points. */
  marker?: 'dot' | 'cross';
  /** Dot radius in pixels (default 1.6) or half the cross arm (default 3). */
  size?: number;
  /** Fill opacity of dots, so dense regions read darker (default 0.35). */
  opacity?: number;
}

export interface ScatterPlotOptions extends ChartOptions {
  groups: readonly PointGroup[];
}

export function scatterPlot(options: ScatterPlotOptions): Chart {
  if (options.groups.length === 0) throw new RangeError('a scatter plot needs at least one group of points');
  options.groups.forEach((g, k) => {
    if (g.points.length % 2 !== 0)
      throw new RangeError(`group ${k} ("${g.label}") must hold (x, y) pairs, got ${g.points.length} values`);
  });
  const coordinate = (axis: 0 | 1): number[] =>
    options.groups.flatMap((g) => Array.from({ length: g.points.length / 2 }, (_, i) => g.points[2 * i + axis]!));
  const xRange = finiteRange(coordinate(0));
  const yRange = finiteRange(coordinate(1));
  const extent = { xLo: xRange?.[0] ?? NaN, xHi: xRange?.[1] ?? NaN, yLo: yRange?.[0] ?? NaN, yHi: yRange?.[1] ?? NaN };
  const styled = options.groups.map((g, k) => ({
    ...g,
    colour: g.colour ?? PALETTE[k % PALETTE.length]!,
    marker: g.marker ?? 'dot',
  }));
  const legend = styled.map((g) => ({ label: g.label, colour: g.colour, marker: g.marker }));
  return drawChart(
    { width: 640, height: 540, ...options },
    extent,
    legend,
    (toPixel) => {
      const parts: string[] = [];
      for (const g of styled) {
        const size = g.size ?? (g.marker === 'cross' ? 3 : 1.6);
        for (let i = 0; i < g.points.length; i += 2) {
          const x = g.points[i]!;
          const y = g.points[i + 1]!;
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          const [px, py] = toPixel(x, y);
          parts.push(
            markerSvg(g.marker, px, py, g.colour, { size, ...(g.marker === 'dot' ? { opacity: g.opacity ?? 0.35 } : {}) }),
          );
        }
      }
      return parts.join('');
    },
    true,
  );
}
