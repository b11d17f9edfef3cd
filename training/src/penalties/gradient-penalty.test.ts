import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { wasserstein } from '../objectives/wasserstein.js';
import { gradientPenalty, perSampleUniform } from './gradient-penalty.js';
import {
  checkPenaltyGradient,
  euclideanNorm,
  HIDDEN,
  IN,
  leakyRelu,
  makeVariables,
  PARAMETER_COUNT,
  preActivations,
  referenceInputGradient,
  rows,
  softplus,
  tanh,
  tfCritic,
  uniformValues,
  type Activation,
} from './testing/reference-critic.js';

const LAMBDA = 10;

test('on a linear critic the penalty equals λ(‖w‖−1)² and λ·max(‖w‖−1, 0); x̂ mixes each sample with one ε', async (t) => {
  await selectBackend('cpu');
  const rng = Rng.fromSeed(11);
  const n = 5;
  const shape = [n, 2, 2, 1];
  const real = tf.tensor(uniformValues(rng, n * 4, -1, 1), shape);
  const fake = tf.tensor(uniformValues(rng, n * 4, -1, 1), shape);
  const epsilon = perSampleUniform(n, 4, rng);
  for (const weights of [
    [0.1, -0.3, 0.2, 0.4],
    [1.2, -0.5, 0.9, 0.3],
  ]) {
    const norm = euclideanNorm(weights);
    const w = tf.tensor(weights, [1, 2, 2, 1]);
    let seenInput: number[] = [];
    const critic = (x: tf.Tensor): tf.Tensor => {
      seenInput = Array.from(x.dataSync());
      return tf.sum(tf.mul(x, w), [1, 2, 3]);
    };
    const twoSided = gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon }).arraySync();
    const oneSided = gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided: true }).arraySync();
    const expectedTwoSided = LAMBDA * (norm - 1) ** 2;
    const expectedOneSided = LAMBDA * Math.max(norm - 1, 0);
    t.diagnostic(
      `‖w‖ = ${norm.toFixed(4)}: two-sided ${twoSided} vs ${expectedTwoSided}, one-sided ${oneSided} vs ${expectedOneSided}`,
    );
    assert.ok(
      Math.abs(twoSided - expectedTwoSided) <= 1e-5 * Math.max(1, expectedTwoSided),
      `two-sided ${twoSided} vs ${expectedTwoSided}`,
    );
    assert.ok(
      Math.abs(oneSided - expectedOneSided) <= 1e-5 * Math.max(1, expectedOneSided),
      `one-sided ${oneSided} vs ${expectedOneSided}`,
    );

    const eps = Array.from(epsilon.dataSync());
    const realValues = Array.from(real.dataSync());
    const fakeValues = Array.from(fake.dataSync());
    seenInput.forEach((value, index) => {
      const e = eps[Math.floor(index / 4)]!;
      const expected = e * realValues[index]! + (1 - e) * fakeValues[index]!;
      assert.ok(Math.abs(value - expected) < 1e-6, `x̂[${index}] = ${value}, expected ${expected}`);
    });
  }
});

function referencePenalty(
  params: readonly number[],
  act: Activation,
  interpolated: readonly number[][],
  oneSided: boolean,
): number {
  const terms = interpolated.map((x) => {
    const excess = euclideanNorm(referenceInputGradient(params, act, x)) - 1;
    return oneSided ? Math.max(excess, 0) : excess ** 2;
  });
  return (LAMBDA * terms.reduce((a, b) => a + b, 0)) / terms.length;
}

/**
 * Compares gradientPenalty's value and its gradient in the critic's weights with the float64
 * reference and finite differences (checkPenaltyGradient), for both penalties.
 */
function checkAgainstFiniteDifferences(act: Activation, report: (line: string) => void): void {
  // Seed and input range chosen so that every case is exercised away from its kinks (asserted below).
  const rng = Rng.fromSeed(76);
  const n = 6;
  const params = uniformValues(rng, PARAMETER_COUNT, -1, 1);
  const real = tf.tensor2d(uniformValues(rng, n * IN, -3, 3), [n, IN]);
  const fake = tf.tensor2d(uniformValues(rng, n * IN, -3, 3), [n, IN]);
  const epsilon = perSampleUniform(n, 2, rng);
  const eps = Array.from(epsilon.dataSync());
  const fakeRows = rows(fake);
  const interpolated = rows(real).map((r, i) => r.map((rk, k) => eps[i]! * rk + (1 - eps[i]!) * fakeRows[i]![k]!));
  const variables = makeVariables(params);

  const norms = interpolated.map((x) => euclideanNorm(referenceInputGradient(params, act, x)));
  const nearestKink = Math.min(...interpolated.flatMap((x) => preActivations(params, x).map(Math.abs)));
  report(
    `${act.name}: per-sample ‖∇f‖ = ${norms.map((g) => g.toFixed(3)).join(', ')}; min |pre-activation| ${nearestKink.toFixed(3)}`,
  );
  // The one-sided case must see both sides of its ReLU, and no finite-difference step may cross a kink.
  assert.ok(
    norms.filter((g) => g > 1.05).length >= 2 && norms.filter((g) => g < 0.95).length >= 2,
    'test data: norms should straddle 1',
  );
  assert.ok(
    norms.every((g) => Math.abs(g - 1) > 0.05),
    'test data: a norm too close to the one-sided kink at 1',
  );
  assert.ok(nearestKink > 2e-2, 'test data: pre-activations too close to the LeakyReLU kink');

  for (const oneSided of [false, true]) {
    const critic = tfCritic(act, variables);
    checkPenaltyGradient(
      `${act.name}, ${oneSided ? 'one-sided' : 'two-sided'}`,
      params,
      variables,
      () => gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided }),
      (p) => referencePenalty(p, act, interpolated, oneSided),
      report,
    );
  }
  variables.forEach((v) => v.dispose());
}

test('the penalty and its gradient in the critic weights match central finite differences (softplus and LeakyReLU MLPs)', async (t) => {
  await selectBackend('cpu');
  for (const act of [softplus, leakyRelu]) checkAgainstFiniteDifferences(act, (line) => t.diagnostic(line));
});

// tfjs 4.22 computes the gradients of Tanh, Sigmoid, Exp (also Elu, Softmax, LogSoftmax) from a saved
// copy of the op's output, and that copy is recorded on the tape before the op itself, so a second
// backward pass cannot see that it depends on the input: the f'' term is silently dropped (here the
// penalty's gradient in W). Upstream: tensorflow/tfjs#3252; backend/second-order-gradients.ts registers
// those gradients from the op's input.
test('the penalty gradient of a tanh MLP matches finite differences', async (t) => {
  await selectBackend('cpu');
  checkAgainstFiniteDifferences(tanh, (line) => t.diagnostic(line));
});

test('no NaN in the penalty or its parameter gradient where the critic is flat (zero input gradient)', async () => {
  await selectBackend('cpu');
  const rng = Rng.fromSeed(5);
  const n = 4;
  const real = tf.tensor2d(uniformValues(rng, n * IN, -1, 1), [n, IN]);
  const fake = tf.tensor2d(uniformValues(rng, n * IN, -1, 1), [n, IN]);
  const epsilon = perSampleUniform(n, 2, rng);
  const zeroWeights = tf.variable(tf.zeros([IN, 1]));
  const bias = tf.variable(tf.tensor1d([0.3]));
  // Flat because its weights are zero; flat because every ReLU is dead; flat because it ignores x.
  const deadParams = makeVariables([
    ...uniformValues(rng, IN * HIDDEN, -1, 1),
    ...new Array<number>(HIDDEN).fill(-100),
    ...uniformValues(rng, HIDDEN + 1, -1, 1),
  ]);
  const relu: Activation = { name: 'relu', tf: (z) => tf.relu(z), slope: (z) => (z > 0 ? 1 : 0) };
  const critics: { name: string; critic: (x: tf.Tensor) => tf.Tensor; variables: tf.Variable[] }[] = [
    {
      name: 'zero-weight linear',
      critic: (x) => tf.add(tf.matMul(x as tf.Tensor2D, zeroWeights as tf.Variable<tf.Rank.R2>), bias),
      variables: [zeroWeights, bias],
    },
    { name: 'dead-ReLU MLP', critic: tfCritic(relu, deadParams), variables: deadParams },
    { name: 'input-ignoring', critic: (x) => tf.mul(tf.ones([x.shape[0]!, 1]), bias), variables: [bias] },
  ];
  for (const { name, critic, variables } of critics) {
    for (const oneSided of [false, true]) {
      const label = `${name}, ${oneSided ? 'one-sided' : 'two-sided'}`;
      // As the trainer uses it: the critic's loss plus the penalty, differentiated in every critic weight.
      const { value, grads } = tf.variableGrads(
        () =>
          tf.add(
            wasserstein.discriminatorLoss(critic(real), critic(fake)),
            gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided }),
          ),
        variables,
      );
      const penalty = gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided }).arraySync();
      // ‖∇f‖ is sqrt(1e-12) = 1e-6 instead of 0.
      const expected = oneSided ? 0 : LAMBDA * (1e-6 - 1) ** 2;
      assert.ok(Math.abs(penalty - expected) < 1e-5, `${label}: penalty ${penalty}, expected ${expected}`);
      assert.ok(Number.isFinite(value.arraySync()), `${label}: loss ${value.arraySync()}`);
      for (const variable of variables) {
        const gradient = grads[variable.name];
        assert.ok(gradient !== undefined, `${label}: no gradient for ${variable.name}`);
        assert.ok(Array.from(gradient.dataSync()).every(Number.isFinite), `${label}: gradient ${gradient.toString()}`);
      }
    }
  }
});

test('training the critic on loss + penalty with optimizer.minimize steps along the double-backprop gradient without leaking tensors', async () => {
  await selectBackend('cpu');
  const rng = Rng.fromSeed(9);
  const n = 4;
  const real = tf.tensor2d(uniformValues(rng, n * IN, -1, 1), [n, IN]);
  const fake = tf.tensor2d(uniformValues(rng, n * IN, -1, 1), [n, IN]);
  const epsilon = perSampleUniform(n, 2, rng);
  const variables = makeVariables(uniformValues(rng, PARAMETER_COUNT, -1, 1));
  const critic = tfCritic(leakyRelu, variables);
  const loss = (): tf.Scalar =>
    tf.add(
      wasserstein.discriminatorLoss(critic(real), critic(fake)),
      gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon }),
    );
  const { value, grads } = tf.variableGrads(loss, variables);
  const expected = variables.map((v) =>
    tf.tidy(() => Array.from(tf.sub(v, tf.mul(0.01, grads[v.name] ?? tf.zerosLike(v))).dataSync())),
  );
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());

  const optimizer = tf.train.sgd(0.01);
  const before = tf.memory().numTensors;
  optimizer.minimize(loss, false, variables);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by one training step');
  variables.forEach((v, i) => {
    Array.from(v.dataSync()).forEach((x, j) =>
      assert.ok(Math.abs(x - expected[i]![j]!) < 1e-6, `${v.name}[${j}] = ${x}, expected ${expected[i]![j]}`),
    );
  });
  optimizer.dispose();
});

test('perSampleUniform gives one U[0, 1) value per sample, shaped [n, 1, 1, 1], from the rng stream in order', async () => {
  await selectBackend('cpu');
  const rng = Rng.fromSeed(42);
  const replay = rng.clone();
  const epsilon = perSampleUniform(7, 4, rng);
  assert.deepEqual(epsilon.shape, [7, 1, 1, 1]);
  assert.equal(epsilon.dtype, 'float32');
  const values = Array.from(epsilon.dataSync());
  assert.deepEqual(
    values,
    Array.from({ length: 7 }, () => Math.fround(replay.nextFloat())),
  );
  assert.ok(
    values.every((e) => e >= 0 && e < 1),
    `values ${values}`,
  );
  assert.equal(new Set(values).size, 7);

  // float32 would round this draw up to 1; it must stay in [0, 1).
  const almostOne = perSampleUniform(1, 2, { nextFloat: () => 1 - 2 ** -40 }).dataSync()[0]!;
  assert.ok(almostOne < 1 && almostOne > 0.9999999, `${almostOne}`);
});

test('bad arguments are rejected with the parameter, the value and the allowed range', async () => {
  await selectBackend('cpu');
  const real = tf.zeros([2, 3]);
  const fake = tf.ones([2, 3]);
  const epsilon = tf.fill([2, 1], 0.5);
  const critic = (x: tf.Tensor): tf.Tensor => tf.sum(x, 1);
  assert.throws(
    () => gradientPenalty(critic, real, fake, { lambda: -1, epsilon }),
    /options\.lambda must be a finite number ≥ 0, got -1/,
  );
  assert.throws(
    () => gradientPenalty(critic, real, fake, { lambda: NaN, epsilon }),
    /options\.lambda must be a finite number ≥ 0, got NaN/,
  );
  assert.throws(
    () => gradientPenalty(critic, real, fake, { lambda: 10, epsilon: tf.fill([2, 3], 0.5) }),
    /options\.epsilon must have shape \[2, 1\] \(one weight per sample\), got \[2, 3\]/,
  );
  assert.throws(
    () => gradientPenalty(critic, real, tf.ones([3, 3]), { lambda: 10, epsilon }),
    /fake must have real's shape \[2, 3\], got \[3, 3\]/,
  );
  assert.throws(
    () => gradientPenalty(critic, tf.zeros([2]), tf.ones([2]), { lambda: 10, epsilon: tf.fill([2], 0.5) }),
    /real must have rank ≥ 2/,
  );
  assert.throws(
    () => gradientPenalty((x) => tf.mean(x), real, fake, { lambda: 10, epsilon }),
    /critic must return scores of shape \[2, \.\.\.\], got a float32 tensor of shape \[\]/,
  );
  assert.throws(() => perSampleUniform(0, 4, Rng.fromSeed(1)), /n \(the batch size\) must be an integer ≥ 1, got 0/);
  assert.throws(() => perSampleUniform(3, 1, Rng.fromSeed(1)), /rank .* must be an integer ≥ 2, got 1/);
  assert.throws(
    () => perSampleUniform(1, 2, { nextFloat: () => 1 }),
    /rng\.nextFloat\(\) must return a number in \[0, 1\), got 1/,
  );
});
