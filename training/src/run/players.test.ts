import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { FusedAdamOptimizer } from '../backend/fused-adam.js';
import { FusedRMSPropOptimizer } from '../backend/fused-rmsprop.js';
import { parseTrainConfig } from './config.js';
import { copyWeights, updateEma } from './ema.js';
import { buildOptimizer, buildPlayers, disposePlayers } from './players.js';

test('each optimizer type builds the tfjs optimizer it names, with its settings (TTUR: one per player)', async () => {
  await selectBackend('cpu');
  const config = parseTrainConfig({
    optimizer: { generator: { type: 'adam', learningRate: 1e-4, beta1: 0, beta2: 0.9 }, discriminator: { type: 'rmsprop' } },
  });
  const g = buildOptimizer(config.optimizer.generator) as unknown as {
    getClassName(): string;
    learningRate: number;
    beta1: number;
    beta2: number;
  };
  const d = buildOptimizer(config.optimizer.discriminator) as unknown as {
    getClassName(): string;
    learningRate: number;
    decay: number;
  };
  assert.deepEqual([g.getClassName(), g.learningRate, g.beta1, g.beta2], ['Adam', 1e-4, 0, 0.9]);
  assert.deepEqual([d.getClassName(), d.learningRate, d.decay], ['RMSProp', 5e-5, 0.99]);
  // Adam and RMSProp update each variable in one fused kernel (backend/fused-*.ts); instanceof would not
  // tell, since tfjs makes any optimizer an instance of every optimizer class.
  assert.ok(g.constructor === FusedAdamOptimizer && d.constructor === FusedRMSPropOptimizer);
  assert.equal(buildOptimizer({ type: 'sgd', learningRate: 0.1, momentum: 0 }).getClassName(), 'SGD');
  assert.equal(buildOptimizer({ type: 'sgd', learningRate: 0.1, momentum: 0.9 }).getClassName(), 'Momentum');
});

test('the EMA generator starts as a copy of G and moves by (1 − d) of the gap; batch-norm statistics are copied', async () => {
  await selectBackend('cpu');
  const config = parseTrainConfig({
    data: { dataset: 'ring-8' },
    model: {
      architecture: 'mlp',
      latentSize: 2,
      mlp: { generatorWidths: [3], discriminatorWidths: [3], generatorNorm: 'batch' },
    },
    ema: { enabled: true, decay: 0.75 },
  });
  const players = buildPlayers(config, [2]);
  const ema = players.generatorEma!;
  const values = (m: typeof ema): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(values(ema), values(players.generator));
  const before = values(ema);
  // Move G: every weight + 1.
  players.generator.setWeights(players.generator.getWeights().map((w) => tf.add(w, 1)));
  updateEma(ema, players.generator, 0.75);
  const trainable = players.generator.trainableWeights.length;
  values(ema).forEach((w, i) => {
    w.forEach((v, j) => {
      const expected = i < trainable ? before[i]![j]! + 0.25 : before[i]![j]! + 1;
      assert.ok(Math.abs(v - expected) < 1e-6, `weight ${i}[${j}]: ${v}, expected ${expected}`);
    });
  });
  copyWeights(players.generator, ema);
  assert.deepEqual(values(ema), values(players.generator));
  disposePlayers(players);
  assert.equal(buildPlayers(parseTrainConfig({}), [28, 28, 1]).generatorEma, null, 'no EMA model unless enabled');
});
