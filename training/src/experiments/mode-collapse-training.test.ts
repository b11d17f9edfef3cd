import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { MODE_COLLAPSE_PARAMETERS, type ModeCollapseParameters, type ModeCollapseUnit } from './mode-collapse.js';
import { modeCollapseConfig, trainAndSample } from './mode-collapse-training.js';

test('each method’s config is PacGAN’s setup with only the method’s change', () => {
  const full = MODE_COLLAPSE_PARAMETERS.full;
  const unit = (method: ModeCollapseUnit['method']): ModeCollapseUnit => ({
    id: `grid-25_${method}_seed0`,
    method,
    mixture: 'grid-25',
    seed: 0,
  });
  const gan = modeCollapseConfig(unit('GAN'), full);
  assert.deepEqual(gan.model.mlp.generatorWidths, [400, 400, 400, 400]);
  assert.deepEqual(
    [gan.model.mlp.discriminatorWidths, gan.model.mlp.maxoutPieces, gan.model.mlp.generatorNorm],
    [[200, 200, 200], 5, 'batch'],
  );
  assert.deepEqual(
    [gan.training.batchSize, gan.optimizer.generator.learningRate, gan.transforms.packing, gan.strategy.type],
    [100, 1e-4, 1, 'simultaneous'],
  );
  assert.deepEqual(
    [
      gan.model.mlp.weightInit,
      gan.model.mlp.generatorHiddenBias,
      gan.optimizer.generator.type === 'adam' && { type: 'adam', beta1: gan.optimizer.generator.beta1 },
    ],
    ['normal', false, { type: 'adam', beta1: 0.8 }],
  );
  assert.equal(full.training.steps, 50_000);
  assert.equal(modeCollapseConfig(unit('PacGAN3'), full).transforms.packing, 3);
  const unrolled = modeCollapseConfig(unit('Unrolled5'), full).strategy;
  assert.deepEqual(unrolled.type === 'unrolled' && [unrolled.steps, unrolled.firstOrder], [5, false]);
  const wgan = modeCollapseConfig(unit('WGAN-GP'), full);
  assert.deepEqual(
    [wgan.objective, wgan.penalty.type, wgan.training.discriminatorSteps, wgan.strategy.type],
    ['wasserstein', 'gradient', 5, 'alternating'],
  );
});

test('trainAndSample trains Unrolled5 and WGAN-GP runs with checkpoints, and a rerun resumes instead of retraining', async () => {
  await selectBackend('wasm');
  const p: ModeCollapseParameters = {
    ...MODE_COLLAPSE_PARAMETERS.quick,
    samples: 50,
    training: { ...MODE_COLLAPSE_PARAMETERS.quick.training, steps: 4, checkpointEvery: 2, batchSize: 16 },
  };
  const dir = await mkdtemp(join(tmpdir(), 'gantry-mode-collapse-training-'));
  try {
    for (const method of ['Unrolled5', 'WGAN-GP'] as const) {
      const unit: ModeCollapseUnit = { id: `ring-8_${method}_seed0`, method, mixture: 'ring-8', seed: 0 };
      const unitDir = join(dir, unit.id);
      const logs: string[] = [];
      const first = await trainAndSample(unit, p, { unitDir, log: (m) => logs.push(m) });
      assert.equal(first.length, 2 * p.samples);
      assert.ok(first.every(Number.isFinite));
      assert.deepEqual(await readdir(join(unitDir, 'run', 'checkpoints')), ['2', '4']);
      const again = await trainAndSample(unit, p, { unitDir, log: (m) => logs.push(m) });
      assert.deepEqual(again, first);
      assert.ok(
        logs.some((m) => /resuming at step 4 of 4/.test(m)),
        logs.join('\n'),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
