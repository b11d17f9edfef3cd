// WGAN paper, Example 1: P0 = (0, U[0, 1]) and Pθ = (θ, U[0, 1]), two parallel vertical segments.
// Closed forms: W(P0, Pθ) = |θ|; JS = log 2 for θ ≠ 0 and 0 at θ = 0; KL = +∞ for θ ≠ 0 and 0 at
// θ = 0. Only W varies continuously with θ, which is why it can give a generator a useful gradient.
// Beside them, estimates from n samples of each: exact optimal transport for W1, and histogram KL
// and JS (see metrics/divergences.ts for the smoothing policy).
import { Rng } from '@gantry/core';
import { histogram, jsDivergence, klDivergence, type HistogramAxis } from '../metrics/divergences.js';
import { optimalTransportPoints } from '../metrics/wasserstein.js';
import { linePlot } from '../plots/line-plot.js';
import { scatterPlot } from '../plots/scatter-plot.js';
import { PALETTE } from '../plots/chart.js';
import type { Experiment, ExperimentUnit } from './experiment.js';
import { formatNumber, markdownTable } from './table.js';

export interface DivergencesParameters {
  /** θ runs over thetaSteps + 1 evenly spaced values in [−thetaMax, thetaMax] (an even count includes θ = 0). */
  thetaSteps: number;
  thetaMax: number;
  /** Samples drawn from each of P0 and Pθ. */
  samples: number;
  seed: number;
  /** Histogram bins across x (over [−histogramHalfWidth, histogramHalfWidth]) and along y (over [0, 1]). */
  xBins: number;
  yBins: number;
  histogramHalfWidth: number;
  /** Pseudo-count for the smoothed KL estimate (the unsmoothed one is reported too). */
  klPseudoCount: number;
}

export interface DivergencesUnit extends ExperimentUnit {
  index: number;
  theta: number;
}

export interface DivergencesResult {
  theta: number;
  closedForm: { w: number; js: number; kl: number };
  estimate: {
    /** Exact W1 between the two samples (optimal assignment). */
    w1: number;
    /** Plug-in JS of the two histograms. */
    js: number;
    /** Plug-in KL(P0 ‖ Pθ) of the histograms: +∞ whenever the segments fall in different bins. */
    kl: number;
    /** KL with `klPseudoCount` added to every bin. */
    klSmoothed: number;
  };
}

/** W, JS and KL between P0 and Pθ. */
export function parallelLinesClosedForm(theta: number): DivergencesResult['closedForm'] {
  return theta === 0 ? { w: 0, js: 0, kl: 0 } : { w: Math.abs(theta), js: Math.LN2, kl: Infinity };
}

/** n points (θ, u), u ~ U[0, 1), row-major. */
export function sampleSegment(theta: number, n: number, rng: Rng): Float64Array {
  const points = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    points[2 * i] = theta;
    points[2 * i + 1] = rng.nextFloat();
  }
  return points;
}

function thetaOf(index: number, p: DivergencesParameters): number {
  // Integer arithmetic first, so the middle value is exactly 0.
  return (p.thetaMax * (2 * index - p.thetaSteps)) / p.thetaSteps;
}

function histogramAxes(p: DivergencesParameters): HistogramAxis[] {
  return [
    { lo: -p.histogramHalfWidth, hi: p.histogramHalfWidth, bins: p.xBins },
    { lo: 0, hi: 1, bins: p.yBins },
  ];
}

/** Both samples of unit `index`; the summary redraws them for its scatter plot. */
function unitSamples(unit: DivergencesUnit, p: DivergencesParameters): [Float64Array, Float64Array] {
  const rng = Rng.fromSeed((p.seed + unit.index) >>> 0);
  return [sampleSegment(0, p.samples, rng), sampleSegment(unit.theta, p.samples, rng)];
}

const shared = { seed: 0, xBins: 21, yBins: 10, histogramHalfWidth: 1.05, klPseudoCount: 0.5, thetaMax: 1 };

export const divergencesExperiment: Experiment<DivergencesParameters, DivergencesUnit, DivergencesResult> = {
  name: 'divergences',
  description:
    'W, JS and KL between two parallel segments P0 = (0, U[0,1]) and Pθ = (θ, U[0,1]) as θ varies: closed forms beside sample estimates (WGAN paper, Example 1).',
  parameters: {
    quick: { ...shared, thetaSteps: 20, samples: 200 },
    full: { ...shared, thetaSteps: 50, samples: 1000 },
  },

  units(p) {
    return Array.from({ length: p.thetaSteps + 1 }, (_, index) => {
      const theta = thetaOf(index, p);
      return { id: `theta_${theta.toFixed(3)}`, index, theta };
    });
  },

  async run(unit, p) {
    const [p0, pTheta] = unitSamples(unit, p);
    const axes = histogramAxes(p);
    const counts0 = histogram(p0, axes);
    const countsTheta = histogram(pTheta, axes);
    return {
      theta: unit.theta,
      closedForm: parallelLinesClosedForm(unit.theta),
      estimate: {
        w1: optimalTransportPoints(p0, pTheta, 2).distance,
        js: jsDivergence(counts0, countsTheta),
        kl: klDivergence(counts0, countsTheta),
        klSmoothed: klDivergence(counts0, countsTheta, { pseudoCount: p.klPseudoCount }),
      },
    };
  },

  async summarise(completed, p) {
    const results = completed.map((c) => c.result);
    const thetas = results.map((r) => r.theta);
    const binWidth = (2 * p.histogramHalfWidth) / p.xBins;
    // The histogram cannot tell the segments apart when they share a column of bins.
    const xBin = (x: number): number => Math.floor((x + p.histogramHalfWidth) / binWidth);
    const resolved = results.filter((r) => xBin(r.theta) !== xBin(0));
    const maxError = (rs: DivergencesResult[], pick: (r: DivergencesResult) => [number, number]): number =>
      Math.max(0, ...rs.map((r) => Math.abs(pick(r)[0] - pick(r)[1])));
    const infiniteKl = results.filter((r) => r.estimate.kl === Infinity).length;
    const numbers = {
      samples: p.samples,
      thetas: thetas.length,
      /** Largest |W1(samples) − |θ||: the finite-sample error of the exact OT estimate. */
      w1MaxAbsoluteError: maxError(results, (r) => [r.estimate.w1, r.closedForm.w]),
      w1AtThetaZero: results.find((r) => r.theta === 0)?.estimate.w1 ?? null,
      /** Largest |JS(histograms) − log 2| over θ the bins resolve from 0. */
      jsMaxAbsoluteErrorResolved: maxError(resolved, (r) => [r.estimate.js, r.closedForm.js]),
      thetasResolvedByBins: resolved.length,
      thetasWithInfiniteHistogramKl: infiniteKl,
      klSmoothedRange: [
        Math.min(...resolved.map((r) => r.estimate.klSmoothed)),
        Math.max(...resolved.map((r) => r.estimate.klSmoothed)),
      ],
    };

    const table = markdownTable(
      ['θ', 'W', 'W1 (OT, samples)', 'JS', 'JS (hist.)', 'KL', 'KL (hist.)', `KL (hist., α=${p.klPseudoCount})`],
      results.map((r) => [
        formatNumber(r.theta, 2),
        formatNumber(r.closedForm.w, 3),
        formatNumber(r.estimate.w1, 3),
        formatNumber(r.closedForm.js, 3),
        formatNumber(r.estimate.js, 3),
        formatNumber(r.closedForm.kl, 3),
        formatNumber(r.estimate.kl, 3),
        formatNumber(r.estimate.klSmoothed, 3),
      ]),
    );

    const gapAtZero = (values: number[]): number[] => values.map((v, k) => (thetas[k] === 0 ? NaN : v));
    const sampleNote = `${p.samples} samples from each distribution; histograms: ${p.xBins} × ${p.yBins} bins, x bins ${formatNumber(binWidth, 2)} wide.`;
    const divergencesPlot = linePlot({
      title: 'Distances between P0 = (0, U[0,1]) and Pθ = (θ, U[0,1])',
      x: { label: 'θ' },
      y: { label: 'distance / divergence (nats)', min: 0 },
      series: [
        { label: 'W = |θ| (closed form)', x: thetas, y: results.map((r) => r.closedForm.w), colour: PALETTE[0] },
        { label: 'W1, exact OT on samples', x: thetas, y: results.map((r) => r.estimate.w1), colour: PALETTE[0], style: 'dot' },
        {
          label: 'JS = log 2, θ ≠ 0 (closed form)',
          x: thetas,
          y: gapAtZero(results.map((r) => r.closedForm.js)),
          colour: PALETTE[1],
          dashed: true,
        },
        { label: 'JS, histogram estimate', x: thetas, y: results.map((r) => r.estimate.js), colour: PALETTE[1], style: 'dot' },
        { label: 'closed forms at θ = 0: W = JS = KL = 0', x: [0], y: [0], colour: '#000000', style: 'dot' },
      ],
      notes: [sampleNote, 'KL = +∞ for every θ ≠ 0 (closed form), so it has no curve here: see kl.png.'],
      height: 640,
    });
    const klPlot = linePlot({
      title: 'KL(P0 ‖ Pθ) estimated from histograms',
      x: { label: 'θ' },
      y: { label: 'KL (nats)', min: 0 },
      series: [
        {
          label: `smoothed, pseudo-count α = ${p.klPseudoCount}`,
          x: thetas,
          y: results.map((r) => r.estimate.klSmoothed),
          colour: PALETTE[3],
          style: 'line+dot',
        },
        { label: 'unsmoothed, where finite', x: thetas, y: results.map((r) => r.estimate.kl), colour: '#000000', style: 'dot' },
      ],
      notes: [
        `Closed form: KL = +∞ for θ ≠ 0, 0 at θ = 0. Unsmoothed histograms give +∞ at ${infiniteKl} of ${results.length} θ values:`,
        'wherever the segments fall in different x bins. Smoothing makes it finite, growing like log(n / (yBins·α))',
        'with the sample size n: a value set by n and α, not by θ. Where both segments share a bin it is ≈ 0.',
      ],
      height: 520,
    });

    // The samples themselves, at the θ nearest 0.5.
    const shown = completed.reduce((best, c) => (Math.abs(c.unit.theta - 0.5) < Math.abs(best.unit.theta - 0.5) ? c : best));
    const [p0, pTheta] = unitSamples(shown.unit, p);
    const samplesPlot = scatterPlot({
      title: `Samples of P0 and Pθ at θ = ${formatNumber(shown.unit.theta, 2)}`,
      x: { label: 'x', min: -1, max: 1 },
      y: { label: 'y' },
      groups: [
        { label: 'P0', points: p0, colour: PALETTE[0], opacity: 0.6, size: 2 },
        { label: `Pθ`, points: pTheta, colour: PALETTE[1], opacity: 0.6, size: 2 },
      ],
      notes: [
        `W1 of these samples: ${formatNumber(shown.result.estimate.w1, 4)} (closed form ${formatNumber(shown.result.closedForm.w, 4)})`,
      ],
    });
    return {
      numbers,
      table,
      plots: [
        { name: 'divergences', svg: divergencesPlot.svg },
        { name: 'kl', svg: klPlot.svg },
        { name: 'samples', svg: samplesPlot.svg },
      ],
    };
  },
};
