// Arjovsky & Bottou (2017), "Towards principled methods for training GANs", figures 2 and 3: freeze a
// generator early in training, train a discriminator from scratch towards optimality, and every few
// D steps measure the norm of G's gradient, ‖∇θG L_G‖, averaged over several batches, with its
// spread. For the minimax loss E[log(1 − D(G(z)))] the gradient is σ(l)·∇l for D's logit l on the
// fakes, so it vanishes as D learns to reject them; for the non-saturating −log D it stays large,
// and its variance across batches grows. The argument needs supports a perfect D can separate: images
// (low-dimensional manifolds in pixel space), so here a small DCGAN on a few thousand MNIST digits,
// as in the paper (on 2-D toy mixtures G's continuous samples overlap the modes' Gaussians and the
// optimal D is not perfect, so the minimax gradient does not vanish). G is trained by the project's
// alternating non-saturating GAN for `generatorSteps`, then frozen, and a fresh D is trained alone.
import * as tf from '@tensorflow/tfjs-core';
import { objectives } from '../objectives/index.js';
import { linePlot } from '../plots/line-plot.js';
import { PALETTE } from '../plots/chart.js';
import { buildDiscriminator, buildOptimizer } from '../run/players.js';
import { sampleShape } from '../data/datasets.js';
import type { TrainConfigInput } from '../run/config.js';
import { criticOf, discriminatorUpdate, drawGeneratorBatch, fakeInput } from '../strategies/game.js';
import { trainableVariables } from '../strategies/model-weights.js';
import type { Experiment, ExperimentUnit } from './experiment.js';
import { contextOf, takeStep, withRun, type InProcessRun } from './in-process.js';
import { formatNumber, markdownTable } from './table.js';

export type GeneratorLoss = 'minimax' | 'non-saturating';
const LOSSES: readonly GeneratorLoss[] = ['minimax', 'non-saturating'];

export interface VanishingGradientsParameters {
  /** Ages of the frozen generator: alternating GAN steps before it is frozen, one unit each. */
  generatorSteps: number[];
  discriminatorSteps: number;
  measureEvery: number;
  /** Batches per measurement (the paper averages over 10). */
  batches: number;
  batchSize: number;
  /** MNIST training images used. */
  images: number;
  /** DCGAN widths (see architectures/dcgan.ts). */
  generatorWidth: number;
  discriminatorWidth: number;
  /** Adam step size of the fresh D (large, so it approaches optimality quickly). */
  discriminatorLearningRate: number;
  seed: number;
}

export interface VanishingGradientsUnit extends ExperimentUnit {
  generatorSteps: number;
}

export interface GradientSeries {
  /** Mean over the batches of ‖∇θG L_G‖ at each measurement. */
  mean: number[];
  /** Sample variance of the norm over the batches. */
  variance: number[];
}

export interface VanishingGradientsResult {
  discriminatorSteps: number[];
  /** Mean D(G(z)) (a probability) at each measurement. */
  fakeProbability: number[];
  losses: Record<GeneratorLoss, GradientSeries>;
  /** Largest mean norm over the last one, per loss. */
  fallFactor: Record<GeneratorLoss, number>;
}

function configFor(p: VanishingGradientsParameters, generatorSteps: number): TrainConfigInput {
  return {
    name: `vanishing-gradients-g${generatorSteps}`,
    seed: p.seed,
    data: { dataset: 'mnist', limit: p.images },
    model: { architecture: 'dcgan', latentSize: 100, generatorWidth: p.generatorWidth, discriminatorWidth: p.discriminatorWidth },
    objective: 'non-saturating',
    optimizer: {
      generator: { learningRate: 2e-4, beta1: 0.5 },
      discriminator: { learningRate: p.discriminatorLearningRate, beta1: 0.5 },
    },
    training: { steps: Math.max(1, generatorSteps), batchSize: p.batchSize },
  };
}

/** ‖∇θG L_G‖ on `batches` fresh batches for each loss, against the current D. */
function measure(run: InProcessRun, batches: number): { norms: Record<GeneratorLoss, number[]>; fakeProbability: number } {
  const context = contextOf(run);
  const norms: Record<GeneratorLoss, number[]> = { minimax: [], 'non-saturating': [] };
  let probability = 0;
  const gVars = trainableVariables(run.players.generator);
  for (let b = 0; b < batches; b++) {
    tf.tidy(() => {
      const draw = drawGeneratorBatch(context);
      const critic = criticOf(run.players);
      // D(G(z)) is read off the first loss's forward pass rather than a pass of its own.
      let meanFakeProbability: tf.Tensor | undefined;
      for (const loss of LOSSES) {
        const { grads } = tf.variableGrads(() => {
          const logits = critic(fakeInput(context, draw));
          meanFakeProbability ??= tf.keep(tf.mean(tf.sigmoid(logits)));
          return objectives[loss].generatorLoss(logits);
        }, gVars);
        const squared = tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
        norms[loss].push(Math.sqrt(squared.dataSync()[0]!));
      }
      probability += meanFakeProbability!.dataSync()[0]! / batches;
      meanFakeProbability!.dispose();
    });
  }
  return { norms, fakeProbability: probability };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

const shared = { seed: 1, discriminatorLearningRate: 1e-3 };

export const vanishingGradientsExperiment: Experiment<
  VanishingGradientsParameters,
  VanishingGradientsUnit,
  VanishingGradientsResult
> = {
  name: 'vanishing-gradients',
  description:
    "Arjovsky & Bottou's figures: G's gradient norm (and its variance over batches) for the minimax and −log D losses as a fresh D is trained towards optimality against a frozen G (small DCGAN, MNIST).",
  // tfjs' JavaScript cpu backend is ~300× slower than wasm on convolutions (docs/REFERENCES.md#the-reference-dcgan-for-mnist).
  backend: 'wasm',
  parameters: {
    quick: {
      ...shared,
      generatorSteps: [2],
      discriminatorSteps: 12,
      measureEvery: 4,
      batches: 2,
      batchSize: 16,
      images: 256,
      generatorWidth: 8,
      discriminatorWidth: 8,
    },
    full: {
      ...shared,
      generatorSteps: [25],
      discriminatorSteps: 1000,
      measureEvery: 50,
      batches: 5,
      batchSize: 64,
      images: 3000,
      generatorWidth: 32,
      discriminatorWidth: 16,
    },
  },

  units(p) {
    return p.generatorSteps.map((generatorSteps) => ({ id: `generator_after_${generatorSteps}_steps`, generatorSteps }));
  },

  async run(unit, p, context) {
    return withRun(configFor(p, unit.generatorSteps), `the vanishing-gradients config`, (run) => {
      for (let s = 0; s < unit.generatorSteps; s++) takeStep(run);
      // Freeze G; start D afresh (new weights, new optimizer state) and train only D.
      run.players.discriminator.dispose();
      run.players.discriminatorOptimizer.dispose();
      run.players.discriminator = buildDiscriminator({ ...run.config, seed: run.config.seed + 7 }, sampleShape(run.data));
      run.players.discriminatorOptimizer = buildOptimizer(run.config.optimizer.discriminator);
      const steps: number[] = [];
      const fakeProbability: number[] = [];
      const losses: Record<GeneratorLoss, GradientSeries> = {
        minimax: { mean: [], variance: [] },
        'non-saturating': { mean: [], variance: [] },
      };
      for (let d = 0; d <= p.discriminatorSteps; d++) {
        if (d > 0) discriminatorUpdate(contextOf(run), false);
        if (d % p.measureEvery !== 0) continue;
        const m = measure(run, p.batches);
        steps.push(d);
        fakeProbability.push(m.fakeProbability);
        for (const loss of LOSSES) {
          losses[loss].mean.push(mean(m.norms[loss]));
          losses[loss].variance.push(variance(m.norms[loss]));
        }
        if (d % (p.measureEvery * 4) === 0)
          context.log(
            `${unit.id}: D step ${d}, D(G(z)) ${formatNumber(m.fakeProbability, 4)}, ‖∇θG‖ minimax ${formatNumber(mean(m.norms.minimax), 3)}, −log D ${formatNumber(mean(m.norms['non-saturating']), 3)}`,
          );
      }
      // From the largest norm on: a fresh D is nearly flat, so G's first gradient is small for both losses.
      const fall = (loss: GeneratorLoss): number =>
        Math.max(...losses[loss].mean) / losses[loss].mean[losses[loss].mean.length - 1]!;
      return {
        discriminatorSteps: steps,
        fakeProbability,
        losses,
        fallFactor: { minimax: fall('minimax'), 'non-saturating': fall('non-saturating') },
      };
    });
  },

  async summarise(completed, p) {
    const numbers = {
      units: completed.map(({ unit, result }) => ({
        generatorSteps: unit.generatorSteps,
        fallFactor: result.fallFactor,
        finalFakeProbability: result.fakeProbability[result.fakeProbability.length - 1],
      })),
      /** Done-when: the minimax gradient norm falls by ≥ 100× as D trains (every unit). */
      minimaxFallsHundredfold: completed.every((c) => c.result.fallFactor.minimax >= 100),
    };
    const table = markdownTable(
      [
        'G frozen after',
        'D(G(z)) start → end',
        '‖∇‖ minimax start → end',
        'fall (peak/end)',
        '‖∇‖ −log D start → end',
        'variance −log D start → end',
      ],
      completed.map(({ unit, result: r }) => {
        const last = r.discriminatorSteps.length - 1;
        const ends = (xs: number[], d = 3) => `${formatNumber(xs[0]!, d)} → ${formatNumber(xs[last]!, d)}`;
        return [
          `${unit.generatorSteps} steps`,
          ends(r.fakeProbability, 4),
          ends(r.losses.minimax.mean),
          `${formatNumber(r.fallFactor.minimax, 1)}×`,
          ends(r.losses['non-saturating'].mean),
          ends(r.losses['non-saturating'].variance),
        ];
      }),
    );
    const log10 = (xs: number[]): number[] => xs.map((x) => (x > 0 ? Math.log10(x) : NaN));
    const setting = `DCGAN (widths G ${p.generatorWidth}, D ${p.discriminatorWidth}) on ${p.images} MNIST images; fresh D: Adam ${p.discriminatorLearningRate}, batch ${p.batchSize}; each point: ${p.batches} batches`;
    const series = (pick: (r: VanishingGradientsResult, loss: GeneratorLoss) => number[]) =>
      completed.flatMap(({ unit, result }, k) =>
        LOSSES.map((loss) => ({
          label: `${loss === 'minimax' ? 'minimax log(1 − D)' : '−log D'}, G after ${unit.generatorSteps} steps`,
          x: result.discriminatorSteps,
          y: log10(pick(result, loss)),
          colour: PALETTE[(2 * k + (loss === 'minimax' ? 0 : 1)) % PALETTE.length],
          dashed: loss !== 'minimax',
        })),
      );
    const normPlot = linePlot({
      title: 'Generator gradient norm as D trains towards optimality',
      x: { label: 'discriminator steps (G frozen)' },
      y: { label: 'log10 ‖∇θG L_G‖ (mean over batches)' },
      series: series((r, loss) => r.losses[loss].mean),
      notes: [setting],
      width: 900,
    });
    const variancePlot = linePlot({
      title: 'Variance of the generator gradient norm across batches',
      x: { label: 'discriminator steps (G frozen)' },
      y: { label: 'log10 variance of ‖∇θG L_G‖' },
      series: series((r, loss) => r.losses[loss].variance),
      notes: [setting],
      width: 900,
    });
    return {
      numbers,
      table,
      plots: [
        { name: 'gradient-norm', svg: normPlot.svg },
        { name: 'gradient-variance', svg: variancePlot.svg },
      ],
    };
  },
};
