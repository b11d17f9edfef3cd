// Simultaneous updates, as PacGAN's published code trains (ALI's algorithm): one batch, both players'
// gradients taken at the current weights, then both applied. In the alternating schedule G's gradient
// is taken against the D that was just updated; here neither player sees the other's move of this
// step. One batch serves both players: G's loss reads D on the very fakes D was trained on.
import * as tf from '@tensorflow/tfjs-core';
import { constrainDiscriminator } from '../penalties/index.js';
import {
  discriminatorTerms,
  drawBatch,
  fakeInput,
  generatorLossOf,
  globalNorm,
  judgeOf,
  objectiveOf,
  type StepContext,
  type StepLosses,
} from './game.js';
import { trainableVariables } from './model-weights.js';

export function takeSimultaneousStep(context: StepContext): StepLosses {
  const { config, players } = context;
  let result = null as StepLosses | null;
  tf.tidy(() => {
    const batch = drawBatch(context);
    const judge = judgeOf(config, players);
    const objective = objectiveOf(config);
    const dVars = trainableVariables(players.discriminator);
    const gVars = trainableVariables(players.generator);
    // G's gradient against the current D, from G's one forward pass; its samples are kept for D's gradient.
    let fakeForD: tf.Tensor | null = null;
    const g = tf.variableGrads(() => {
      const fakes = fakeInput(context, batch);
      fakeForD = tf.keep(fakes);
      return generatorLossOf(config, judge, fakes, batch.fakeLabels);
    }, gVars);
    let realScore: tf.Scalar | null = null;
    let fakeScore: tf.Scalar | null = null;
    let penalty: tf.Scalar | null = null;
    let classification: tf.Scalar | null = null;
    const d = tf.variableGrads(() => {
      // G's samples are a constant here: their tape ended with G's gradient above.
      const terms = discriminatorTerms(config, judge, batch, fakeForD!);
      realScore = tf.keep(objective.meanScore(terms.realOutputs));
      fakeScore = tf.keep(objective.meanScore(terms.fakeOutputs));
      penalty = tf.keep(terms.penalty ?? tf.scalar(0));
      if (terms.classification !== null) classification = tf.keep(terms.classification);
      return terms.loss;
    }, dVars);
    const [dNorm, gNorm] = [globalNorm(d.grads), globalNorm(g.grads)].map((t) => t.dataSync()[0]!);
    players.discriminatorOptimizer.applyGradients(d.grads);
    constrainDiscriminator(config.penalty, dVars);
    players.generatorOptimizer.applyGradients(g.grads);
    const classificationValue = classification === null ? null : (classification as tf.Scalar).dataSync()[0]!;
    const [dLoss, gLoss, real, fake, pen] = [d.value, g.value, realScore!, fakeScore!, penalty!].map(
      (t: tf.Tensor) => t.dataSync()[0]!,
    );
    // Kept past variableGrads' own cleanup; tidy leaves kept tensors alone, so they are disposed here.
    [realScore, fakeScore, penalty, classification, fakeForD].forEach((t: tf.Tensor | null) => t?.dispose());
    const losses: StepLosses = {
      discriminator: dLoss!,
      generator: gLoss!,
      realScore: real!,
      fakeScore: fake!,
      penalty: pen!,
      discriminatorGradientNorm: dNorm!,
      generatorGradientNorm: gNorm!,
    };
    result = classificationValue === null ? losses : { ...losses, classification: classificationValue };
  });
  return result!;
}
