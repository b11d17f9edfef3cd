import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// The thread count is fixed when a process starts the wasm backend, so each count runs in its own
// process: five training steps of a small DCGAN, and of the mode-collapse experiment's MLP pair
// (batch norm, maxout, packing; its quick size), then every weight of both players.
const script = `
import { Rng } from '@gantry/core';
import { selectBackend, buildPlayers, alternatingStep, parseTrainConfig, modeCollapseConfig, MODE_COLLAPSE_PARAMETERS, generateToyDataset } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
const backend = await selectBackend('wasm');
function trainedWeights(config, sampleShape, data) {
  const players = buildPlayers(config, sampleShape);
  const rng = Rng.fromSeed(4);
  for (let i = 0; i < 5; i++) alternatingStep(config, players, data, rng);
  return [...players.generator.getWeights(), ...players.discriminator.getWeights()].flatMap((w) => Array.from(w.dataSync()));
}
const dcgan = parseTrainConfig({ model: { latentSize: 16, generatorWidth: 16, discriminatorWidth: 8 }, training: { batchSize: 8 } });
const images = new Float32Array(32 * 784).map((_, i) => Math.sin(i));
const weights = trainedWeights(dcgan, [28, 28, 1], { name: 'waves', count: 32, shape: [28, 28, 1], images });
const mlp = modeCollapseConfig({ id: 'threads', method: 'PacGAN2', mixture: 'grid-25', seed: 0 }, MODE_COLLAPSE_PARAMETERS.quick);
const mlpWeights = trainedWeights(mlp, [2], generateToyDataset('grid-25', 256, Rng.fromSeed(5)));
console.log(JSON.stringify({ detail: backend.detail, weights, mlpWeights }));
`;

interface Trained {
  detail: string;
  weights: number[];
  mlpWeights: number[];
}

function run(threads: number): Trained {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: new URL('.', import.meta.url).pathname,
    env: { ...process.env, GANTRY_WASM_THREADS: String(threads) },
    timeout: 120_000,
  });
  assert.equal(child.status, 0, `child with ${threads} thread(s) failed (signal ${child.signal}):\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Trained;
}

test('training on 2 wasm threads gives the weights of 1 thread, and the process exits by itself', (t) => {
  const single = run(1);
  const double = run(2);
  assert.match(single.detail, /wasm \(1 thread\)/);
  assert.match(double.detail, /wasm \(2 threads\)/);
  assert.equal(double.weights.length, single.weights.length);
  let worst = 0;
  for (let i = 0; i < single.weights.length; i++) worst = Math.max(worst, Math.abs(double.weights[i]! - single.weights[i]!));
  t.diagnostic(`max weight difference between 1 and 2 threads after 5 steps: ${worst}`);
  assert.ok(worst <= 1e-6, `max weight difference ${worst}`);
  // The MLP's kernels (matmuls, Gantry's single-threaded SIMD loops) give the same bits.
  assert.equal(double.mlpWeights.length, single.mlpWeights.length);
  assert.ok(single.mlpWeights.length > 0);
  single.mlpWeights.forEach((w, i) =>
    assert.ok(Object.is(double.mlpWeights[i], w), `MLP weight [${i}]: ${double.mlpWeights[i]} on 2 threads vs ${w} on 1`),
  );
});
