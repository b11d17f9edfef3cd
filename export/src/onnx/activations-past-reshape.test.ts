import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { decodeModel } from '@gantry/files/onnx';
import { createSession } from '@gantry/inference-node';
import { GraphBuilder } from './graph.js';

const [LATENT, C, H, W] = [5, 3, 2, 4];
const FEATURES = C * H * W;

function randomValues(count: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: count }, () => rng.nextNormal());
}

/**
 * latent → MatMul (or, without `dense`, features straight from the input) → BatchNormalization → LeakyRelu →
 * Reshape [C, H, W] → Tanh; with `shareActivation` the LeakyRelu's output is a graph output too.
 */
function buildGraph(dense: boolean, shareActivation = false): GraphBuilder {
  const graph = new GraphBuilder('activation_test');
  const latent = graph.addInput({ name: 'latent', dims: ['batch', dense ? LATENT : FEATURES] });
  let x = dense
    ? graph.addNode('MatMul', [latent, graph.addWeight('kernel', [LATENT, FEATURES], randomValues(LATENT * FEATURES, 1))])
    : latent;
  const bn = ['gamma', 'beta', 'mean', 'variance'].map((name, i) =>
    graph.addWeight(
      name,
      [FEATURES],
      randomValues(FEATURES, 10 + i).map((v) => (i === 3 ? 0.5 + Math.abs(v) : v)),
    ),
  );
  x = graph.addNode('BatchNormalization', [x, ...bn], { epsilon: { float: 1e-3 } });
  const activation = graph.addNode('LeakyRelu', [x], { alpha: { float: 0.2 } });
  x = graph.addNode('Reshape', [activation, graph.addInt64Vector('shape', [-1, C, H, W])]);
  x = graph.addNode('Tanh', [x]);
  graph.renameValue(x, 'images');
  graph.addOutput({ name: 'images', dims: ['batch', C, H, W] });
  if (shareActivation) {
    graph.renameValue(activation, 'features');
    graph.addOutput({ name: 'features', dims: ['batch', FEATURES] });
  }
  return graph;
}

const ops = (bytes: Uint8Array): string[] => decodeModel(bytes).graph.node.map((n) => n.op_type);
const options = { opset: 17, producerVersion: 'test' };

test("a Dense layer's activation moves past the Reshape into images, with the same outputs", async () => {
  const graph = buildGraph(true);
  const [plain, moved] = [graph.toBytes({ ...options, optimize: false }), graph.toBytes(options)];
  assert.deepEqual(ops(plain), ['MatMul', 'BatchNormalization', 'LeakyRelu', 'Reshape', 'Tanh']);
  assert.deepEqual(ops(moved), ['MatMul', 'BatchNormalization', 'Reshape', 'LeakyRelu', 'Tanh']);
  const latents = randomValues(3 * LATENT, 7);
  const [expected, actual] = await Promise.all(
    [plain, moved].map(async (bytes) => {
      const session = await createSession(bytes, { device: 'cpu', inputName: 'latent', outputName: 'images' });
      try {
        return (await session.run(latents, 3)).data as Float32Array;
      } finally {
        await session.release();
      }
    }),
  );
  const worst = expected!.reduce((m, v, i) => Math.max(m, Math.abs(v - actual![i]!)), 0);
  assert.ok(worst <= 1e-6, `max |difference| ${worst}`);
});

test('an activation that is not a Dense layer’s, or that something else reads, stays before the Reshape', () => {
  assert.deepEqual(ops(buildGraph(false).toBytes(options)).slice(-3), ['LeakyRelu', 'Reshape', 'Tanh']);
  assert.deepEqual(ops(buildGraph(true, true).toBytes(options)).slice(-3), ['LeakyRelu', 'Reshape', 'Tanh']);
});
