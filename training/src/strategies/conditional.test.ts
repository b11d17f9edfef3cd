// Class-conditional training through the strategies, on small in-memory images whose pixels show
// their class: batches carry the right labels, the losses compose as architectures/conditional.ts
// states, the class term reaches the class head only through λ, every strategy trains both D kinds,
// and a few dozen steps teach G to follow the label. (Unrolled G gradients are not checked against
// finite differences here: through D's LeakyReLUs the unrolled loss jumps wherever a perturbed fake
// flips a unit, so only the smooth MLP of unrolled.test.ts admits that check; the class term's second
// derivative is checked in objectives/auxiliary-classifier.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../run/config.js';
import { buildPlayers, disposePlayers, type Players } from '../run/players.js';
import { labelTensor } from './batches.js';
import { discriminatorTerms, drawBatch, fakeInput, generatorLossOf, judgeOf, type StepContext } from './game.js';
import { createStrategy } from './index.js';
import { trainableVariables } from './model-weights.js';

const SIDE = 8;

/** Images whose pixels sit near levels[label] (plus N(0, noise²)), so each image shows its class. */
function labelledImages(labels: readonly number[], levels: readonly number[], noise = 0.05): ImageDataset {
  const rng = Rng.fromSeed(17);
  const perImage = SIDE * SIDE;
  const images = new Float32Array(labels.length * perImage);
  labels.forEach((label, i) => {
    for (let p = 0; p < perImage; p++)
      images[i * perImage + p] = Math.max(-1, Math.min(1, levels[label]! + noise * rng.nextNormal()));
  });
  return {
    name: 'levels',
    count: labels.length,
    shape: [SIDE, SIDE, 1],
    images,
    labels: Uint8Array.from(labels),
    classNames: levels.map((l) => `level ${l}`),
  };
}

/** 60 % class 0, 30 % class 1, 10 % class 2. */
const skewedLabels = Array.from({ length: 100 }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2));
const LEVELS = [-0.8, 0, 0.8];

type ConditionalInput = NonNullable<NonNullable<TrainConfigInput['model']>['conditional']>;

function configFor(conditional: ConditionalInput | undefined, extra: TrainConfigInput = {}): TrainConfig {
  return parseTrainConfig({
    seed: 4,
    ...extra,
    model: { latentSize: 4, generatorWidth: 8, discriminatorWidth: 8, ...(conditional === undefined ? {} : { conditional }) },
    training: { batchSize: 4, ...extra.training },
  });
}

function contextFor(config: TrainConfig, data: ImageDataset, seed = 3): StepContext {
  const classes = config.model.conditional === undefined ? null : data.classNames!.length;
  return { config, players: buildPlayers(config, data.shape, classes), data, rng: Rng.fromSeed(seed), step: 0 };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const softplus = (x: number): number => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
/** Mean softmax cross-entropy, in float64. */
const crossEntropy = (logits: number[][], labels: readonly number[]): number =>
  mean(logits.map((row, i) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]!]!));
const column = (t: tf.Tensor): number[] => Array.from(t.dataSync());

test('a conditional batch: real labels are the drawn images’ own, fake labels follow the class frequencies, the other draws are the unconditional ones', async () => {
  await selectBackend('cpu');
  const data = labelledImages(skewedLabels, LEVELS);
  const n = 300;
  const conditional = contextFor(configFor({ discriminator: 'projection' }, { training: { batchSize: n } }), data);
  const plain = contextFor(configFor(undefined, { training: { batchSize: n } }), data);
  tf.tidy(() => {
    const batch = drawBatch(conditional);
    const realLabels = column(batch.realLabels!);
    const pixelMeans = column(tf.mean(batch.realInput, [1, 2, 3]));
    pixelMeans.forEach((m, i) =>
      assert.ok(Math.abs(m - LEVELS[realLabels[i]!]!) < 0.05, `real sample ${i}: pixels near ${m}, label ${realLabels[i]}`),
    );
    const fakeLabels = column(batch.fakeLabels!);
    assert.deepEqual(batch.fakeLabels!.shape, [n, 1]);
    assert.equal(batch.fakeLabels!.dtype, 'int32');
    // Three standard errors of a share p over 300 draws are at most 0.085.
    [0.6, 0.3, 0.1].forEach((p, c) => {
      const share = fakeLabels.filter((l) => l === c).length / n;
      assert.ok(Math.abs(share - p) < 0.085, `fake class ${c}: share ${share}, data ${p}`);
    });
    // Labels cost the real draws nothing and come after the latents: both match the unconditional stream.
    const unconditional = drawBatch(plain);
    assert.equal(unconditional.realLabels, null);
    assert.equal(unconditional.fakeLabels, null);
    assert.deepEqual(column(batch.realInput), column(unconditional.realInput));
    assert.deepEqual(column(batch.latents), column(unconditional.latents));
  });
  disposePlayers(conditional.players);
  disposePlayers(plain.players);
});

/** The contract's losses, recomputed from D's and G's plain predictions in float64. */
function expectedLosses(
  players: Players,
  kind: 'projection' | 'auxiliary-classifier',
  lambda: number,
  real: tf.Tensor,
  realLabels: tf.Tensor,
  fakes: tf.Tensor,
  fakeLabels: tf.Tensor,
) {
  const y = column(realLabels);
  const yFake = column(fakeLabels);
  if (kind === 'projection') {
    const sReal = column(players.discriminator.predict([real, realLabels]) as tf.Tensor);
    const sFake = column(players.discriminator.predict([fakes, fakeLabels]) as tf.Tensor);
    return { d: mean(sReal.map((s) => softplus(-s))) + mean(sFake.map(softplus)), g: mean(sFake.map((s) => softplus(-s))) };
  }
  const [sReal, cReal] = players.discriminator.predict(real) as tf.Tensor[];
  const [sFake, cFake] = players.discriminator.predict(fakes) as tf.Tensor[];
  const realLogits = cReal!.arraySync() as number[][];
  const fakeLogits = cFake!.arraySync() as number[][];
  return {
    d:
      mean(column(sReal!).map((s) => softplus(-s))) +
      mean(column(sFake!).map(softplus)) +
      lambda * (crossEntropy(realLogits, y) + crossEntropy(fakeLogits, yFake)),
    g: mean(column(sFake!).map((s) => softplus(-s))) + lambda * crossEntropy(fakeLogits, yFake),
  };
}

/** Scales D's kernels ×10 so that scores and input gradients stand well above float32 rounding. */
function sharpen(players: Players): void {
  const scaled = players.discriminator.getWeights().map((w) => (w.rank >= 2 ? tf.mul(w, 10) : tf.clone(w)));
  players.discriminator.setWeights(scaled);
  tf.dispose(scaled);
}

test('the losses compose as the contract states: the objective on D(x, y) for projection, plus λ·class cross-entropy for an auxiliary classifier; R1 acts on the image at fixed labels', async () => {
  await selectBackend('cpu');
  const data = labelledImages(skewedLabels, LEVELS);
  const gamma = 4;
  for (const conditional of [
    { discriminator: 'projection' as const },
    { discriminator: 'auxiliary-classifier' as const, auxiliaryWeight: 2.5 },
  ]) {
    const kind = conditional.discriminator;
    const context = contextFor(configFor(conditional, { penalty: { type: 'r1', gamma } }), data);
    const { config, players } = context;
    sharpen(players);
    tf.tidy(() => {
      const batch = drawBatch(context);
      const fakes = fakeInput(context, batch);
      const judge = judgeOf(config, players);
      const terms = discriminatorTerms(config, judge, batch, fakes);
      const expected = expectedLosses(players, kind, 2.5, batch.realInput, batch.realLabels!, fakes, batch.fakeLabels!);
      const penalty = terms.penalty!.dataSync()[0]!;
      const dLoss = terms.loss.dataSync()[0]! - penalty;
      const gLoss = generatorLossOf(config, judge, fakes, batch.fakeLabels).dataSync()[0]!;
      assert.ok(Math.abs(dLoss - expected.d) < 1e-5 * (1 + Math.abs(expected.d)), `${kind}: D loss ${dLoss} vs ${expected.d}`);
      assert.ok(Math.abs(gLoss - expected.g) < 1e-5 * (1 + Math.abs(expected.g)), `${kind}: G loss ${gLoss} vs ${expected.g}`);
      assert.equal(terms.classification === null, kind === 'projection');

      // R1 by central differences of the adversarial score in each pixel, the labels held at the real ones.
      const score = (x: tf.Tensor): number[] =>
        column(
          kind === 'projection'
            ? (players.discriminator.predict([x, batch.realLabels!]) as tf.Tensor)
            : (players.discriminator.predict(x) as tf.Tensor[])[0]!,
        );
      const h = 1e-2;
      const squaredNorms = new Array<number>(config.training.batchSize).fill(0);
      const pixels = SIDE * SIDE;
      for (let p = 0; p < pixels; p++) {
        const bump = tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([p], 'int32'), pixels), [1, SIDE, SIDE, 1]), h);
        const plus = score(tf.add(batch.realInput, bump));
        const minus = score(tf.sub(batch.realInput, bump));
        plus.forEach((s, i) => (squaredNorms[i]! += ((s - minus[i]!) / (2 * h)) ** 2));
      }
      const r1 = (gamma / 2) * mean(squaredNorms);
      assert.ok(r1 > 1e-3, `${kind}: the input gradient is large enough to check (${r1})`);
      assert.ok(Math.abs(penalty - r1) < 0.02 * r1, `${kind}: R1 ${penalty} vs finite differences ${r1}`);
    });
    disposePlayers(players);
  }
});

/** ‖∂loss/∂w‖ for each trainable weight of `model` whose name contains `part`. */
function gradientNorm(model: Players['generator'], loss: () => tf.Scalar, part: string): number {
  return tf.tidy(() => {
    const variables = trainableVariables(model);
    const { grads } = tf.variableGrads(loss, variables);
    const picked = model.trainableWeights.filter((w) => w.name.includes(part));
    assert.ok(picked.length > 0, `no weight named *${part}*`);
    return Math.sqrt(
      picked.reduce((s, w) => s + tf.sum(tf.square(grads[(w as unknown as { val: tf.Variable }).val.name]!)).dataSync()[0]!, 0),
    );
  });
}

test("an auxiliary-classifier D's class head learns from the class term, and only through λ; the class term reaches G", async () => {
  await selectBackend('cpu');
  const data = labelledImages(skewedLabels, LEVELS);
  const norms = [0, 1].map((lambda) => {
    const context = contextFor(configFor({ discriminator: 'auxiliary-classifier', auxiliaryWeight: lambda }), data);
    const { config, players } = context;
    const result = tf.tidy(() => {
      const batch = drawBatch(context);
      const judge = judgeOf(config, players);
      const fakes = fakeInput(context, batch);
      const classHead = gradientNorm(
        players.discriminator,
        () => discriminatorTerms(config, judge, batch, fakes).loss,
        'class_logits',
      );
      const generator = tf.tidy(() => {
        const variables = trainableVariables(players.generator);
        const { grads } = tf.variableGrads(
          () => generatorLossOf(config, judge, fakeInput(context, batch), batch.fakeLabels),
          variables,
        );
        return variables.flatMap((v) => column(grads[v.name]!));
      });
      return { classHead, generator };
    });
    disposePlayers(players);
    return result;
  });
  assert.equal(norms[0]!.classHead, 0, 'λ = 0: no gradient reaches the class head');
  assert.ok(norms[1]!.classHead > 1e-3, `λ = 1: the class head's gradient is ${norms[1]!.classHead}`);
  const gap = Math.max(...norms[1]!.generator.map((g, i) => Math.abs(g - norms[0]!.generator[i]!)));
  assert.ok(gap > 1e-6, `λ changes G's gradient (by up to ${gap})`);
});

test('alternating, unrolled and best-response steps train both conditional Ds (class weights move) and leak nothing', async () => {
  await selectBackend('wasm');
  const data = labelledImages(skewedLabels, LEVELS);
  const strategies = [
    { type: 'alternating' },
    { type: 'unrolled', steps: 1 },
    { type: 'best-response', solverIterations: 2, retractionSteps: 1 },
  ] as const;
  for (const discriminator of ['projection', 'auxiliary-classifier'] as const) {
    for (const strategy of strategies) {
      const context = contextFor(configFor({ discriminator }, { strategy }), data);
      const instance = createStrategy(context.config);
      const classWeight = context.players.discriminator.getLayer(
        discriminator === 'projection' ? 'class_projection' : 'class_logits',
      );
      const embedding = context.players.generator.getLayer('label_embedding');
      const read = (layer: typeof classWeight): number[] => column(layer.getWeights()[0]!);
      instance.step(context); // creates the optimizer slots
      const before = { tensors: tf.memory().numTensors, classes: read(classWeight), embedding: read(embedding) };
      const losses = instance.step({ ...context, step: 1 });
      const what = `${discriminator}, ${strategy.type}`;
      assert.ok(Object.values(losses).every(Number.isFinite), `${what}: finite losses ${JSON.stringify(losses)}`);
      assert.equal(
        losses.classification === undefined,
        discriminator === 'projection',
        `${what}: the class term is reported for an auxiliary classifier only`,
      );
      assert.equal(tf.memory().numTensors, before.tensors, `${what}: nothing leaked`);
      assert.notDeepEqual(read(classWeight), before.classes, `${what}: D's class weights moved`);
      assert.notDeepEqual(read(embedding), before.embedding, `${what}: G's label embedding moved`);
      instance.dispose();
      disposePlayers(context.players);
    }
  }
});

test('a few dozen alternating steps teach G to follow the label, with either D', async (t) => {
  await selectBackend('wasm');
  // Two classes: dark images and bright ones.
  const data = labelledImages(
    Array.from({ length: 256 }, (_, i) => i % 2),
    [-0.7, 0.7],
    0.2,
  );
  for (const discriminator of ['projection', 'auxiliary-classifier'] as const) {
    const config = parseTrainConfig({
      seed: 4,
      model: { latentSize: 4, generatorWidth: 16, discriminatorWidth: 8, conditional: { discriminator } },
      training: { batchSize: 16 },
      optimizer: { generator: { learningRate: 2e-3 }, discriminator: { learningRate: 2e-3 } },
    });
    const context = contextFor(config, data, 1);
    const strategy = createStrategy(config);
    // Mean brightness of G(z, bright) − G(z, dark) for the same 32 latents.
    const gap = (): number =>
      tf.tidy(() => {
        const z = tf.randomNormal([32, 4], 0, 1, 'float32', 9);
        const brightness = (label: number): number =>
          tf
            .mean(context.players.generator.predict([z, labelTensor(new Array<number>(32).fill(label))]) as tf.Tensor)
            .dataSync()[0]!;
        return brightness(1) - brightness(0);
      });
    const before = gap();
    for (let step = 0; step < 30; step++) strategy.step({ ...context, step });
    const after = gap();
    t.diagnostic(`${discriminator}: brightness gap ${before.toFixed(3)} → ${after.toFixed(3)} (data: 1.4)`);
    assert.ok(Math.abs(before) < 0.05, `${discriminator}: untrained, G ignores the label (${before})`);
    assert.ok(after > 0.5, `${discriminator}: after 30 steps the label decides the brightness (${after})`);
    strategy.dispose();
    disposePlayers(context.players);
  }
});
