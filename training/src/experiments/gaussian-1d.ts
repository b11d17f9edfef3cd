// The 1-D case study (docs/REFERENCES.md#the-1-d-case-study): data N(0, 1), G(z) = z + θG, critic f(x) = θD·x, Wasserstein
// objective. Every quantity has a closed form. D minimises θD·θG + penalty, G minimises −θD·θG.
// - Two-sided WGAN-GP, λ(|θD| − 1)²: D's best responses are the two branches θD = ±1 − θG/(2λ)
//   (each a local minimum while it keeps its sign). Along the + branch G's loss is −θG + θG²/(2λ),
//   least at θG = λ, θD = ½: a spurious equilibrium that best-response training converges to from
//   anywhere on that branch (θG < 2λ). Plain alternating training follows G's partial gradient −θD
//   instead, which only vanishes where the branch crosses θD = 0, at θG = 2λ.
// - One-sided, λ·ReLU(|θD| − 1): for |θG| < λ D's best response is θD = −sign(θG), so G's loss is
//   |θG|, least at the data mean θG = 0. D's Hessian is 0 (the loss is piecewise linear in θD), so the
//   best-response correction vanishes and both strategies reduce to the bilinear game θG' = ηG·θD,
//   θD' = −k·ηD·θG near θG = 0: it circles 0 with |θG| up to √(ηG/(k·ηD)) (θD swinging between ±1).
// Which branch D settles on is set by its first moves: from θD = 0 it goes to −sign(θG), so a start
// θG < 0 puts D on the + branch whose spurious equilibrium is θG = +λ (θG > 0 mirrors it to −λ).
import { linePlot } from '../plots/line-plot.js';
import { PALETTE } from '../plots/chart.js';
import type { TrainConfigInput } from '../run/config.js';
import type { Experiment, ExperimentUnit } from './experiment.js';
import { withRun, takeStep, type InProcessRun } from './in-process.js';
import { formatNumber, markdownTable } from './table.js';

export type CaseStudyPenalty = 'gradient' | 'one-sided';
export type CaseStudyStrategy = 'alternating' | 'best-response';

export interface Gaussian1dParameters {
  lambda: number;
  initialShift: number;
  initialWeight: number;
  /** SGD step sizes of G and D. */
  generatorLearningRate: number;
  discriminatorLearningRate: number;
  /** D updates per G update (alternating's k, best-response's retraction steps). */
  discriminatorSteps: number;
  steps: number;
  batchSize: number;
  /** θG and θD are recorded every this many steps. */
  recordEvery: number;
  seed: number;
}

export interface Gaussian1dUnit extends ExperimentUnit {
  penalty: CaseStudyPenalty;
  strategy: CaseStudyStrategy;
}

export interface Gaussian1dResult {
  steps: number[];
  generatorShift: number[];
  criticWeight: number[];
  final: { generatorShift: number; criticWeight: number };
  /** Mean and largest |θG| over the last tenth of training (the one-sided runs circle 0). */
  lastTenth: { meanShift: number; maxAbsShift: number };
}

/** D's best responses θD(θG) for each penalty (local minima of D's expected loss), for the phase portrait. */
export function bestResponseBranches(penalty: CaseStudyPenalty, lambda: number, thetaG: number): number[] {
  if (penalty === 'gradient') return [1 - thetaG / (2 * lambda), -1 - thetaG / (2 * lambda)];
  return thetaG === 0 ? [] : [-Math.sign(thetaG)];
}

/** The spurious equilibrium of two-sided WGAN-GP under best-response training on the + branch. */
export function spuriousEquilibrium(lambda: number): { generatorShift: number; criticWeight: number } {
  return { generatorShift: lambda, criticWeight: 0.5 };
}

function configFor(unit: Gaussian1dUnit, p: Gaussian1dParameters): TrainConfigInput {
  const strategy =
    unit.strategy === 'alternating'
      ? { type: 'alternating' as const }
      : { type: 'best-response' as const, retractionSteps: p.discriminatorSteps, solverIterations: 3 };
  return {
    name: `gaussian-1d-${unit.id}`,
    seed: p.seed,
    data: { dataset: 'gaussian-1d', points: 100_000 },
    model: { architecture: 'linear', latentSize: 1, linear: { initialShift: p.initialShift, initialWeight: p.initialWeight } },
    objective: 'wasserstein',
    penalty: { type: unit.penalty, lambda: p.lambda },
    strategy,
    optimizer: {
      generator: { type: 'sgd', learningRate: p.generatorLearningRate },
      discriminator: { type: 'sgd', learningRate: p.discriminatorLearningRate },
    },
    training: {
      steps: p.steps,
      batchSize: p.batchSize,
      discriminatorSteps: unit.strategy === 'alternating' ? p.discriminatorSteps : 1,
    },
  };
}

function parametersOf(run: InProcessRun): [number, number] {
  const read = (model: typeof run.players.generator): number => model.trainableWeights[0]!.read().dataSync()[0]!;
  return [read(run.players.generator), read(run.players.discriminator)];
}

const label = (unit: Pick<Gaussian1dUnit, 'penalty' | 'strategy'>): string =>
  `${unit.penalty === 'gradient' ? 'WGAN-GP (two-sided)' : 'one-sided'}, ${unit.strategy}`;

const shared = { lambda: 1, initialShift: -0.5, initialWeight: 0, discriminatorSteps: 5, batchSize: 512, seed: 1 };

export const gaussian1dExperiment: Experiment<Gaussian1dParameters, Gaussian1dUnit, Gaussian1dResult> = {
  name: 'gaussian-1d',
  // Scalar models: per-op overhead dominates and the backends are level (measured: 24 vs 28 ms an
  // alternating step, 38 vs 39 ms a best-response step, wasm vs cpu).
  backend: 'wasm',
  description:
    'The 1-D case study G(z) = z + θG, f(x) = θD·x on N(0, 1): θG and θD under the two-sided (WGAN-GP) and one-sided gradient penalties, alternating vs best-response training; WGAN-GP stalls at the spurious equilibrium θG = λ.',
  parameters: {
    quick: { ...shared, generatorLearningRate: 0.03, discriminatorLearningRate: 0.2, steps: 120, recordEvery: 2 },
    full: { ...shared, generatorLearningRate: 0.004, discriminatorLearningRate: 0.2, steps: 2000, recordEvery: 10 },
  },

  units() {
    const penalties: CaseStudyPenalty[] = ['gradient', 'one-sided'];
    const strategies: CaseStudyStrategy[] = ['best-response', 'alternating'];
    return penalties.flatMap((penalty) => strategies.map((strategy) => ({ id: `${penalty}_${strategy}`, penalty, strategy })));
  },

  async run(unit, p) {
    return withRun(configFor(unit, p), `the gaussian-1d experiment's ${unit.id} config`, (run) => {
      const steps: number[] = [];
      const generatorShift: number[] = [];
      const criticWeight: number[] = [];
      const record = (): void => {
        const [g, d] = parametersOf(run);
        steps.push(run.step);
        generatorShift.push(g);
        criticWeight.push(d);
      };
      record();
      const tail: number[] = [];
      while (run.step < p.steps) {
        takeStep(run);
        if (run.step % p.recordEvery === 0 || run.step === p.steps) record();
        if (run.step > p.steps - p.steps / 10) tail.push(parametersOf(run)[0]);
      }
      const [g, d] = parametersOf(run);
      return {
        steps,
        generatorShift,
        criticWeight,
        final: { generatorShift: g, criticWeight: d },
        lastTenth: { meanShift: tail.reduce((a, b) => a + b, 0) / tail.length, maxAbsShift: Math.max(...tail.map(Math.abs)) },
      };
    });
  },

  async summarise(completed, p) {
    const find = (penalty: CaseStudyPenalty, strategy: CaseStudyStrategy) =>
      completed.find((c) => c.unit.penalty === penalty && c.unit.strategy === strategy)?.result;
    const spurious = spuriousEquilibrium(p.lambda);
    const twoSidedBest = find('gradient', 'best-response');
    const oneSided = (['best-response', 'alternating'] as const).map((s) => find('one-sided', s)).filter((r) => r !== undefined);
    const numbers = {
      lambda: p.lambda,
      spuriousEquilibrium: spurious,
      /** Done-when: every one-sided run ends with |θG| ≤ 0.1. */
      oneSidedFinalShifts: oneSided.map((r) => r.final.generatorShift),
      oneSidedConverged: oneSided.length > 0 && oneSided.every((r) => Math.abs(r.final.generatorShift) <= 0.1),
      /** Done-when: WGAN-GP under best-response training ends within 10 % of θG = λ. */
      twoSidedBestResponseRelativeError: twoSidedBest
        ? Math.abs(twoSidedBest.final.generatorShift - spurious.generatorShift) / spurious.generatorShift
        : null,
      twoSidedBestResponseAtSpurious: twoSidedBest
        ? Math.abs(twoSidedBest.final.generatorShift - spurious.generatorShift) <= 0.1 * spurious.generatorShift
        : false,
      // The one-sided runs' orbit around 0 has radius about √(ηG/(k·ηD)) (see the top of gaussian-1d.ts).
      predictedOrbitRadius: Math.sqrt(p.generatorLearningRate / (p.discriminatorSteps * p.discriminatorLearningRate)),
    };
    const table = markdownTable(
      ['penalty, strategy', 'final θG', 'final θD', 'mean θG, last 10 %', 'max |θG|, last 10 %'],
      completed.map(({ unit, result: r }) => [
        label(unit),
        formatNumber(r.final.generatorShift, 3),
        formatNumber(r.final.criticWeight, 3),
        formatNumber(r.lastTenth.meanShift, 3),
        formatNumber(r.lastTenth.maxAbsShift, 3),
      ]),
    );
    const settings = `λ = ${p.lambda}, θG₀ = ${p.initialShift}, θD₀ = ${p.initialWeight}; SGD ηG = ${p.generatorLearningRate}, ηD = ${p.discriminatorLearningRate}; ${p.discriminatorSteps} D steps per G step; batch ${p.batchSize}`;
    const colours: Record<string, string> = {
      'gradient_best-response': PALETTE[3]!,
      gradient_alternating: PALETTE[1]!,
      'one-sided_best-response': PALETTE[0]!,
      'one-sided_alternating': PALETTE[2]!,
    };
    const lastStep = p.steps;
    const shiftPlot = linePlot({
      title: 'Generator shift θG during training (data mean 0)',
      x: { label: 'generator step' },
      y: { label: 'θG' },
      series: [
        ...completed.map(({ unit, result }) => ({
          label: label(unit),
          x: result.steps,
          y: result.generatorShift,
          colour: colours[unit.id],
        })),
        {
          label: `spurious equilibrium θG = λ = ${p.lambda}`,
          x: [0, lastStep],
          y: [spurious.generatorShift, spurious.generatorShift],
          colour: '#000000',
          dashed: true,
        },
        { label: 'data mean θG = 0', x: [0, lastStep], y: [0, 0], colour: '#7f7f7f', dashed: true },
      ],
      notes: [settings],
      width: 960,
      height: 520,
    });

    // Phase portrait: trajectories over the best-response manifolds.
    const allShifts = completed.flatMap((c) => c.result.generatorShift);
    const lo = Math.min(-1, ...allShifts) - 0.2;
    const hi = Math.max(2 * p.lambda, ...allShifts) + 0.2;
    const grid = Array.from({ length: 201 }, (_, i) => lo + ((hi - lo) * i) / 200);
    const branch = (k: number) => grid.map((g) => bestResponseBranches('gradient', p.lambda, g)[k]!);
    const oneSidedBranch = grid.map((g) => (Math.abs(g) < p.lambda && g !== 0 ? -Math.sign(g) : NaN));
    const phasePlot = linePlot({
      title: 'Phase portrait (θG, θD) with D’s best-response manifolds',
      x: { label: 'θG' },
      y: { label: 'θD' },
      series: [
        { label: 'WGAN-GP manifold θD = 1 − θG/(2λ)', x: grid, y: branch(0), colour: '#000000', dashed: true },
        { label: 'WGAN-GP manifold θD = −1 − θG/(2λ)', x: grid, y: branch(1), colour: '#7f7f7f', dashed: true },
        { label: 'one-sided best response θD = −sign θG', x: grid, y: oneSidedBranch, colour: '#bcbd22', dashed: true },
        ...completed.map(({ unit, result }) => ({
          label: label(unit),
          x: result.generatorShift,
          y: result.criticWeight,
          colour: colours[unit.id],
        })),
        {
          label: `spurious equilibrium (λ, ½)`,
          x: [spurious.generatorShift],
          y: [spurious.criticWeight],
          colour: '#000000',
          style: 'dot' as const,
        },
        {
          label: `start (${p.initialShift}, ${p.initialWeight})`,
          x: [p.initialShift],
          y: [p.initialWeight],
          colour: PALETTE[4],
          style: 'dot' as const,
        },
      ],
      notes: [settings],
      width: 960,
      height: 620,
    });
    return {
      numbers,
      table,
      plots: [
        { name: 'theta-g', svg: shiftPlot.svg },
        { name: 'phase-portrait', svg: phasePlot.svg },
      ],
    };
  },
};
