// `node bench/dist/optimizer-step.js [--model dcgan-mnist] [--backend wasm|cpu]`: ms for one optimizer
// update of both players' variables, tfjs' Adam and RMSProp beside the fused ones a config's players get
// (G's Adam and, here, D's RMSProp, with the config's default settings). Runs alternate between the two so that load from other processes falls on both.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { buildPlayers, disposePlayers, parseTrainConfig, selectBackend } from '@gantry/training';
import { benchModels } from './models.js';

const rounds = 5;
const updatesPerRound = 10;

/** ms per applyGradients, per round. */
function timeUpdates(optimizer: tf.Optimizer, gradients: { name: string; tensor: tf.Tensor }[]): number {
  const started = performance.now();
  for (let i = 0; i < updatesPerRound; i++) optimizer.applyGradients(gradients);
  return (performance.now() - started) / updatesPerRound;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string', default: 'dcgan-mnist' }, backend: { type: 'string', default: 'wasm' } },
  });
  const model = benchModels.find((m) => m.name === values.model);
  if (model === undefined)
    throw new Error(`--model ${values.model} is not a bench model; choose from ${benchModels.map((m) => m.name).join(', ')}`);
  if (values.backend !== 'wasm' && values.backend !== 'cpu')
    throw new Error(`--backend must be wasm or cpu, got ${values.backend}`);
  const backend = await selectBackend(values.backend);
  const config = parseTrainConfig({
    ...model.config,
    optimizer: { generator: { type: 'adam' }, discriminator: { type: 'rmsprop' } },
  });
  const players = buildPlayers(config, model.sampleShape);
  const variables = [...players.generator.trainableWeights, ...players.discriminator.trainableWeights].map(
    (w) => w.read() as tf.Variable,
  );
  const gradients = variables.map((v) => ({ name: v.name, tensor: tf.randomNormal(v.shape, 0, 1e-3, 'float32', 7) }));
  const parameters = variables.reduce((sum, v) => sum + v.size, 0);
  console.log(
    `${model.name} on ${backend.detail}: ${variables.length} variables, ${parameters} parameters; ms per update of all of them (median of ${rounds} rounds of ${updatesPerRound})`,
  );
  const [adam, rmsprop] = [config.optimizer.generator, config.optimizer.discriminator];
  if (adam.type !== 'adam' || rmsprop.type !== 'rmsprop')
    throw new Error('optimizer-step: the config did not take the optimizer types asked for');
  const pairs = [
    {
      name: 'Adam',
      stock: tf.train.adam(adam.learningRate, adam.beta1, adam.beta2, adam.epsilon),
      fused: players.generatorOptimizer,
    },
    {
      name: 'RMSProp',
      stock: tf.train.rmsprop(rmsprop.learningRate, rmsprop.decay, rmsprop.momentum, rmsprop.epsilon, rmsprop.centered),
      fused: players.discriminatorOptimizer,
    },
  ];
  try {
    for (const { name, stock, fused } of pairs) {
      // The first update creates the optimizer's state.
      timeUpdates(stock, gradients);
      timeUpdates(fused, gradients);
      const times = { stock: [] as number[], fused: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        times.stock.push(timeUpdates(stock, gradients));
        times.fused.push(timeUpdates(fused, gradients));
      }
      const [s, f] = [median(times.stock), median(times.fused)];
      console.log(
        `${name.padEnd(8)} tfjs ${s.toFixed(2).padStart(7)} ms   fused ${f.toFixed(2).padStart(7)} ms   ${(s / f).toFixed(1)}× faster`,
      );
    }
  } finally {
    pairs.forEach((pair) => pair.stock.dispose());
    tf.dispose(gradients.map((g) => g.tensor));
    disposePlayers(players);
  }
}

main().catch((error: unknown) => {
  console.error(`optimizer-step: ${(error as Error).message}`);
  process.exitCode = 1;
});
