// The fused optimizers against the tfjs optimizers they replace, which are the reference: the same
// variables and gradients through both, compared bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from './select.js';
import { ADAM_UPDATE, FusedAdamOptimizer } from './fused-adam.js';
import { CENTERED_RMSPROP_UPDATE, FusedRMSPropOptimizer, RMSPROP_UPDATE } from './fused-rmsprop.js';

interface Case {
  name: string;
  stock(): tf.Optimizer;
  fused(): tf.Optimizer;
  kernel: string;
  /** Optimizer weight names for variable `w`, in tfjs' order after 'iter'. */
  slots: string[];
}

const cases: Case[] = [
  {
    name: 'Adam (DCGAN: lr 2e-4, β1 0.5)',
    stock: () => tf.train.adam(2e-4, 0.5, 0.999),
    fused: () => new FusedAdamOptimizer(2e-4, 0.5, 0.999),
    kernel: ADAM_UPDATE,
    slots: ['m', 'v'],
  },
  {
    name: 'Adam (WGAN-GP: lr 1e-4, β1 0, β2 0.9, ε 1e-7)',
    stock: () => tf.train.adam(1e-4, 0, 0.9, 1e-7),
    fused: () => new FusedAdamOptimizer(1e-4, 0, 0.9, 1e-7),
    kernel: ADAM_UPDATE,
    slots: ['m', 'v'],
  },
  {
    name: 'RMSProp (WGAN: lr 5e-5, decay 0.99)',
    stock: () => tf.train.rmsprop(5e-5, 0.99),
    fused: () => new FusedRMSPropOptimizer(5e-5, 0.99),
    kernel: RMSPROP_UPDATE,
    slots: ['rms', 'momentum'],
  },
  {
    name: 'RMSProp with momentum 0.9, ε 1e-6',
    stock: () => tf.train.rmsprop(1e-3, 0.9, 0.9, 1e-6),
    fused: () => new FusedRMSPropOptimizer(1e-3, 0.9, 0.9, 1e-6),
    kernel: RMSPROP_UPDATE,
    slots: ['rms', 'momentum'],
  },
  {
    name: 'centered RMSProp with momentum 0.5',
    stock: () => tf.train.rmsprop(1e-3, 0.9, 0.5, undefined, true),
    fused: () => new FusedRMSPropOptimizer(1e-3, 0.9, 0.5, undefined, true),
    kernel: CENTERED_RMSPROP_UPDATE,
    slots: ['rms', 'momentum', 'mg'],
  },
];

/** Odd sizes: a scalar, fewer elements than a SIMD vector holds plus a remainder, a matrix, a long odd vector. */
const shapes: number[][] = [[], [7], [3, 5, 4], [10003]];

let created = 0;

/** Variables of `shapes`, normally distributed from `seed`, with names no other test uses. */
function makeVariables(seed: number): tf.Variable[] {
  const rng = Rng.fromSeed(seed);
  created += 1;
  return shapes.map((shape, i) =>
    tf.variable(
      tf.tensor(rng.fillNormal(new Float32Array(tf.util.sizeFromShape(shape))), shape),
      true,
      `fused-test-${created}/w${i}`,
    ),
  );
}

/** The gradients of step `step`, the same for every call with the same step; some elements tiny, some always zero. */
function gradientsAt(variables: tf.Variable[], step: number): { name: string; tensor: tf.Tensor }[] {
  const rng = Rng.fromSeed(1000 + step);
  return variables.map((variable) => {
    const values = rng.fillNormal(new Float32Array(variable.size));
    for (let i = 0; i < values.length; i += 11) values[i] = 0;
    for (let i = 5; i < values.length; i += 13) values[i]! *= 1e-20;
    return { name: variable.name, tensor: tf.tensor(values, variable.shape) };
  });
}

function applySteps(optimizer: tf.Optimizer, variables: tf.Variable[], from: number, to: number): void {
  for (let step = from; step < to; step++) {
    const gradients = gradientsAt(variables, step);
    optimizer.applyGradients(gradients);
    tf.dispose(gradients.map((g) => g.tensor));
  }
}

interface State {
  values: Float32Array[];
  weights: { name: string; values: Float32Array }[];
}

async function stateOf(optimizer: tf.Optimizer, variables: tf.Variable[]): Promise<State> {
  const weights = await optimizer.getWeights();
  return {
    values: variables.map((v) => v.dataSync().slice() as Float32Array),
    // Slot names carry the test's variable prefix; drop it to compare layouts.
    weights: weights.map((w) => ({
      name: w.name.replace(/^fused-test-\d+\//, ''),
      values: w.tensor.dataSync().slice() as Float32Array,
    })),
  };
}

/** Asserts the same float32 bits, except that any NaN equals any NaN (their sign bits differ by platform). */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i])))
      assert.fail(`${what}[${i}]: ${actual[i]} but tfjs gives ${expected[i]}`);
  }
}

function assertSameState(actual: State, expected: State, what: string): void {
  actual.values.forEach((v, i) => assertSameBits(v, expected.values[i]!, `${what}: variable ${i}`));
  assert.deepEqual(
    actual.weights.map((w) => w.name),
    expected.weights.map((w) => w.name),
    `${what}: optimizer weight layout`,
  );
  actual.weights.forEach((w, i) => assertSameBits(w.values, expected.weights[i]!.values, `${what}: optimizer weight ${w.name}`));
}

/** The kernels one call of `f` runs, by name, in order. */
async function kernelsRun(f: () => void): Promise<string[]> {
  return (await tf.profile(f)).kernels.map((k) => k.name);
}

function dispose(optimizers: tf.Optimizer[], variables: tf.Variable[]): void {
  optimizers.forEach((o) => o.dispose());
  tf.dispose(variables);
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const c of cases) {
    test(`fused ${c.name} on ${backend}: 5 steps give tfjs' variables and state bit for bit, one kernel per variable`, async () => {
      await selectBackend(backend);
      const [stock, fused] = [c.stock(), c.fused()];
      const [stockVars, fusedVars] = [makeVariables(1), makeVariables(1)];
      const initial = fusedVars.map((v) => v.dataSync().slice() as Float32Array);
      applySteps(stock, stockVars, 0, 5);
      const kernels = await kernelsRun(() => applySteps(fused, fusedVars, 0, 1));
      assert.equal(kernels.filter((k) => k === c.kernel).length, shapes.length, `one ${c.kernel} per variable`);
      assert.ok(!kernels.includes('Sqrt'), 'no op-by-op update');
      applySteps(fused, fusedVars, 1, 5);
      const [actual, expected] = [await stateOf(fused, fusedVars), await stateOf(stock, stockVars)];
      assert.equal(fused.getClassName(), stock.getClassName());
      assert.deepEqual(
        actual.weights.map((w) => w.name),
        ['iter', ...c.slots.flatMap((slot) => shapes.map((_, i) => `w${i}/${slot}`))],
      );
      assertSameState(actual, expected, `${c.name} on ${backend}`);
      assert.ok(
        actual.values[3]!.some((x, i) => x !== initial[3]![i] && !Number.isNaN(x)),
        'the variables moved',
      );
      dispose([stock, fused], [...stockVars, ...fusedVars]);
    });

    test(`fused ${c.name} on ${backend}: weights saved by either optimizer resume in the other as in tfjs' own`, async () => {
      await selectBackend(backend);
      const resumed = async (first: tf.Optimizer, second: tf.Optimizer): Promise<State> => {
        const vars = makeVariables(2);
        applySteps(first, vars, 0, 3);
        // The second optimizer takes the first one's own tensors: it must not write into them.
        await second.setWeights(await first.getWeights());
        const saved = await stateOf(first, vars);
        applySteps(second, vars, 3, 5);
        const state = await stateOf(second, vars);
        assertSameState({ ...(await stateOf(first, vars)), values: saved.values }, saved, 'the saved weights, after resuming');
        dispose([first, second], vars);
        return state;
      };
      // tfjs' Adam recomputes β^t on restore, so the reference is tfjs' optimizer resumed from its own weights.
      const reference = await resumed(c.stock(), c.stock());
      assertSameState(await resumed(c.stock(), c.fused()), reference, `tfjs' ${c.name} saved, fused resumed`);
      assertSameState(await resumed(c.fused(), c.stock()), reference, `fused ${c.name} saved, tfjs' resumed`);
    });
  }

  test(`fused optimizers on ${backend}: minimize with a var list updates only those, as tfjs does, and leaks no tensor`, async () => {
    await selectBackend(backend);
    const untouched = makeVariables(3).map((v) => {
      const values = v.dataSync().slice() as Float32Array;
      v.dispose();
      return values;
    });
    for (const c of cases) {
      const run = (optimizer: tf.Optimizer): Float32Array[] => {
        const vars = makeVariables(3);
        const listed = [vars[1]!, vars[3]!];
        const loss = (): tf.Scalar => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.square(v), i + 1)))) as tf.Scalar;
        optimizer.minimize(loss, false, listed);
        const tensors = tf.memory().numTensors;
        for (let step = 1; step < 5; step++) optimizer.minimize(loss, false, listed);
        assert.equal(tf.memory().numTensors, tensors, `${c.name}: tensor count across steps`);
        const values = vars.map((v) => v.dataSync().slice() as Float32Array);
        dispose([optimizer], vars);
        return values;
      };
      const expected = run(c.stock());
      const actual = run(c.fused());
      actual.forEach((values, i) => assertSameBits(values, expected[i]!, `${c.name}: variable ${i}`));
      assertSameBits(actual[0]!, untouched[0]!, `${c.name}: unlisted variable 0`);
      assert.ok(
        actual[1]!.some((x, i) => x !== untouched[1]![i]),
        `${c.name}: listed variable 1 moved`,
      );
    }
  });
}

test('a fused update kernel refuses inputs of the wrong shape, naming the input', async () => {
  new FusedAdamOptimizer(1e-3).dispose();
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    tf.tidy(() => {
      const [value, m, v, gradient, scalar] = [tf.zeros([5]), tf.zeros([5]), tf.zeros([5]), tf.zeros([5]), tf.scalar(0.5)];
      const run = (inputs: Record<string, tf.Tensor>) => () =>
        tf
          .engine()
          .runKernel(
            ADAM_UPDATE,
            { value, m, v, gradient, oneMinusAccBeta1: scalar, oneMinusAccBeta2: scalar, ...inputs },
            { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
          );
      assert.throws(run({ m: tf.zeros([4]) }), /input "m" has shape \[4\], but must be the shape of "value" \[5\]/);
      assert.throws(run({ v: tf.scalar(0) }), /input "v" has shape \[\], but must be the shape of "value"/);
      assert.throws(
        run({ gradient: tf.zeros([1, 5]) }),
        /input "gradient" has shape \[1, 5\], but must be the shape of "value" \[5\]/,
      );
      assert.throws(run({ oneMinusAccBeta2: tf.zeros([5]) }), /input "oneMinusAccBeta2" has shape \[5\], but must be a scalar/);
      assert.throws(run({ gradient: tf.zeros([5], 'int32') }), /input "gradient" must be float32, got int32/);
    });
  }
});

test("fused optimizers take tfjs' own path on a backend without their kernel", async () => {
  await selectBackend('cpu');
  for (const c of [cases[1]!, cases[4]!]) {
    const [stock, fused] = [c.stock(), c.fused()];
    const [stockVars, fusedVars] = [makeVariables(4), makeVariables(4)];
    const kernel = tf.getKernel(c.kernel, 'cpu')!;
    tf.unregisterKernel(c.kernel, 'cpu');
    try {
      applySteps(stock, stockVars, 0, 3);
      const kernels = await kernelsRun(() => applySteps(fused, fusedVars, 0, 3));
      assert.ok(kernels.includes('Sqrt') && !kernels.includes(c.kernel), `${c.name}: tfjs' ops`);
      assertSameState(await stateOf(fused, fusedVars), await stateOf(stock, stockVars), `${c.name} without its kernel`);
    } finally {
      tf.registerKernel(kernel);
      dispose([stock, fused], [...stockVars, ...fusedVars]);
    }
  }
});
