// Test support for the fused optimizers: the same variables and gradients for a fused optimizer and the
// tfjs optimizer it replaces, and their states, to compare bit for bit.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/latent';

/** Odd sizes: a scalar, fewer elements than a SIMD lane count would take, a matrix, a long odd vector. */
export const testShapes: number[][] = [[], [7], [3, 5, 4], [100003]];

let created = 0;

/** Variables of `shapes`, normally distributed from `seed`, with names no other test uses. */
export function makeVariables(shapes: number[][], seed: number): tf.Variable[] {
  const rng = Rng.fromSeed(seed);
  created += 1;
  return shapes.map((shape, i) => tf.variable(tf.tensor(rng.fillNormal(new Float32Array(tf.util.sizeFromShape(shape))), shape), true, `fused-test-${created}/w${i}`));
}

/** The gradients of step `step`, the same for every call with the same arguments; some tiny, some zero. */
export function gradientsAt(variables: tf.Variable[], step: number): { name: string; tensor: tf.Tensor }[] {
  const rng = Rng.fromSeed(1000 + step);
  return variables.map((variable) => {
    const values = rng.fillNormal(new Float32Array(variable.size));
    for (let i = 0; i < values.length; i += 11) values[i] = 0;
    for (let i = 5; i < values.length; i += 13) values[i]! *= 1e-20;
    return { name: variable.name, tensor: tf.tensor(values, variable.shape) };
  });
}

export function applySteps(optimizer: tf.Optimizer, variables: tf.Variable[], from: number, to: number): void {
  for (let step = from; step < to; step++) {
    const gradients = gradientsAt(variables, step);
    optimizer.applyGradients(gradients);
    tf.dispose(gradients.map((g) => g.tensor));
  }
}

export interface OptimizerState {
  values: Float32Array[];
  weights: { name: string; values: Float32Array }[];
}

export async function stateOf(optimizer: tf.Optimizer, variables: tf.Variable[]): Promise<OptimizerState> {
  const weights = await optimizer.getWeights();
  return {
    values: variables.map((v) => v.dataSync() as Float32Array),
    weights: weights.map((w) => ({ name: w.name, values: w.tensor.dataSync() as Float32Array })),
  };
}

/** Asserts the two float32 arrays hold the same bits, naming the first element that differs. */
export function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}[${i}]: ${actual[i]} but tfjs gives ${expected[i]}`);
  }
}

/** Asserts equal states: the variables, then each optimizer weight by name and bits (slot names are per variable, so compared by position). */
export function assertSameState(actual: OptimizerState, expected: OptimizerState, what: string): void {
  actual.values.forEach((v, i) => assertSameBits(v, expected.values[i]!, `${what}: variable ${i}`));
  assert.equal(actual.weights.length, expected.weights.length, `${what}: optimizer weight count`);
  actual.weights.forEach((w, i) => assertSameBits(w.values, expected.weights[i]!.values, `${what}: optimizer weight ${i} (${w.name})`));
}

/** The kernels one call of `f` runs, by name, in order. */
export async function kernelsRun(f: () => void): Promise<string[]> {
  const profile = await tf.profile(f);
  return profile.kernels.map((k) => k.name);
}

/** Optimizer weight names without the test's variable prefix, to compare two optimizers' layouts. */
export function weightNames(state: OptimizerState): string[] {
  return state.weights.map((w) => w.name.replace(/^fused-test-\d+\//, ''));
}
