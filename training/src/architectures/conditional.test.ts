import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/select.js';
import { auxiliaryClassifierLoss } from '../objectives/auxiliary-classifier.js';
import {
  buildAuxiliaryClassifierDiscriminator,
  buildConditionalGenerator,
  buildProjectionDiscriminator,
  type ConditionalDcganOptions,
} from './conditional.js';

const CLASSES = 5;
const options = (imageShape: [number, number, number] = [28, 28, 1]): ConditionalDcganOptions => ({
  imageShape,
  latentSize: 6,
  generatorWidth: 8,
  discriminatorWidth: 4,
  seed: 11,
  classes: CLASSES,
  embeddingSize: 3,
});

const labels = (values: number[]): tf.Tensor2D => tf.tensor2d(values, [values.length, 1], 'int32');
const trainable = (m: tfl.LayersModel): tf.Variable[] =>
  m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

/** Gradients of `loss` with respect to every trainable weight of `model`, by weight name. */
function gradients(model: tfl.LayersModel, loss: () => tf.Scalar): Map<string, tf.Tensor> {
  const { grads } = tf.variableGrads(loss, trainable(model));
  return new Map(model.trainableWeights.map((w) => [w.name, grads[(w as unknown as { val: tf.Variable }).val.name]!]));
}

function assertEveryWeightMoves(model: tfl.LayersModel, grads: Map<string, tf.Tensor>): void {
  for (const weight of model.trainableWeights) {
    const grad = grads.get(weight.name);
    assert.ok(
      grad !== undefined && tf.tidy(() => tf.max(tf.abs(grad)).dataSync()[0]!) > 0,
      `${model.name}: no gradient reaches ${weight.name}`,
    );
  }
}

test('conditional G, projection D and AC D have the documented inputs and outputs', async () => {
  await selectBackend('cpu');
  for (const shape of [
    [28, 28, 1],
    [32, 32, 3],
  ] as [number, number, number][]) {
    const g = buildConditionalGenerator(options(shape));
    const projection = buildProjectionDiscriminator(options(shape));
    const auxiliary = buildAuxiliaryClassifierDiscriminator(options(shape));
    assert.deepEqual(g.inputNames, ['latent', 'label']);
    assert.deepEqual(
      g.inputs.map((i) => [i.shape, i.dtype]),
      [
        [[null, 6], 'float32'],
        [[null, 1], 'int32'],
      ],
    );
    assert.deepEqual(g.outputs[0]!.shape, [null, ...shape]);
    assert.deepEqual(projection.inputNames, ['image', 'label']);
    assert.deepEqual(
      projection.inputs.map((i) => i.shape),
      [
        [null, ...shape],
        [null, 1],
      ],
    );
    assert.deepEqual(
      projection.outputs.map((o) => o.shape),
      [[null, 1]],
    );
    assert.deepEqual(
      auxiliary.inputs.map((i) => i.shape),
      [[null, ...shape]],
    );
    assert.deepEqual(
      auxiliary.outputs.map((o) => o.shape),
      [
        [null, 1],
        [null, CLASSES],
      ],
    );
    tf.tidy(() => {
      const images = g.predict([tf.randomNormal([3, 6], 0, 1, 'float32', 1), labels([0, 4, 2])]) as tf.Tensor;
      assert.deepEqual(images.shape, [3, ...shape]);
      assert.deepEqual((projection.predict([images, labels([0, 4, 2])]) as tf.Tensor).shape, [3, 1]);
      assert.deepEqual(
        (auxiliary.predict(images) as tf.Tensor[]).map((t) => t.shape),
        [
          [3, 1],
          [3, CLASSES],
        ],
      );
    });
    for (const m of [g, projection, auxiliary]) m.dispose();
  }
  assert.throws(() => buildConditionalGenerator({ ...options(), classes: 1 }), /classes must be an integer >= 2/);
  assert.throws(
    () => buildProjectionDiscriminator({ ...options(), embeddingSize: 0 }),
    /embeddingSize must be a positive integer; got 0/,
  );
});

test('G sees the label only through its embedding row', async () => {
  await selectBackend('cpu');
  const g = buildConditionalGenerator(options());
  const z = tf.randomNormal([2, 6], 0, 1, 'float32', 4);
  const generate = (label: number): Float32Array =>
    tf.tidy(() => (g.predict([z, labels([label, label])]) as tf.Tensor).dataSync() as Float32Array);
  assert.notDeepEqual(generate(1), generate(3), 'different classes, different images');
  const embedding = g.getLayer('label_embedding');
  const table = embedding.getWeights()[0]!;
  const rows = table.arraySync() as number[][];
  rows[3] = rows[1]!;
  const same = tf.tensor2d(rows);
  embedding.setWeights([same]);
  assert.deepEqual(generate(1), generate(3), 'equal embedding rows, equal images');
  tf.dispose([z, same]);
  g.dispose();
});

test('the projection discriminator computes ψ(φ(x)) + ⟨embed(y), φ(x)⟩', async () => {
  await selectBackend('cpu');
  const d = buildProjectionDiscriminator(options());
  // Kernels scaled from N(0, 0.02) to N(0, 0.2): φ(x) and the projection term well above rounding.
  const scaled = d.getWeights().map((w) => (w.rank === 4 ? tf.mul(w, 10) : tf.clone(w)));
  d.setWeights(scaled);
  tf.dispose(scaled);
  // φ: the same layers up to the flattened features, as their own model.
  const flatten = d.layers.find(
    (l) => l.getClassName() === 'Flatten' && l.inboundNodes[0]!.inboundLayers[0]!.getClassName() !== 'Embedding',
  )!;
  const phiModel = tfl.model({ inputs: d.inputs[0]!, outputs: flatten.output as tfl.SymbolicTensor });
  const psi = d.layers.find((l) => l.getClassName() === 'Dense')!;
  const [psiKernel, psiBias] = psi.getWeights().map((w) => w.dataSync());
  const table = d.getLayer('class_projection').getWeights()[0]!.arraySync() as number[][];
  const x = tf.randomUniform([4, 28, 28, 1], -1, 1, 'float32', 8);
  const y = [2, 0, 4, 2];
  const phi = tf.tidy(() => phiModel.predict(x) as tf.Tensor).arraySync() as number[][];
  const dot = (a: number[], b: ArrayLike<number>): number => a.reduce((sum, v, j) => sum + v * b[j]!, 0);
  const unconditional = phi.map((features) => dot(features, psiKernel!) + psiBias![0]!);
  const expected = phi.map((features, i) => unconditional[i]! + dot(features, table[y[i]!]!));
  const actual = Array.from(tf.tidy(() => (d.predict([x, labels(y)]) as tf.Tensor).dataSync()));
  actual.forEach((value, i) => {
    assert.ok(Math.abs(value - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `sample ${i}: ${value} vs ${expected[i]}`);
    assert.ok(
      Math.abs(value - unconditional[i]!) > 1e-3,
      `sample ${i}: the projection term is too small to check (${value} vs ψ alone ${unconditional[i]})`,
    );
  });
  x.dispose();
  d.dispose();
});

/** The gradient-flow checks, on the given backend: every trainable weight of G and D receives a gradient. */
async function checkGradientFlow(backend: 'cpu' | 'wasm'): Promise<void> {
  await selectBackend(backend);
  const o = options();
  const g = buildConditionalGenerator(o);
  const projection = buildProjectionDiscriminator(o);
  const auxiliary = buildAuxiliaryClassifierDiscriminator(o);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const z = tf.randomNormal([4, 6], 0, 1, 'float32', 5);
    const fakeLabels = labels([0, 3, 3, 1]);
    const real = tf.randomUniform([4, 28, 28, 1], -1, 1, 'float32', 6);
    const realLabels = labels([2, 2, 4, 0]);
    const fake = (): tf.Tensor => g.apply([z, fakeLabels], { training: true }) as tf.Tensor;
    const projectionScore = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => projection.apply([x, y], { training: true }) as tf.Tensor;
    const auxiliaryHeads = (x: tf.Tensor): tf.Tensor[] => auxiliary.apply(x, { training: true }) as tf.Tensor[];

    // G through the projection D: every G weight moves, and only the used labels' embedding rows.
    const gThroughProjection = gradients(g, () => tf.mean(tf.softplus(tf.neg(projectionScore(fake(), fakeLabels)))));
    assertEveryWeightMoves(g, gThroughProjection);
    const embeddingGradient = gThroughProjection.get(g.getLayer('label_embedding').trainableWeights[0]!.name)!;
    const embeddingRows = tf.sum(tf.abs(embeddingGradient), 1).arraySync() as number[];
    assert.deepEqual(
      embeddingRows.map((v) => v > 0),
      [true, true, false, true, false],
      'rows 0, 1 and 3 were used',
    );

    // The projection D on real and fake: every D weight, the class projection included.
    assertEveryWeightMoves(
      projection,
      gradients(projection, () =>
        tf.add(
          tf.mean(tf.softplus(tf.neg(projectionScore(real, realLabels)))),
          tf.mean(tf.softplus(projectionScore(fake(), fakeLabels))),
        ),
      ),
    );

    // AC-GAN: D's adversarial and class terms reach both heads; G's class term reaches its embedding.
    assertEveryWeightMoves(
      auxiliary,
      gradients(auxiliary, () => {
        const [realScore, realClasses] = auxiliaryHeads(real);
        const [fakeScore, fakeClasses] = auxiliaryHeads(fake());
        const adversarial = tf.add(tf.mean(tf.softplus(tf.neg(realScore!))), tf.mean(tf.softplus(fakeScore!)));
        return tf.addN([
          adversarial,
          auxiliaryClassifierLoss(realClasses!, realLabels),
          auxiliaryClassifierLoss(fakeClasses!, fakeLabels),
        ]) as tf.Scalar;
      }),
    );
    assertEveryWeightMoves(
      g,
      gradients(g, () => auxiliaryClassifierLoss(auxiliaryHeads(fake())[1]!, fakeLabels)),
    );
  });
  assert.equal(tf.memory().numTensors, before, 'nothing leaked');
  for (const m of [g, projection, auxiliary]) m.dispose();
}

test('gradients reach every weight of the conditional G and both conditional Ds (cpu)', () => checkGradientFlow('cpu'));

test('gradients reach every weight of the conditional G and both conditional Ds (wasm)', () => checkGradientFlow('wasm'));
