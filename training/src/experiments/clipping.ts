// WGAN-GP paper (Gulrajani et al. 2017), Fig. 1b: the gradient norms of a deep WGAN critic, layer by
// layer, after training on the Swiss roll. With weight clipping at c every weight is at most c in
// size, so the backward pass multiplies by roughly (c·width) per layer: the norms shrink
// geometrically towards the input for small c (vanishing) and grow for large c (exploding); with the
// gradient penalty they stay within a narrow band. Each unit trains a WGAN with the project's
// alternating strategy (n_critic 5; clipping with RMSProp 5e-5, the penalty with Adam 1e-4
// β (0.5, 0.9), as in the papers) and measures ‖∂L_D/∂W_l‖ for every dense kernel W_l of the critic,
// averaged over a few batches, at regular points in training.
import * as tf from '@tensorflow/tfjs-core';
import { linePlot } from '../plots/line-plot.js';
import { PALETTE } from '../plots/chart.js';
import type { TrainConfigInput } from '../run/config.js';
import { discriminatorTerms, drawBatch, fakeInput, judgeOf } from '../strategies/game.js';
import { trainableVariables } from '../strategies/model-weights.js';
import type { Experiment, ExperimentUnit } from './experiment.js';
import { contextOf, takeStep, withRun, type InProcessRun } from './in-process.js';
import { formatNumber, markdownTable } from './table.js';

export interface ClippingParameters {
  clips: number[];
  /** λ of the gradient penalty unit (WGAN-GP's toy code uses 0.1). */
  penaltyLambda: number;
  /** Hidden layers of the critic (and their width): "deep" is what makes clipping's effect visible. */
  criticDepth: number;
  width: number;
  generatorSteps: number;
  measureEvery: number;
  batches: number;
  batchSize: number;
  seed: number;
}

export interface ClippingUnit extends ExperimentUnit {
  /** A clip value, or null for the gradient penalty. */
  clip: number | null;
}

export interface ClippingResult {
  /** Generator steps at each measurement. */
  steps: number[];
  /** layerNorms[k][l]: mean over batches of ‖∂L_D/∂W_l‖ at measurement k, layer l = 1 (input side) … L. */
  layerNorms: number[][];
}

function configFor(unit: ClippingUnit, p: ClippingParameters): TrainConfigInput {
  const critic =
    unit.clip === null
      ? { type: 'gradient' as const, lambda: p.penaltyLambda }
      : { type: 'weight-clipping' as const, clip: unit.clip };
  const optimizer =
    unit.clip === null
      ? { type: 'adam' as const, learningRate: 1e-4, beta1: 0.5, beta2: 0.9 }
      : { type: 'rmsprop' as const, learningRate: 5e-5 };
  return {
    name: `clipping-${unit.id}`,
    seed: p.seed,
    data: { dataset: 'swiss-roll', points: 100_000 },
    model: {
      architecture: 'mlp',
      latentSize: 2,
      mlp: {
        generatorWidths: [p.width, p.width, p.width],
        discriminatorWidths: Array.from({ length: p.criticDepth }, () => p.width),
        maxoutPieces: 1,
        generatorNorm: 'none',
        activation: 'relu',
      },
    },
    objective: 'wasserstein',
    penalty: critic,
    optimizer: { generator: optimizer, discriminator: optimizer },
    training: { steps: p.generatorSteps, batchSize: p.batchSize, discriminatorSteps: 5 },
  };
}

/** Mean over `batches` fresh batches of ‖∂L_D/∂W_l‖ for each dense kernel, input side first. */
function layerGradientNorms(run: InProcessRun, batches: number): number[] {
  const context = contextOf(run);
  const variables = trainableVariables(run.players.discriminator);
  const kernels = variables.filter((v) => /kernel/.test(v.name));
  const sums = new Array<number>(kernels.length).fill(0);
  for (let b = 0; b < batches; b++) {
    tf.tidy(() => {
      const batch = drawBatch(context);
      const fakes = fakeInput(context, batch);
      const { grads } = tf.variableGrads(
        () => discriminatorTerms(run.config, judgeOf(run.config, run.players), batch, fakes).loss,
        kernels,
      );
      const norms = tf.stack(kernels.map((k) => tf.sqrt(tf.sum(tf.square(grads[k.name]!))))).dataSync();
      kernels.forEach((_, l) => {
        sums[l]! += norms[l]! / batches;
      });
    });
  }
  return sums;
}

const methodLabel = (clip: number | null, lambda: number): string =>
  clip === null ? `gradient penalty (λ = ${lambda})` : `weight clipping c = ${clip}`;

const shared = { clips: [0.1, 0.01, 0.001], penaltyLambda: 0.1, batchSize: 128, seed: 1 };

export const clippingExperiment: Experiment<ClippingParameters, ClippingUnit, ClippingResult> = {
  name: 'clipping',
  description:
    "WGAN-GP's Fig. 1b: per-layer gradient norms of a deep WGAN critic on the Swiss roll with weight clipping c ∈ {0.1, 0.01, 0.001} (explode or vanish) beside the gradient penalty (stable).",
  backend: 'wasm',
  parameters: {
    quick: { ...shared, criticDepth: 4, width: 32, generatorSteps: 6, measureEvery: 3, batches: 2 },
    full: { ...shared, criticDepth: 8, width: 128, generatorSteps: 200, measureEvery: 50, batches: 5 },
  },

  units(p) {
    return [...p.clips.map((clip) => ({ id: `clip_${clip}`, clip })), { id: 'gradient_penalty', clip: null }];
  },

  async run(unit, p) {
    return withRun(configFor(unit, p), `the clipping experiment's ${unit.id} config`, (run) => {
      const steps: number[] = [];
      const layerNorms: number[][] = [];
      while (run.step < p.generatorSteps) {
        takeStep(run);
        if (run.step % p.measureEvery === 0 || run.step === p.generatorSteps) {
          steps.push(run.step);
          layerNorms.push(layerGradientNorms(run, p.batches));
        }
      }
      return { steps, layerNorms };
    });
  },

  async summarise(completed, p) {
    const final = (r: ClippingResult): number[] => r.layerNorms[r.layerNorms.length - 1]!;
    // How many times larger the norm is at the output layer than at the input layer (orders of magnitude, log10).
    const spread = (norms: number[]): number => Math.log10(norms[norms.length - 1]! / norms[0]!);
    const numbers = {
      units: completed.map(({ unit, result }) => ({
        method: methodLabel(unit.clip, p.penaltyLambda),
        clip: unit.clip,
        finalLayerNorms: final(result),
        log10OutputOverInput: spread(final(result)),
      })),
    };
    const layers = final(completed[0]!.result).length;
    const table = markdownTable(
      ['method', ...Array.from({ length: layers }, (_, l) => `layer ${l + 1}`), 'log10(last/first)'],
      completed.map(({ unit, result }) => [
        methodLabel(unit.clip, p.penaltyLambda),
        ...final(result).map((v) => v.toExponential(2)),
        formatNumber(spread(final(result)), 2),
      ]),
    );
    const layerIndex = Array.from({ length: layers }, (_, l) => l + 1);
    const zeros = completed.flatMap(({ unit, result }) =>
      final(result).flatMap((v, l) => (v === 0 ? [`${methodLabel(unit.clip, p.penaltyLambda)}, layer ${l + 1}`] : [])),
    );
    const plot = linePlot({
      title: `Critic gradient norm per layer after ${p.generatorSteps} generator steps`,
      x: { label: 'critic layer (1 = input side)' },
      y: { label: 'log10 ‖∂L_D/∂W_l‖' },
      series: completed.map(({ unit, result }, k) => ({
        label: methodLabel(unit.clip, p.penaltyLambda),
        x: layerIndex,
        y: final(result).map((v) => Math.log10(v)),
        colour: PALETTE[k % PALETTE.length],
        style: 'line+dot' as const,
      })),
      notes: [
        `Swiss roll; critic ${p.criticDepth} hidden ReLU layers of ${p.width} + output; n_critic 5; batch ${p.batchSize}; mean of ${p.batches} batches`,
        ...(zeros.length > 0 ? [`Exactly 0 in float32 (not drawn on a log scale): ${zeros.join('; ')}`] : []),
      ],
      width: 860,
    });
    return { numbers, table, plots: [{ name: 'layer-gradient-norms', svg: plot.svg }] };
  },
};
