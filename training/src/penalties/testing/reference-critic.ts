// Test support for the input-gradient penalties: a small MLP critic written twice, in tfjs (float32,
// autodiff) and in plain float64 with its input gradient by hand, and a comparison of a penalty's
// autodiff gradient in the critic's weights with central finite differences.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@gantry/core';

export function uniformValues(rng: Rng, length: number, low: number, high: number): number[] {
  return Array.from({ length }, () => low + (high - low) * rng.nextFloat());
}

export const euclideanNorm = (xs: readonly number[]): number => Math.sqrt(xs.reduce((sum, x) => sum + x * x, 0));

/** Rows of a [n, d] float32 tensor as float64 numbers. */
export function rows(t: tf.Tensor): number[][] {
  const [n, d] = t.shape as [number, number];
  const flat = Array.from(t.dataSync());
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

// A 2-layer MLP critic f(x) = v·act(xW + b) + c, in tfjs (float32, autodiff) and in plain float64
// with its input gradient written out by hand: ∇f(x) = W (v ⊙ act'(xW + b)).
export interface Activation {
  name: string;
  tf: (z: tf.Tensor) => tf.Tensor;
  slope: (z: number) => number;
}
export const softplus: Activation = { name: 'softplus', tf: (z) => tf.softplus(z), slope: (z) => 1 / (1 + Math.exp(-z)) };
export const leakyRelu: Activation = { name: 'leakyRelu 0.2', tf: (z) => tf.leakyRelu(z, 0.2), slope: (z) => (z > 0 ? 1 : 0.2) };
export const tanh: Activation = { name: 'tanh', tf: (z) => tf.tanh(z), slope: (z) => 1 - Math.tanh(z) ** 2 };
export const IN = 3;
export const HIDDEN = 4;
// Flat parameter vector: W (IN×HIDDEN, row-major), b (HIDDEN), v (HIDDEN), c.
export const PARAMETER_COUNT = IN * HIDDEN + HIDDEN + HIDDEN + 1;

export function preActivations(params: readonly number[], x: readonly number[]): number[] {
  return Array.from({ length: HIDDEN }, (_, j) =>
    x.reduce((sum, xk, k) => sum + xk * params[k * HIDDEN + j]!, params[IN * HIDDEN + j]!),
  );
}

export function referenceInputGradient(params: readonly number[], act: Activation, x: readonly number[]): number[] {
  const z = preActivations(params, x);
  const upstream = z.map((zj, j) => params[IN * HIDDEN + HIDDEN + j]! * act.slope(zj));
  return Array.from({ length: IN }, (_, k) => upstream.reduce((sum, u, j) => sum + params[k * HIDDEN + j]! * u, 0));
}

export function tfCritic(act: Activation, variables: readonly tf.Variable[]): (x: tf.Tensor) => tf.Tensor {
  const [W, b, v, c] = variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  return (x) =>
    tf.add(
      tf.matMul(act.tf(tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Variable<tf.Rank.R2>), b)), v as tf.Variable<tf.Rank.R2>),
      c,
    );
}

export function makeVariables(params: readonly number[]): tf.Variable[] {
  const W = params.slice(0, IN * HIDDEN);
  const b = params.slice(IN * HIDDEN, IN * HIDDEN + HIDDEN);
  const v = params.slice(IN * HIDDEN + HIDDEN, IN * HIDDEN + 2 * HIDDEN);
  const c = params.slice(IN * HIDDEN + 2 * HIDDEN);
  return [
    tf.variable(tf.tensor2d(W, [IN, HIDDEN])),
    tf.variable(tf.tensor1d(b)),
    tf.variable(tf.tensor2d(v, [HIDDEN, 1])),
    tf.variable(tf.tensor1d(c)),
  ];
}

export function setVariables(variables: readonly tf.Variable[], params: readonly number[]): void {
  let offset = 0;
  for (const variable of variables) {
    variable.assign(tf.tensor(params.slice(offset, offset + variable.size), variable.shape));
    offset += variable.size;
  }
}

/**
 * Checks a penalty P(θ) computed by `penalty` (tfjs, float32, at the critic `variables`) against
 * `reference` (float64, a function of the flat parameters): its value, and its autodiff gradient in θ
 * against central differences of (1) the float64 reference (independent, h = 1e-6, error ≈ 1e-9) and
 * (2) `penalty` itself in float32 (self-consistency, h = 1e-3). Leaves the variables at `params`.
 */
export function checkPenaltyGradient(
  label: string,
  params: readonly number[],
  variables: readonly tf.Variable[],
  penalty: () => tf.Scalar,
  reference: (params: readonly number[]) => number,
  report: (line: string) => void,
): void {
  setVariables(variables, params);
  const { value, grads } = tf.variableGrads(penalty, [...variables]);
  // A parameter that cannot change ∇f (the output bias) gets no gradient from tfjs, which is 0.
  const autodiff = variables.flatMap((variable) =>
    grads[variable.name] ? Array.from(grads[variable.name]!.dataSync()) : new Array<number>(variable.size).fill(0),
  );
  const penaltyValue = value.arraySync();
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  const referenceValue = reference(params);
  assert.ok(
    Math.abs(penaltyValue - referenceValue) <= 1e-5 * Math.max(1, referenceValue),
    `${label}: penalty ${penaltyValue} vs float64 ${referenceValue}`,
  );

  const h64 = 1e-6;
  const h32 = 1e-3;
  const scale = Math.max(...autodiff.map(Math.abs));
  const referenceErrors: number[] = [];
  const selfErrors: number[] = [];
  for (let p = 0; p < params.length; p++) {
    const shifted = (delta: number): number[] => params.map((x, q) => (q === p ? x + delta : x));
    const fd64 = (reference(shifted(h64)) - reference(shifted(-h64))) / (2 * h64);
    setVariables(variables, shifted(h32));
    const plus = tf.tidy(() => penalty().arraySync());
    setVariables(variables, shifted(-h32));
    const minus = tf.tidy(() => penalty().arraySync());
    const fd32 = (plus - minus) / (2 * h32);
    referenceErrors.push(Math.abs(autodiff[p]! - fd64));
    selfErrors.push(Math.abs(autodiff[p]! - fd32));
    const mismatchesSoFar = referenceErrors.filter((e) => e > 1e-4 * Math.max(1, scale)).length;
    if (referenceErrors[p]! > 1e-4 * Math.max(1, scale) && mismatchesSoFar <= 3) {
      report(`${label}: ∂P/∂θ${p} autodiff ${autodiff[p]}, float64 FD ${fd64}, float32 FD ${fd32}`);
    }
  }
  setVariables(variables, params);
  const worstReference = Math.max(...referenceErrors);
  const worstSelf = Math.max(...selfErrors);
  report(
    `${label}: penalty ${penaltyValue.toFixed(6)} (float64 ${referenceValue.toFixed(6)}); max |∂P/∂θ| ${scale.toFixed(4)}; ` +
      `max |autodiff − FD| vs float64 ${worstReference.toExponential(2)}, vs float32 ${worstSelf.toExponential(2)}`,
  );
  assert.ok(
    worstReference <= 1e-4 * Math.max(1, scale),
    `${label}: autodiff vs float64 finite differences off by ${worstReference}`,
  );
  assert.ok(worstSelf <= 2e-3 * Math.max(1, scale), `${label}: autodiff vs float32 finite differences off by ${worstSelf}`);
}
