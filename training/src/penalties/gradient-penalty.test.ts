import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/latent';
import { selectBackend } from '../backend/select.js';
import { wasserstein } from '../objectives/wasserstein.js';
import { gradientPenalty, perSampleUniform } from './gradient-penalty.js';

const LAMBDA = 10;

function uniformValues(rng: Rng, length: number, low: number, high: number): number[] {
  return Array.from({ length }, () => low + (high - low) * rng.nextFloat());
}

const euclideanNorm = (xs: readonly number[]): number => Math.sqrt(xs.reduce((sum, x) => sum + x * x, 0));

/** Rows of a [n, d] float32 tensor as float64 numbers. */
function rows(t: tf.Tensor): number[][] {
  const [n, d] = t.shape as [number, number];
  const flat = Array.from(t.dataSync());
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

test('on a linear critic the penalty equals λ(‖w‖−1)² and λ·max(‖w‖−1, 0); x̂ mixes each sample with one ε', async (t) => {
  await selectBackend('cpu');
  const rng = Rng.fromSeed(11);
  const n = 5;
  const shape = [n, 2, 2, 1];
  const real = tf.tensor(uniformValues(rng, n * 4, -1, 1), shape);
  const fake = tf.tensor(uniformValues(rng, n * 4, -1, 1), shape);
  const epsilon = perSampleUniform(n, 4, rng);
  for (const weights of [[0.1, -0.3, 0.2, 0.4], [1.2, -0.5, 0.9, 0.3]]) {
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
    t.diagnostic(`‖w‖ = ${norm.toFixed(4)}: two-sided ${twoSided} vs ${expectedTwoSided}, one-sided ${oneSided} vs ${expectedOneSided}`);
    assert.ok(Math.abs(twoSided - expectedTwoSided) <= 1e-5 * Math.max(1, expectedTwoSided), `two-sided ${twoSided} vs ${expectedTwoSided}`);
    assert.ok(Math.abs(oneSided - expectedOneSided) <= 1e-5 * Math.max(1, expectedOneSided), `one-sided ${oneSided} vs ${expectedOneSided}`);

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

// A 2-layer MLP critic f(x) = v·act(xW + b) + c, in tfjs (float32, autodiff) and in plain float64
// with its input gradient written out by hand: ∇f(x) = W (v ⊙ act'(xW + b)).
interface Activation {
  name: string;
  tf: (z: tf.Tensor) => tf.Tensor;
  slope: (z: number) => number;
}
const softplus: Activation = { name: 'softplus', tf: (z) => tf.softplus(z), slope: (z) => 1 / (1 + Math.exp(-z)) };
const leakyRelu: Activation = { name: 'leakyRelu 0.2', tf: (z) => tf.leakyRelu(z, 0.2), slope: (z) => (z > 0 ? 1 : 0.2) };
const tanh: Activation = { name: 'tanh', tf: (z) => tf.tanh(z), slope: (z) => 1 - Math.tanh(z) ** 2 };
const IN = 3;
const HIDDEN = 4;
// Flat parameter vector: W (IN×HIDDEN, row-major), b (HIDDEN), v (HIDDEN), c.
const PARAMETER_COUNT = IN * HIDDEN + HIDDEN + HIDDEN + 1;

function preActivations(params: readonly number[], x: readonly number[]): number[] {
  return Array.from({ length: HIDDEN }, (_, j) => x.reduce((sum, xk, k) => sum + xk * params[k * HIDDEN + j]!, params[IN * HIDDEN + j]!));
}

function referenceInputGradient(params: readonly number[], act: Activation, x: readonly number[]): number[] {
  const z = preActivations(params, x);
  const upstream = z.map((zj, j) => params[IN * HIDDEN + HIDDEN + j]! * act.slope(zj));
  return Array.from({ length: IN }, (_, k) => upstream.reduce((sum, u, j) => sum + params[k * HIDDEN + j]! * u, 0));
}

function referencePenalty(params: readonly number[], act: Activation, interpolated: readonly number[][], oneSided: boolean): number {
  const terms = interpolated.map((x) => {
    const excess = euclideanNorm(referenceInputGradient(params, act, x)) - 1;
    return oneSided ? Math.max(excess, 0) : excess ** 2;
  });
  return (LAMBDA * terms.reduce((a, b) => a + b, 0)) / terms.length;
}

function tfCritic(act: Activation, variables: readonly tf.Variable[]): (x: tf.Tensor) => tf.Tensor {
  const [W, b, v, c] = variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  return (x) => tf.add(tf.matMul(act.tf(tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Variable<tf.Rank.R2>), b)), v as tf.Variable<tf.Rank.R2>), c);
}

function makeVariables(params: readonly number[]): tf.Variable[] {
  const W = params.slice(0, IN * HIDDEN);
  const b = params.slice(IN * HIDDEN, IN * HIDDEN + HIDDEN);
  const v = params.slice(IN * HIDDEN + HIDDEN, IN * HIDDEN + 2 * HIDDEN);
  const c = params.slice(IN * HIDDEN + 2 * HIDDEN);
  return [tf.variable(tf.tensor2d(W, [IN, HIDDEN])), tf.variable(tf.tensor1d(b)), tf.variable(tf.tensor2d(v, [HIDDEN, 1])), tf.variable(tf.tensor1d(c))];
}

function setVariables(variables: readonly tf.Variable[], params: readonly number[]): void {
  let offset = 0;
  for (const variable of variables) {
    variable.assign(tf.tensor(params.slice(offset, offset + variable.size), variable.shape));
    offset += variable.size;
  }
}

/**
 * Compares gradientPenalty's value with a float64 reference, and its autodiff gradient in the critic's
 * weights with central differences of (1) the float64 reference (independent, h = 1e-6, error ≈ 1e-9)
 * and (2) gradientPenalty itself in float32 (self-consistency, h = 1e-3), for both penalties.
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
  report(`${act.name}: per-sample ‖∇f‖ = ${norms.map((g) => g.toFixed(3)).join(', ')}; min |pre-activation| ${nearestKink.toFixed(3)}`);
  // The one-sided case must see both sides of its ReLU, and no finite-difference step may cross a kink.
  assert.ok(norms.filter((g) => g > 1.05).length >= 2 && norms.filter((g) => g < 0.95).length >= 2, 'test data: norms should straddle 1');
  assert.ok(norms.every((g) => Math.abs(g - 1) > 0.05), 'test data: a norm too close to the one-sided kink at 1');
  assert.ok(nearestKink > 2e-2, 'test data: pre-activations too close to the LeakyReLU kink');

  for (const oneSided of [false, true]) {
    const label = `${act.name}, ${oneSided ? 'one-sided' : 'two-sided'}`;
    setVariables(variables, params);
    const critic = tfCritic(act, variables);
    const penalty = () => gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided });
    const { value, grads } = tf.variableGrads(penalty, variables);
    // The output bias c cannot change ∇f: tfjs reports no gradient for it, which is 0.
    const autodiff = variables.flatMap((variable) => (grads[variable.name] ? Array.from(grads[variable.name]!.dataSync()) : new Array<number>(variable.size).fill(0)));
    const penaltyValue = value.arraySync();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    const referenceValue = referencePenalty(params, act, interpolated, oneSided);
    assert.ok(Math.abs(penaltyValue - referenceValue) <= 1e-5 * Math.max(1, referenceValue), `${label}: penalty ${penaltyValue} vs float64 ${referenceValue}`);

    const h64 = 1e-6;
    const h32 = 1e-3;
    const scale = Math.max(...autodiff.map(Math.abs));
    const referenceErrors: number[] = [];
    const selfErrors: number[] = [];
    for (let p = 0; p < PARAMETER_COUNT; p++) {
      const shifted = (delta: number): number[] => params.map((x, q) => (q === p ? x + delta : x));
      const reference = (referencePenalty(shifted(h64), act, interpolated, oneSided) - referencePenalty(shifted(-h64), act, interpolated, oneSided)) / (2 * h64);
      setVariables(variables, shifted(h32));
      const plus = tf.tidy(() => penalty().arraySync());
      setVariables(variables, shifted(-h32));
      const minus = tf.tidy(() => penalty().arraySync());
      const self = (plus - minus) / (2 * h32);
      referenceErrors.push(Math.abs(autodiff[p]! - reference));
      selfErrors.push(Math.abs(autodiff[p]! - self));
      const mismatchesSoFar = referenceErrors.filter((e) => e > 1e-4 * Math.max(1, scale)).length;
      if (referenceErrors[p]! > 1e-4 * Math.max(1, scale) && mismatchesSoFar <= 3) {
        report(`${label}: ∂P/∂θ${p} autodiff ${autodiff[p]}, float64 FD ${reference}, float32 FD ${self}`);
      }
    }
    setVariables(variables, params);
    const worstReference = Math.max(...referenceErrors);
    const worstSelf = Math.max(...selfErrors);
    report(
      `${label}: penalty ${penaltyValue.toFixed(6)} (float64 ${referenceValue.toFixed(6)}); max |∂P/∂θ| ${scale.toFixed(4)}; ` +
        `max |autodiff − FD| vs float64 ${worstReference.toExponential(2)}, vs float32 ${worstSelf.toExponential(2)}`,
    );
    assert.ok(worstReference <= 1e-4 * Math.max(1, scale), `${label}: autodiff vs float64 finite differences off by ${worstReference}`);
    assert.ok(worstSelf <= 2e-3 * Math.max(1, scale), `${label}: autodiff vs float32 finite differences off by ${worstSelf}`);
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
  const deadParams = makeVariables([...uniformValues(rng, IN * HIDDEN, -1, 1), ...new Array<number>(HIDDEN).fill(-100), ...uniformValues(rng, HIDDEN + 1, -1, 1)]);
  const relu: Activation = { name: 'relu', tf: (z) => tf.relu(z), slope: (z) => (z > 0 ? 1 : 0) };
  const critics: { name: string; critic: (x: tf.Tensor) => tf.Tensor; variables: tf.Variable[] }[] = [
    { name: 'zero-weight linear', critic: (x) => tf.add(tf.matMul(x as tf.Tensor2D, zeroWeights as tf.Variable<tf.Rank.R2>), bias), variables: [zeroWeights, bias] },
    { name: 'dead-ReLU MLP', critic: tfCritic(relu, deadParams), variables: deadParams },
    { name: 'input-ignoring', critic: (x) => tf.mul(tf.ones([x.shape[0]!, 1]), bias), variables: [bias] },
  ];
  for (const { name, critic, variables } of critics) {
    for (const oneSided of [false, true]) {
      const label = `${name}, ${oneSided ? 'one-sided' : 'two-sided'}`;
      // As the trainer uses it: the critic's loss plus the penalty, differentiated in every critic weight.
      const { value, grads } = tf.variableGrads(
        () => tf.add(wasserstein.discriminatorLoss(critic(real), critic(fake)), gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon, oneSided })),
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
  const loss = (): tf.Scalar => tf.add(wasserstein.discriminatorLoss(critic(real), critic(fake)), gradientPenalty(critic, real, fake, { lambda: LAMBDA, epsilon }));
  const { value, grads } = tf.variableGrads(loss, variables);
  const expected = variables.map((v) => tf.tidy(() => Array.from(tf.sub(v, tf.mul(0.01, grads[v.name] ?? tf.zerosLike(v))).dataSync())));
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());

  const optimizer = tf.train.sgd(0.01);
  const before = tf.memory().numTensors;
  optimizer.minimize(loss, false, variables);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by one training step');
  variables.forEach((v, i) => {
    Array.from(v.dataSync()).forEach((x, j) => assert.ok(Math.abs(x - expected[i]![j]!) < 1e-6, `${v.name}[${j}] = ${x}, expected ${expected[i]![j]}`));
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
  assert.deepEqual(values, Array.from({ length: 7 }, () => Math.fround(replay.nextFloat())));
  assert.ok(values.every((e) => e >= 0 && e < 1), `values ${values}`);
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
  assert.throws(() => gradientPenalty(critic, real, fake, { lambda: -1, epsilon }), /options\.lambda must be a finite number ≥ 0, got -1/);
  assert.throws(() => gradientPenalty(critic, real, fake, { lambda: NaN, epsilon }), /options\.lambda must be a finite number ≥ 0, got NaN/);
  assert.throws(() => gradientPenalty(critic, real, fake, { lambda: 10, epsilon: tf.fill([2, 3], 0.5) }), /options\.epsilon must have shape \[2, 1\] \(one weight per sample\), got \[2, 3\]/);
  assert.throws(() => gradientPenalty(critic, real, tf.ones([3, 3]), { lambda: 10, epsilon }), /fake must have real's shape \[2, 3\], got \[3, 3\]/);
  assert.throws(() => gradientPenalty(critic, tf.zeros([2]), tf.ones([2]), { lambda: 10, epsilon: tf.fill([2], 0.5) }), /real must have rank ≥ 2/);
  assert.throws(() => gradientPenalty((x) => tf.mean(x), real, fake, { lambda: 10, epsilon }), /critic must return scores of shape \[2, \.\.\.\], got a float32 tensor of shape \[\]/);
  assert.throws(() => perSampleUniform(0, 4, Rng.fromSeed(1)), /n \(the batch size\) must be an integer ≥ 1, got 0/);
  assert.throws(() => perSampleUniform(3, 1, Rng.fromSeed(1)), /rank .* must be an integer ≥ 2, got 1/);
  assert.throws(() => perSampleUniform(1, 2, { nextFloat: () => 1 }), /rng\.nextFloat\(\) must return a number in \[0, 1\), got 1/);
});
