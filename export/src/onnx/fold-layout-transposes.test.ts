import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { decodeModel } from '@gantry/files/onnx';
import { createSession } from '@gantry/inference-node';
import { GraphBuilder } from './graph.js';

const [LATENT, H, W, C] = [5, 3, 2, 4];
const FEATURES = H * W * C;

function randomValues(count: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: count }, () => rng.nextNormal());
}

/**
 * latent → Gemm(+bias) → BatchNormalization → Relu → Reshape [H, W, C] → Transpose to NCHW → Conv → Transpose to NHWC,
 * the converter's pattern; `shareKernel` also feeds the kernel to a second output, which must block the fold.
 */
function buildGraph(weights: 'float32' | 'float16', shareKernel = false): GraphBuilder {
  const graph = new GraphBuilder('fold_test', weights);
  const latent = graph.addInput({ name: 'latent', dims: ['batch', LATENT] });
  const kernel = graph.addWeight('kernel', [LATENT, FEATURES], randomValues(LATENT * FEATURES, 1));
  const bias = graph.addWeight('bias', [FEATURES], randomValues(FEATURES, 2));
  let x = graph.addNode('Gemm', [latent, kernel, bias]);
  const positive = (seed: number): Float32Array => randomValues(FEATURES, seed).map((v) => 0.5 + Math.abs(v));
  const bn = ['gamma', 'beta', 'mean', 'variance'].map((name, i) =>
    graph.addWeight(name, [FEATURES], i === 3 ? positive(10 + i) : randomValues(FEATURES, 10 + i)),
  );
  x = graph.addNode('BatchNormalization', [x, ...bn], { epsilon: { float: 1e-3 } });
  x = graph.addNode('Relu', [x]);
  x = graph.addNode('Reshape', [x, graph.addInt64Vector('shape', [-1, H, W, C])]);
  x = graph.addNode('Transpose', [x], { perm: [0, 3, 1, 2] });
  const filter = graph.addWeight('filter', [2, C, 2, 2], randomValues(2 * C * 4, 3));
  x = graph.addNode('Conv', [x, filter], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] });
  x = graph.addNode('Transpose', [x], { perm: [0, 2, 3, 1] });
  graph.renameValue(x, 'images');
  graph.addOutput({ name: 'images', dims: ['batch', H, W, 2] });
  if (shareKernel) {
    graph.renameValue(graph.addNode('Identity', [kernel]), 'kernel_copy');
    graph.addOutput({ name: 'kernel_copy', dims: [LATENT, FEATURES] });
  }
  return graph;
}

async function run(bytes: Uint8Array, n: number): Promise<Float32Array> {
  const session = await createSession(bytes, { device: 'cpu', inputName: 'latent', outputName: 'images' });
  try {
    return (await session.run(randomValues(n * LATENT, 7), n)).data as Float32Array;
  } finally {
    await session.release();
  }
}

const ops = (bytes: Uint8Array): string[] => decodeModel(bytes).graph.node.map((n) => n.op_type);

test('the layout Transpose after a Dense layer reshaped into images folds into the weights, with the same outputs', async () => {
  for (const weights of ['float32', 'float16'] as const) {
    const graph = buildGraph(weights);
    const options = { opset: 17, producerVersion: 'test' };
    const plain = graph.toBytes({ ...options, optimize: false });
    const folded = graph.toBytes(options);
    assert.equal(ops(plain).filter((op) => op === 'Transpose').length, 2);
    assert.deepEqual(
      ops(folded).filter((op) => op !== 'Cast'),
      ['Gemm', 'BatchNormalization', 'Reshape', 'Relu', 'Conv', 'Transpose'],
      weights,
    );
    const [expected, actual] = [await run(plain, 3), await run(folded, 3)];
    const worst = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - actual[i]!)), 0);
    assert.ok(worst < 1e-5, `${weights}: max |difference| ${worst}`);
  }
});

test('a kernel that something else also reads is left alone, and so is its Transpose', () => {
  const bytes = buildGraph('float32', true).toBytes({ opset: 17, producerVersion: 'test' });
  assert.equal(ops(bytes).filter((op) => op === 'Transpose').length, 2);
});
