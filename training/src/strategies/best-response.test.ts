import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { loadDataset, sampleShape } from '../data/datasets.js';
import { parseTrainConfig, type TrainConfigInput } from '../run/config.js';
import { buildPlayers, disposePlayers } from '../run/players.js';
import { bestResponseGradient, BestResponseStrategy } from './best-response.js';
import { criticOf, discriminatorTerms, drawBatch, fakeInput, judgeOf, objectiveOf, type StepContext } from './game.js';
import { trainableVariables } from './model-weights.js';

async function setup(input: TrainConfigInput): Promise<StepContext> {
  const config = parseTrainConfig(input);
  const data = await loadDataset(config.data, { seed: config.seed });
  return { config, players: buildPlayers(config, sampleShape(data)), data, rng: Rng.fromSeed(5), step: 0 };
}

const mean = (t: tf.Tensor): number => Array.from(t.dataSync()).reduce((a, b) => a + b, 0) / t.size;

test('on the 1-D case study (WGAN-GP, linear critic) the manifold gradient is −θD + (E z + θG)/(2λ), and w is the warm start kept', async () => {
  await selectBackend('cpu');
  const lambda = 2;
  const context = await setup({
    data: { dataset: 'gaussian-1d', points: 500 },
    model: { architecture: 'linear', latentSize: 1, linear: { initialShift: 0.7, initialWeight: 0.6 } },
    objective: 'wasserstein',
    penalty: { type: 'gradient', lambda },
    strategy: { type: 'best-response', solverIterations: 3 },
    training: { batchSize: 8 },
  });
  const batch = drawBatch(context);
  const meanFake = mean(batch.latents) + 0.7;
  // L_D = θD·(mean fake − mean real) + λ(|θD| − 1)², L_G = −θD·mean fake: b = −mean fake, H_DD = 2λ,
  // ∂²L_D/∂θG∂θD = 1, so w = −mean fake/(2λ) and G's gradient is −θD − w.
  const expectedW = -meanFake / (2 * lambda);
  const expectedGradient = -0.6 - expectedW;
  const result = bestResponseGradient(context, batch, null, 3);
  assert.ok(Math.abs(result.solution[0]! - expectedW) < 1e-5, `w ${result.solution[0]} vs ${expectedW}`);
  const gradient = result.gradient[0]!.tensor.dataSync()[0]!;
  assert.ok(Math.abs(gradient - expectedGradient) < 1e-5, `manifold gradient ${gradient} vs ${expectedGradient}`);
  assert.ok(Math.abs(result.generatorLoss + 0.6 * meanFake) < 1e-5, `G loss ${result.generatorLoss}`);

  const strategy = new BestResponseStrategy();
  assert.deepEqual(strategy.getState(), []);
  strategy.step(context);
  const state = strategy.getState();
  assert.equal(state.length, 1);
  const restored = new BestResponseStrategy();
  restored.setState(state);
  assert.deepEqual(Array.from(restored.getState()[0]!.tensor.dataSync()), Array.from(state[0]!.tensor.dataSync()));
  disposePlayers(context.players);
});

test('on a tanh MLP, w solves H_DD w = ∇_θD L_G and G gets ∇_θG[L_G − ⟨∇_θD L_D, w⟩], both against finite differences', async (t) => {
  await selectBackend('cpu');
  const context = await setup({
    seed: 4,
    data: { dataset: 'ring-8', points: 200 },
    model: {
      architecture: 'mlp',
      latentSize: 2,
      mlp: { generatorWidths: [3], discriminatorWidths: [3], activation: 'tanh', generatorNorm: 'none', maxoutPieces: 1 },
    },
    penalty: { type: 'gradient', lambda: 1 },
    strategy: { type: 'best-response' },
    training: { batchSize: 6 },
  });
  const { players, config } = context;
  const batch = drawBatch(context);
  const dVars = trainableVariables(players.discriminator);
  const gVars = trainableVariables(players.generator);
  const nD = dVars.reduce((n, v) => n + v.size, 0);
  // n iterations solve an n×n system in exact arithmetic; float32 Hessian products lose the Lanczos
  // vectors' orthogonality, so give it 3n.
  const result = bestResponseGradient(context, batch, null, 3 * nD);
  const w = result.solution;
  const critic = criticOf(players);
  const objective = objectiveOf(config);
  const flat = (ts: tf.Tensor[]): number[] => ts.flatMap((x) => Array.from(x.dataSync()));
  const dGradient = (): number[] =>
    tf.tidy(() => {
      const fakes = fakeInput(context, batch);
      const { grads } = tf.variableGrads(() => discriminatorTerms(config, judgeOf(config, players), batch, fakes).loss, dVars);
      return flat(dVars.map((v) => grads[v.name]!));
    });
  const setFlat = (variables: tf.Variable[], values: number[]): void => {
    let offset = 0;
    for (const v of variables) {
      v.assign(tf.tensor(values.slice(offset, offset + v.size), v.shape));
      offset += v.size;
    }
  };

  // H_DD w by central differences of D's (first-order, autodiff) gradient along w.
  const theta = flat(dVars);
  const h = 1e-2;
  setFlat(
    dVars,
    theta.map((x, i) => x + h * w[i]!),
  );
  const plus = dGradient();
  setFlat(
    dVars,
    theta.map((x, i) => x - h * w[i]!),
  );
  const minus = dGradient();
  setFlat(dVars, theta);
  const hw = plus.map((p, i) => (p - minus[i]!) / (2 * h));
  const b = tf.tidy(() => {
    const fakes = fakeInput(context, batch);
    const { grads } = tf.variableGrads(() => objective.generatorLoss(critic(fakes)), dVars);
    return flat(dVars.map((v) => grads[v.name]!));
  });
  const residual = Math.hypot(...hw.map((x, i) => x - b[i]!));
  const bNorm = Math.hypot(...b);
  t.diagnostic(
    `‖H_DD w − b‖ = ${residual.toExponential(2)} (FD), ‖b‖ = ${bNorm.toFixed(4)}, ‖w‖ = ${Math.hypot(...w).toFixed(3)}`,
  );
  assert.ok(residual < 1e-3 * bNorm, `w solves the Hessian system: residual ${residual} vs ‖b‖ ${bNorm}`);

  // G's gradient by central differences of L_G − ⟨∇_θD L_D, w⟩ in θG, with w fixed.
  const surrogate = (): number => {
    const gD = dGradient();
    const gLoss = tf.tidy(() => objective.generatorLoss(critic(fakeInput(context, batch))).dataSync()[0]!);
    return gLoss - gD.reduce((s, g, i) => s + g * w[i]!, 0);
  };
  const thetaG = flat(gVars);
  const numeric = thetaG.map((_, p) => {
    const at = (delta: number): number => {
      setFlat(
        gVars,
        thetaG.map((x, q) => (q === p ? x + delta : x)),
      );
      return surrogate();
    };
    const value = (at(h) - at(-h)) / (2 * h);
    setFlat(gVars, thetaG);
    return value;
  });
  const autodiff = result.gradient.flatMap((g) => Array.from(g.tensor.dataSync()));
  const scale = Math.max(...numeric.map(Math.abs));
  const error = Math.max(...autodiff.map((a, i) => Math.abs(a - numeric[i]!)));
  t.diagnostic(`max |∂/∂θG| ${scale.toFixed(4)}, |autodiff − FD| ${error.toExponential(2)}`);
  assert.ok(error <= 2e-3 * Math.max(1, scale), `manifold gradient vs finite differences off by ${error}`);
  disposePlayers(players);
});
