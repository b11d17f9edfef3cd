import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '@gantry/files/npy';
import { selectBackend } from '../backend/select.js';
import { checkpointGeneratorModel } from './checkpoint.js';
import { parseTrainConfig, type TrainConfigInput } from './config.js';
import { train, TrainingDivergedError } from './trainer.js';

const toyConfig: TrainConfigInput = {
  seed: 3,
  data: { dataset: 'ring-8', points: 2000 },
  model: { architecture: 'mlp', latentSize: 2, mlp: { generatorWidths: [16, 16], discriminatorWidths: [16], maxoutPieces: 2 } },
  training: { steps: 6, batchSize: 16 },
  ema: { enabled: true, decay: 0.9 },
  transforms: { packing: 2, instanceNoise: { sigma: 0.1 } },
  logging: { logEvery: 1, sampleEvery: 3, checkpointEvery: 3, sampleCount: 32 },
};

test('a toy run writes plots and .npy samples from the EMA generator, and checkpoints it as its own model', async (t) => {
  await selectBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-toy-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = parseTrainConfig(toyConfig);
  const result = await train({ runDir: dir, config, backend: 'cpu' });
  assert.equal(result.step, 6);
  const samples = (await readdir(join(dir, 'samples'))).sort();
  assert.deepEqual(samples, ['0.npy', '0.png', '3.npy', '3.png', '6.npy', '6.png']);
  const npy = decodeNpy(await readFile(join(dir, 'samples', '6.npy')));
  assert.deepEqual(npy.shape, [32, 2]);
  const png = await readFile(join(dir, 'samples', '6.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const checkpoint = join(dir, 'checkpoints', '6');
  assert.deepEqual((await readdir(checkpoint)).sort(), [
    'discriminator',
    'generator',
    'generator-ema',
    'optimizers',
    'state.json',
  ]);
  assert.equal(checkpointGeneratorModel(checkpoint, config), join(checkpoint, 'generator-ema', 'model.json'));
  const ema = await readFile(join(checkpoint, 'generator-ema', 'weights.bin'));
  const generator = await readFile(join(checkpoint, 'generator', 'weights.bin'));
  assert.equal(ema.length, generator.length);
  assert.ok(!ema.equals(generator), 'the average differs from the last iterate');
});

// Few MINRES iterations on a 17-weight critic: each step's solution depends on the warm start.
const bestResponseConfig: TrainConfigInput = {
  seed: 5,
  data: { dataset: 'ring-8', points: 500 },
  model: {
    architecture: 'mlp',
    latentSize: 2,
    mlp: { generatorWidths: [4], discriminatorWidths: [4], activation: 'tanh', maxoutPieces: 1 },
  },
  objective: 'wasserstein',
  penalty: { type: 'gradient', lambda: 1 },
  strategy: { type: 'best-response', solverIterations: 2, retractionSteps: 2 },
  training: { steps: 6, batchSize: 8 },
  logging: { logEvery: 1, sampleEvery: 3, checkpointEvery: 3, sampleCount: 16 },
};

test('interrupted toy runs resume to exactly the weights of straight runs (EMA, packing, annealed noise; best-response warm start)', async (t) => {
  await selectBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-toy-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, input, files] of [
    [
      'alternating',
      toyConfig,
      ['generator/weights.bin', 'discriminator/weights.bin', 'generator-ema/weights.bin', 'optimizers/discriminator.bin'],
    ],
    [
      'best-response',
      bestResponseConfig,
      ['generator/weights.bin', 'discriminator/weights.bin', 'optimizers/generator.bin', 'strategy.bin'],
    ],
  ] as const) {
    const config = parseTrainConfig(input);
    await train({ runDir: join(dir, name, 'straight'), config, backend: 'cpu' });
    const controller = new AbortController();
    const first = await train({
      runDir: join(dir, name, 'resumed'),
      config,
      backend: 'cpu',
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'step' && event.step === 4) controller.abort();
      },
    });
    assert.ok(first.interrupted && first.step === 4);
    const second = await train({ runDir: join(dir, name, 'resumed'), config, backend: 'cpu', resume: true });
    assert.equal(second.step, 6);
    for (const file of files) {
      const a = await readFile(join(dir, name, 'straight', 'checkpoints', '6', file));
      const b = await readFile(join(dir, name, 'resumed', 'checkpoints', '6', file));
      assert.ok(a.equals(b), `${name}: ${file} after resume equals the straight run's`);
    }
  }
});

test('a run whose loss overflows stops, names the quantity and the step, and saves the state before that step', async (t) => {
  await selectBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-diverge-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // LSGAN on the linear pair with plain SGD at rate 1: each D step multiplies θD by about −(1 + θG²) = −10,
  // so the critic overflows float32 within a few dozen steps.
  const config = parseTrainConfig({
    data: { dataset: 'gaussian-1d', points: 1000 },
    model: { architecture: 'linear', latentSize: 1, linear: { initialShift: 3, initialWeight: 0.1 } },
    objective: 'least-squares',
    optimizer: { discriminator: { type: 'sgd', learningRate: 1 }, generator: { type: 'sgd', learningRate: 1e-3 } },
    training: { steps: 200, batchSize: 8 },
    logging: { logEvery: 1, sampleEvery: 1000, checkpointEvery: 1000 },
  });
  let error: unknown;
  try {
    await train({ runDir: dir, config, backend: 'cpu' });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof TrainingDivergedError, `diverged: ${String(error)}`);
  assert.match(
    error.message,
    /training diverged: the (discriminator loss|generator loss|mean D\(x\)|mean D\(G\(z\)\)|discriminator weights) became .* at step \d+\. The state before that step is saved as /,
  );
  assert.ok(error.step > 5 && error.step < 200, `step ${error.step}`);
  const saved = join(dir, 'checkpoints', String(error.step - 1));
  assert.equal(error.checkpoint, saved);
  const state = JSON.parse(await readFile(join(saved, 'state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, error.step - 1);
  const weights = new Float32Array((await readFile(join(saved, 'discriminator', 'weights.bin'))).buffer.slice(0));
  assert.ok(weights.every(Number.isFinite), `saved weights are finite: ${Array.from(weights)}`);
  const log = (await readFile(join(dir, 'log.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(log.length, error.step - 1, 'the log ends at the last good step');
});
