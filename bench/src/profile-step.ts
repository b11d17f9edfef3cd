// `node bench/dist/profile-step.js`: where the time of one training step (the reference DCGAN's unless
// `--model` names another bench model) goes on the wasm backend, kernel by kernel (tf.profile: each kernel's wall time, since wasm kernels run
// synchronously). `--shapes` splits each kernel by its input shapes.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { alternatingStep, buildPlayers, disposePlayers, parseTrainConfig, selectBackend } from '@gantry/training';
import { benchModels } from './models.js';

interface Row {
  calls: number;
  ms: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'dcgan-mnist' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      shapes: { type: 'boolean', default: false },
    },
  });
  const model = benchModels.find((m) => m.name === values.model);
  if (model === undefined)
    throw new Error(`--model ${values.model} is not a bench model; choose from ${benchModels.map((m) => m.name).join(', ')}`);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`--steps must be a positive integer, got ${values.steps}`);
  if (!(Number.isInteger(warmup) && warmup >= 0))
    throw new RangeError(`--warmup must be a non-negative integer, got ${values.warmup}`);

  const backend = await selectBackend('wasm');
  const config = parseTrainConfig({ ...model.config, training: { ...model.config.training, batchSize: model.batch } });
  const players = buildPlayers(config, model.sampleShape);
  const data = model.data(Math.max(model.batch, 256));
  const rng = Rng.fromSeed(1);
  try {
    for (let i = 0; i < warmup; i++) alternatingStep(config, players, data, rng);
    const started = performance.now();
    const profile = await tf.profile(() => {
      for (let i = 0; i < steps; i++) alternatingStep(config, players, data, rng);
    });
    const wallMs = (performance.now() - started) / steps;
    const rows = new Map<string, Row>();
    for (const kernel of profile.kernels) {
      const key = values.shapes ? `${kernel.name} ${JSON.stringify(kernel.inputShapes)}` : kernel.name;
      const row = rows.get(key) ?? { calls: 0, ms: 0 };
      row.calls += 1;
      row.ms += kernel.kernelTimeMs as number;
      rows.set(key, row);
    }
    const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const kernelMs = sorted.reduce((sum, [, row]) => sum + row.ms, 0) / steps;
    console.log(
      `${model.name} on ${backend.detail}: ${wallMs.toFixed(0)} ms/step while profiled, ${kernelMs.toFixed(0)} ms in kernels`,
    );
    console.log('   ms/step  calls/step  kernel');
    for (const [key, row] of sorted) {
      if (row.ms / steps < 0.5) continue;
      console.log(`${(row.ms / steps).toFixed(1).padStart(10)}  ${(row.calls / steps).toFixed(0).padStart(10)}  ${key}`);
    }
  } finally {
    disposePlayers(players);
  }
}

main().catch((error: unknown) => {
  console.error(`profile-step: ${(error as Error).message}`);
  process.exitCode = 1;
});
