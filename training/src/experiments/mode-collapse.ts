// PacGAN's mode-collapse benchmark (Table 1): GAN and PacGAN2–4 on the ring of 8 and the grid of 25
// Gaussians, each run scored on 2 500 generated samples by modes captured, high-quality samples and
// reverse KL (metrics/mode-coverage.ts), then mean ± standard error over seeds beside the paper's rows.
// Training is not done here: the experiment takes a `generate` function that trains (or loads) the
// run for a unit and returns its samples; they are kept as `units/<id>/samples.npy`, so a resumed
// experiment never regenerates them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '@gantry/files/npy';
import { writeFileAtomic } from '@gantry/files/atomic';
import { GRID_25, RING_8, type MixtureModes } from '../metrics/mixture-modes.js';
import { modeCoverage } from '../metrics/mode-coverage.js';
import { meanWithStandardError, type MeanWithError } from '../metrics/statistics.js';
import { scatterPlot } from '../plots/scatter-plot.js';
import type { Experiment, ExperimentUnit, UnitContext } from './experiment.js';
import { formatNumber, markdownTable } from './table.js';

export type MixtureName = 'ring-8' | 'grid-25';
export const MIXTURES: Record<MixtureName, MixtureModes> = { 'ring-8': RING_8, 'grid-25': GRID_25 };

/** The methods compared: GAN and PacGAN2–4 (PacGAN's Table 1), Unrolled GAN with K = 5 and WGAN-GP. */
export const MODE_COLLAPSE_METHODS = ['GAN', 'PacGAN2', 'PacGAN3', 'PacGAN4', 'Unrolled5', 'WGAN-GP'] as const;
export type ModeCollapseMethod = (typeof MODE_COLLAPSE_METHODS)[number];

/** How a method's run is trained, on top of the shared setup (see mode-collapse-training.ts). */
export function methodSettings(method: ModeCollapseMethod): { packing: number; unrolledSteps: number; wasserstein: boolean } {
  const packed = /^PacGAN(\d)$/.exec(method);
  return {
    packing: packed ? Number(packed[1]) : 1,
    unrolledSteps: method === 'Unrolled5' ? 5 : 0,
    wasserstein: method === 'WGAN-GP',
  };
}

/** The training setup shared by every method (PacGAN's, with the length a parameter). */
export interface ModeCollapseTraining {
  /** Generator steps; PacGAN's 400 epochs of 100 000 points at batch 100 are 400 000 (MODE_COLLAPSE_PAPER_STEPS). */
  steps: number;
  batchSize: number;
  points: number;
  generatorWidths: number[];
  discriminatorWidths: number[];
  maxoutPieces: number;
  learningRate: number;
  beta1: number;
  checkpointEvery: number;
}

export interface ModeCollapseParameters {
  methods: ModeCollapseMethod[];
  mixtures: MixtureName[];
  /** Independent runs per (method, mixture); PacGAN uses 10. */
  seeds: number;
  /** Samples scored per run; PacGAN uses 2 500. */
  samples: number;
  training: ModeCollapseTraining;
}

export interface ModeCollapseUnit extends ExperimentUnit {
  method: ModeCollapseMethod;
  mixture: MixtureName;
  seed: number;
}

export interface ModeCollapseResult {
  modes: number;
  highQualityPercent: number;
  reverseKl: number | null;
  /** High-quality samples nearest to each mode centre. */
  counts: number[];
}

/** Trains (or loads) the run for `unit` and returns `parameters.samples` generated 2-D points, row-major. */
export type GenerateSamples = (
  unit: ModeCollapseUnit,
  parameters: ModeCollapseParameters,
  context: UnitContext,
) => Promise<Float32Array>;

/** A "mean ± s.e." cell; the figures as published, mean and standard error over 10 trials. */
type Published = readonly [mean: number, standardError: number];

/** PacGAN (Lin et al. 2018) Table 1 (docs/REFERENCES.md#mode-collapse-on-2-d-mixtures-pacgan-table-1). HQ in percent. */
export const PACGAN_TABLE_1: ReadonlyArray<{
  packing: number;
  ring: { modes: Published; hq: Published; reverseKl: Published };
  grid: { modes: Published; hq: Published; reverseKl: Published };
}> = [
  {
    packing: 1,
    ring: { modes: [6.3, 0.5], hq: [98.2, 0.2], reverseKl: [0.45, 0.09] },
    grid: { modes: [17.3, 0.8], hq: [94.8, 0.7], reverseKl: [0.7, 0.07] },
  },
  {
    packing: 2,
    ring: { modes: [7.9, 0.1], hq: [95.6, 2.0], reverseKl: [0.07, 0.03] },
    grid: { modes: [23.8, 0.7], hq: [91.3, 0.8], reverseKl: [0.13, 0.04] },
  },
  {
    packing: 3,
    ring: { modes: [7.8, 0.1], hq: [97.7, 0.3], reverseKl: [0.1, 0.02] },
    grid: { modes: [24.6, 0.4], hq: [94.2, 0.4], reverseKl: [0.06, 0.02] },
  },
  {
    packing: 4,
    ring: { modes: [7.8, 0.1], hq: [95.9, 1.4], reverseKl: [0.07, 0.02] },
    grid: { modes: [24.8, 0.2], hq: [93.6, 0.6], reverseKl: [0.04, 0.01] },
  },
];

/** Scores one run's samples. */
export function scoreModeCollapse(samples: ArrayLike<number>, mixture: MixtureName): ModeCollapseResult {
  const { centres, sigma } = MIXTURES[mixture];
  const coverage = modeCoverage(samples, centres, sigma);
  return {
    modes: coverage.modes,
    highQualityPercent: 100 * coverage.highQualityFraction,
    reverseKl: coverage.reverseKl,
    counts: coverage.counts,
  };
}

export interface ModeCollapseRow {
  method: ModeCollapseMethod;
  mixture: MixtureName;
  runs: number;
  modes: MeanWithError;
  highQualityPercent: MeanWithError;
  /** Over the runs with at least one HQ sample (reverse KL is undefined otherwise); null if there are none. */
  reverseKl: MeanWithError | null;
}

/** Mean ± standard error over seeds for every (method, mixture) present in `completed`. */
export function aggregateModeCollapse(
  completed: ReadonlyArray<{ unit: ModeCollapseUnit; result: ModeCollapseResult }>,
): ModeCollapseRow[] {
  const groups = new Map<string, { method: ModeCollapseMethod; mixture: MixtureName; results: ModeCollapseResult[] }>();
  for (const { unit, result } of completed) {
    const key = `${unit.method}/${unit.mixture}`;
    const group = groups.get(key) ?? { method: unit.method, mixture: unit.mixture, results: [] };
    group.results.push(result);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ method, mixture, results }) => {
    const klValues = results.map((r) => r.reverseKl).filter((v): v is number => v !== null);
    return {
      method,
      mixture,
      runs: results.length,
      modes: meanWithStandardError(results.map((r) => r.modes)),
      highQualityPercent: meanWithStandardError(results.map((r) => r.highQualityPercent)),
      reverseKl: klValues.length > 0 ? meanWithStandardError(klValues) : null,
    };
  });
}

function cell(value: MeanWithError | null, decimals: number): string {
  if (value === null) return '–';
  return `${formatNumber(value.mean, decimals)}±${formatNumber(value.standardError, decimals)}`;
}

function publishedCell([mean, error]: Published, decimals: number): string {
  return `${mean.toFixed(decimals)}±${error.toFixed(decimals)}`;
}

/** Gantry's rows beside PacGAN's, in Table 1's columns. */
export function modeCollapseTable(rows: readonly ModeCollapseRow[]): string {
  const find = (method: ModeCollapseMethod, mixture: MixtureName): ModeCollapseRow | undefined =>
    rows.find((r) => r.method === method && r.mixture === mixture);
  const methods = MODE_COLLAPSE_METHODS.filter((m) => rows.some((r) => r.method === m));
  const ours = methods.map((method) => {
    const ring = find(method, 'ring-8');
    const grid = find(method, 'grid-25');
    const runs = [...new Set([ring?.runs, grid?.runs].filter((n) => n !== undefined))].join('/');
    return [
      `${method} (Gantry, ${runs} runs)`,
      ring ? cell(ring.modes, 1) : '–',
      ring ? cell(ring.highQualityPercent, 1) : '–',
      ring ? cell(ring.reverseKl, 2) : '–',
      grid ? cell(grid.modes, 1) : '–',
      grid ? cell(grid.highQualityPercent, 1) : '–',
      grid ? cell(grid.reverseKl, 2) : '–',
    ];
  });
  // Only GAN and PacGANm have published rows in the same setup (other papers' baselines are not comparable: docs/REFERENCES.md#mode-collapse-on-2-d-mixtures-pacgan-table-1).
  const packings = methods.filter((m) => m === 'GAN' || m.startsWith('PacGAN')).map((m) => methodSettings(m).packing);
  const published = PACGAN_TABLE_1.filter((row) => packings.includes(row.packing)).map((row) => [
    `${row.packing === 1 ? 'GAN' : `PacGAN${row.packing}`} (PacGAN Table 1)`,
    publishedCell(row.ring.modes, 1),
    publishedCell(row.ring.hq, 1),
    publishedCell(row.ring.reverseKl, 2),
    publishedCell(row.grid.modes, 1),
    publishedCell(row.grid.hq, 1),
    publishedCell(row.grid.reverseKl, 2),
  ]);
  return markdownTable(
    ['method', 'ring modes /8', 'ring HQ %', 'ring rev. KL', 'grid modes /25', 'grid HQ %', 'grid rev. KL'],
    [...ours, ...published],
  );
}

async function readSamples(path: string): Promise<Float32Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return decodeNpy(bytes).data;
}

function checkSamples(samples: Float32Array, p: ModeCollapseParameters, where: string): void {
  if (samples.length !== 2 * p.samples) {
    throw new RangeError(
      `${where} holds ${samples.length} values; the mode-collapse experiment needs ${p.samples} 2-D samples (${2 * p.samples} values)`,
    );
  }
}

/** PacGAN's setup: 400 epochs of 100 000 points at batch 100. */
export const MODE_COLLAPSE_PAPER_STEPS = 400_000;

const paperTraining: ModeCollapseTraining = {
  steps: MODE_COLLAPSE_PAPER_STEPS,
  batchSize: 100,
  points: 100_000,
  generatorWidths: [400, 400, 400, 400],
  discriminatorWidths: [200, 200, 200],
  maxoutPieces: 5,
  learningRate: 1e-4,
  beta1: 0.8,
  checkpointEvery: 500,
};

/**
 * quick: tiny players for a few steps (CI checks the plumbing, not the numbers). full: PacGAN's
 * players, initialisation, optimiser, batch and simultaneous updates, but 50 000 steps (an eighth of the
 * paper's 400 000, chosen in advance for every method alike: a PyTorch twin of the setup reached 25 modes
 * and a reverse KL of 0.07 by 40 000 steps; a paper-length run takes about 14 hours here), 5 seeds. `gantry experiment mode-collapse --set
 * training.steps=400000 --set seeds=10` is the paper's setting.
 */
export const MODE_COLLAPSE_PARAMETERS: { quick: ModeCollapseParameters; full: ModeCollapseParameters } = {
  quick: {
    methods: ['GAN', 'PacGAN2'],
    mixtures: ['ring-8', 'grid-25'],
    seeds: 2,
    samples: 2500,
    training: {
      ...paperTraining,
      steps: 20,
      points: 2000,
      generatorWidths: [16, 16],
      discriminatorWidths: [16],
      maxoutPieces: 2,
      learningRate: 1e-3,
      checkpointEvery: 10,
    },
  },
  full: {
    methods: [...MODE_COLLAPSE_METHODS],
    mixtures: ['ring-8', 'grid-25'],
    seeds: 5,
    samples: 2500,
    training: { ...paperTraining, steps: 50_000 },
  },
};

/** The experiment, given the function that produces each run's samples. */
export function modeCollapseExperiment(
  generate: GenerateSamples,
): Experiment<ModeCollapseParameters, ModeCollapseUnit, ModeCollapseResult> {
  return {
    name: 'mode-collapse',
    description:
      "PacGAN's Table 1: modes captured, high-quality samples and reverse KL on the ring of 8 and the grid of 25 Gaussians, GAN, PacGAN2–4, Unrolled (K = 5) and WGAN-GP, mean ± s.e. over seeds.",
    // Measured on this machine: a PacGAN-size step takes ~0.14 s on wasm (2 threads, idle machine;
    // `npm run bench:train -- --model mode-collapse-pacgan2`) and ~5 s on the JavaScript cpu backend.
    backend: 'wasm',
    parameters: MODE_COLLAPSE_PARAMETERS,

    units(p) {
      return p.mixtures.flatMap((mixture) =>
        p.methods.flatMap((method) =>
          Array.from({ length: p.seeds }, (_, seed) => ({ id: `${mixture}_${method}_seed${seed}`, method, mixture, seed })),
        ),
      );
    },

    async run(unit, p, context) {
      const path = join(context.unitDir, 'samples.npy');
      let samples = await readSamples(path);
      if (samples === undefined) {
        samples = await generate(unit, p, context);
        checkSamples(samples, p, `the samples generated for ${unit.id}`);
        await writeFileAtomic(path, encodeNpy(samples, [p.samples, 2]));
      } else {
        checkSamples(samples, p, path);
      }
      return scoreModeCollapse(samples, unit.mixture);
    },

    async summarise(completed, _p, context) {
      const rows = aggregateModeCollapse(completed);
      // One scatter per (mixture, method): the first seed's samples over the mode centres.
      const plots = [];
      for (const row of rows) {
        const first = completed.find((c) => c.unit.method === row.method && c.unit.mixture === row.mixture)!;
        const samples = await readSamples(join(context.unitsDir, first.unit.id, 'samples.npy'));
        if (samples === undefined) continue;
        const { centres } = MIXTURES[row.mixture];
        const chart = scatterPlot({
          title: `${row.method} on ${row.mixture}, seed ${first.unit.seed}`,
          x: { label: 'x₁' },
          y: { label: 'x₂' },
          groups: [
            { label: 'mode centres', points: centres.flat(), marker: 'cross', colour: '#d62728' },
            { label: 'generated samples', points: samples, colour: '#1f1f1f' },
          ],
          notes: [
            `modes ${first.result.modes}/${centres.length}, HQ ${formatNumber(first.result.highQualityPercent, 1)} %, reverse KL ${formatNumber(first.result.reverseKl, 3)}`,
          ],
        });
        plots.push({ name: `samples-${row.mixture}-${row.method}`, svg: chart.svg });
      }
      return { numbers: { rows, pacganTable1: PACGAN_TABLE_1 }, table: modeCollapseTable(rows), plots };
    },
  };
}
