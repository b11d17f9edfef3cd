// A class-conditional run through the CLI: `gantry sample --run DIR --class K` and `gantry export --run
// DIR`, whose ONNX model takes the int64 class input beside the latent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkParity, loadLayersModelFromFile } from '@gantry/export';
import { decodeNpy } from '@gantry/files/npy';
import { sampleLatents } from '@gantry/core';
import { checkpointGeneratorModel, parseTrainConfig, sampleCheckpoint, selectBackend, train } from '@gantry/training';
import { exportCommand } from './export.js';
import { sampleCommand } from './sample.js';

test('gantry sample --class and gantry export on a class-conditional run', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-cli-conditional-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await selectBackend('wasm');
  const config = parseTrainConfig({
    seed: 2,
    data: { dataset: 'mnist', limit: 32 },
    model: {
      latentSize: 4,
      generatorWidth: 8,
      discriminatorWidth: 4,
      conditional: { discriminator: 'auxiliary-classifier', embeddingSize: 3 },
    },
    training: { steps: 2, batchSize: 4 },
    ema: { enabled: true, decay: 0.5 },
    logging: { sampleEvery: 2, checkpointEvery: 2, sampleCount: 10 },
  });
  const runDir = join(work, 'run');
  await train({ runDir, config, backend: 'wasm' });
  const checkpoint = join(runDir, 'checkpoints', '2');

  const npyPath = join(work, 'threes.npy');
  await sampleCommand(['--run', runDir, '--class', '3', '--n', '2', '--seed', '5', '--out', npyPath]);
  const npy = decodeNpy(await readFile(npyPath));
  assert.deepEqual(npy.shape, [2, 28, 28, 1]);
  assert.deepEqual(
    Array.from(npy.data),
    Array.from((await sampleCheckpoint(checkpoint, config, 2, 5, 3)).values),
    'the samples of class 3',
  );
  assert.notDeepEqual(
    Array.from(npy.data),
    Array.from((await sampleCheckpoint(checkpoint, config, 2, 5, 4)).values),
    'not those of class 4',
  );
  await assert.rejects(sampleCommand(['--run', runDir, '--class', '10', '--out', npyPath]), {
    name: 'UsageError',
    message: /gantry sample: --class must be an integer in \[0, 9\] \(the run's classes: 0 0, 1 1, .*, 9 9\), got "10"/,
  });
  await assert.rejects(
    sampleCommand(['--run', runDir, '--class', 'two', '--out', npyPath]),
    /--class must be an integer in \[0, 9\]/,
  );
  // An unconditional run folder (a config without model.conditional and a checkpoint).
  const plainRun = join(work, 'plain');
  await mkdir(join(plainRun, 'checkpoints', '1'), { recursive: true });
  await writeFile(join(plainRun, 'config.json'), '{}');
  await writeFile(join(plainRun, 'checkpoints', '1', 'state.json'), '{}');
  await assert.rejects(
    sampleCommand(['--run', plainRun, '--class', '1', '--out', npyPath]),
    /--class applies to class-conditional runs, but .*plain was trained without model.conditional/,
  );

  const modelDir = join(work, 'models', 'cond');
  await exportCommand(['--run', runDir, '--out', modelDir]);
  const card = JSON.parse(await readFile(join(modelDir, 'card.json'), 'utf8')) as {
    classInput?: unknown;
    latent: unknown;
    parity: { maxAbsDiff: number };
  };
  assert.deepEqual(
    card.classInput,
    { name: 'class', classes: 10, names: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
    "the run's class names travel into the card",
  );
  assert.deepEqual(card.latent, { size: 4, distribution: 'normal' });
  assert.ok(card.parity.maxAbsDiff <= 1e-5, `parity ${card.parity.maxAbsDiff}`);
  // The exported EMA generator follows the class input: it agrees with tfjs on a batch of one class and on another.
  const generator = await loadLayersModelFromFile(checkpointGeneratorModel(checkpoint, config));
  const onnx = await readFile(join(modelDir, 'generator.onnx'));
  const latents = sampleLatents({ size: 4, distribution: 'normal' }, 4, 9);
  for (const label of [2, 8]) {
    assert.ok(
      (await checkParity(generator, onnx, [latents, new Int32Array(4).fill(label)], 4)) <= 1e-5,
      `class ${label}: ONNX agrees with tfjs`,
    );
  }
  // The exported folder samples by class too, and its class-3 samples are the run's (same latents, same class).
  const modelThrees = join(work, 'model-threes.npy');
  await sampleCommand(['--model', modelDir, '--class', '3', '--n', '2', '--seed', '5', '--out', modelThrees]);
  const fromRun = await sampleCheckpoint(checkpoint, config, 2, 5, 3);
  const fromModel = decodeNpy(await readFile(modelThrees)).data;
  fromModel.forEach((v, i) =>
    assert.ok(Math.abs(v - fromRun.values[i]!) <= 1e-4, `model vs run sample value ${i}: ${v} vs ${fromRun.values[i]}`),
  );
  await assert.rejects(
    sampleCommand(['--model', modelDir, '--class', '10', '--out', npyPath]),
    /--class must be an integer in \[0, 9\] \(the model's classes: 0 0, 1 1, .*, 9 9\), got "10"/,
  );
  generator.dispose();
});
