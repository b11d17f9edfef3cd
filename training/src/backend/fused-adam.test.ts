import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { ADAM_UPDATE, FusedAdamOptimizer } from './fused-adam.js';
import { applySteps, assertSameBits, assertSameState, kernelsRun, makeVariables, stateOf, testShapes, weightNames } from './fused-optimizer-testing.js';

interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon?: number;
}

// The reference DCGAN's settings, and WGAN-GP's (β1 = 0) with an explicit ε.
const settings: AdamSettings[] = [
  { learningRate: 2e-4, beta1: 0.5, beta2: 0.999 },
  { learningRate: 1e-4, beta1: 0, beta2: 0.9, epsilon: 1e-7 },
];

const stockAdam = (s: AdamSettings): tf.Optimizer => tf.train.adam(s.learningRate, s.beta1, s.beta2, s.epsilon);
const fusedAdam = (s: AdamSettings): tf.Optimizer => new FusedAdamOptimizer(s.learningRate, s.beta1, s.beta2, s.epsilon);

for (const backend of ['cpu', 'wasm'] as const) {
  test(`fused Adam on ${backend}: 5 steps give tf.train.adam's variables, m and v bit for bit, one kernel per variable`, async () => {
    await selectBackend(backend);
    for (const s of settings) {
      const what = `${backend}, ${JSON.stringify(s)}`;
      const [stock, fused] = [stockAdam(s), fusedAdam(s)];
      const [stockVars, fusedVars] = [makeVariables(testShapes, 1), makeVariables(testShapes, 1)];
      const initial = fusedVars.map((v) => v.dataSync().slice() as Float32Array);
      applySteps(stock, stockVars, 0, 5);
      const kernels = await kernelsRun(() => applySteps(fused, fusedVars, 0, 1));
      assert.equal(kernels.filter((k) => k === ADAM_UPDATE).length, testShapes.length, `${what}: one fused kernel per variable`);
      assert.ok(!kernels.includes('Sqrt'), `${what}: no per-op update`);
      applySteps(fused, fusedVars, 1, 5);
      const [actual, expected] = [await stateOf(fused, fusedVars), await stateOf(stock, stockVars)];
      assert.equal(fused.getClassName(), 'Adam');
      assert.deepEqual(weightNames(actual), weightNames(expected), `${what}: weight layout`);
      assert.deepEqual(weightNames(actual), ['iter', ...testShapes.map((_, i) => `w${i}/m`), ...testShapes.map((_, i) => `w${i}/v`)]);
      assertSameState(actual, expected, what);
      // The comparison is not between unchanged variables.
      assert.ok(actual.values[3]!.some((x, i) => x !== initial[3]![i]), `${what}: the variables moved`);
      tf.dispose([...stockVars, ...fusedVars]);
      stock.dispose();
      fused.dispose();
    }
  });

  test(`fused Adam on ${backend}: weights saved by either optimizer resume in the other as in tfjs' own`, async () => {
    await selectBackend(backend);
    const s = settings[0]!;
    // tfjs recomputes β^t on restore, so the reference is tfjs' Adam resumed from tfjs' Adam.
    const resumed = async (first: tf.Optimizer, second: tf.Optimizer) => {
      const vars = makeVariables(testShapes, 2);
      applySteps(first, vars, 0, 3);
      // The saved tensors are the first optimizer's own: resuming must not write into them.
      await second.setWeights(await first.getWeights());
      const saved = await stateOf(first, vars);
      applySteps(second, vars, 3, 5);
      const state = await stateOf(second, vars);
      (await first.getWeights()).forEach((w, i) => assertSameBits(w.tensor.dataSync() as Float32Array, saved.weights[i]!.values, `${backend}: saved weight ${w.name} unchanged`));
      tf.dispose(vars);
      first.dispose();
      second.dispose();
      return state;
    };
    const reference = await resumed(stockAdam(s), stockAdam(s));
    assertSameState(await resumed(stockAdam(s), fusedAdam(s)), reference, `${backend}: tfjs' Adam saved, fused resumed`);
    assertSameState(await resumed(fusedAdam(s), stockAdam(s)), reference, `${backend}: fused saved, tfjs' Adam resumed`);
  });

  test(`fused Adam on ${backend}: minimize with a var list updates only those, as tfjs does, and leaks no tensor`, async () => {
    await selectBackend(backend);
    const s = settings[0]!;
    const run = (optimizer: tf.Optimizer) => {
      const vars = makeVariables(testShapes, 3);
      const listed = [vars[1]!, vars[3]!];
      const loss = () => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.square(v), i + 1)))) as tf.Scalar;
      optimizer.minimize(loss, false, listed);
      const tensors = tf.memory().numTensors;
      for (let step = 1; step < 5; step++) optimizer.minimize(loss, false, listed);
      assert.equal(tf.memory().numTensors, tensors, `${backend}: tensor count across steps`);
      const values = vars.map((v) => v.dataSync().slice() as Float32Array);
      tf.dispose(vars);
      optimizer.dispose();
      return values;
    };
    const expected = run(stockAdam(s));
    const actual = run(fusedAdam(s));
    const untouched = makeVariables(testShapes, 3).map((v) => {
      const values = v.dataSync().slice() as Float32Array;
      v.dispose();
      return values;
    });
    actual.forEach((values, i) => assertSameBits(values, expected[i]!, `${backend}: variable ${i}`));
    assertSameBits(actual[0]!, untouched[0]!, `${backend}: unlisted variable 0`);
    assert.ok(actual[1]!.some((x, i) => x !== untouched[1]![i]), `${backend}: listed variable 1 moved`);
  });
}

test('fused Adam takes tfjs\' own path on a backend without its kernel', async () => {
  await selectBackend('cpu');
  const s = settings[1]!;
  const [stock, fused] = [stockAdam(s), fusedAdam(s)];
  const [stockVars, fusedVars] = [makeVariables(testShapes, 4), makeVariables(testShapes, 4)];
  const kernel = tf.getKernel(ADAM_UPDATE, 'cpu')!;
  tf.unregisterKernel(ADAM_UPDATE, 'cpu');
  try {
    applySteps(stock, stockVars, 0, 3);
    const kernels = await kernelsRun(() => applySteps(fused, fusedVars, 0, 3));
    assert.ok(kernels.includes('Sqrt') && !kernels.includes(ADAM_UPDATE));
    assertSameState(await stateOf(fused, fusedVars), await stateOf(stock, stockVars), 'without the kernel');
  } finally {
    tf.registerKernel(kernel);
    tf.dispose([...stockVars, ...fusedVars]);
    stock.dispose();
    fused.dispose();
  }
});
