import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { exportGenerator } from './export.js';
import { decodeModel } from '@gantry/files/onnx';
import { parseTritonConfig, randomiseWeights, referenceGenerator } from './test-support.js';
import { tritonConfig } from './triton.js';

test('--triton writes a model repository Triton can read: config.pbtxt parsed against its schema, 1/model.onnx', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-triton-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const generator = referenceGenerator(100, 'triton_generator');
  randomiseWeights(generator, 4);
  const repository = join(work, 'triton');
  const result = await exportGenerator({
    model: generator,
    outDir: join(work, 'models', 'dcgan'),
    name: 'dcgan',
    dataset: 'mnist',
    latent: { size: 100, distribution: 'normal' },
    outputRange: [-1, 1],
    onnxChecker: 'require',
    triton: { dir: repository, maxBatchSize: 32 },
  });
  generator.dispose();
  assert.equal(result.tritonPath, join(repository, 'dcgan'));
  assert.deepEqual((await readdir(repository)).sort(), ['dcgan']);
  assert.deepEqual((await readdir(join(repository, 'dcgan'))).sort(), ['1', 'config.pbtxt']);
  const modelBytes = await readFile(join(repository, 'dcgan', '1', 'model.onnx'));
  assert.ok(modelBytes.equals(await readFile(result.onnxPath)), '1/model.onnx is the verified generator.onnx');
  assert.deepEqual(
    decodeModel(modelBytes).graph.input[0]!.type.tensor_type.shape.dim[0],
    { dim_param: 'batch' },
    'Triton batches along a dynamic first axis',
  );

  const config = parseTritonConfig(await readFile(join(repository, 'dcgan', 'config.pbtxt'), 'utf8'));
  assert.deepEqual(config, {
    name: 'dcgan',
    platform: 'onnxruntime_onnx',
    backend: '',
    max_batch_size: 32,
    input: [{ name: 'latent', data_type: 'TYPE_FP32', dims: ['100'] }],
    output: [{ name: 'images', data_type: 'TYPE_FP32', dims: ['28', '28', '1'] }],
    dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: '0' },
    instance_group: [{ name: '', kind: 'KIND_AUTO', count: 1, gpus: [] }],
  });
});

test('the Triton config of a class-conditional, uint8, NCHW generator types and shapes every tensor', () => {
  const text = tritonConfig({
    name: 'acgan',
    inputs: [
      { name: 'latent', type: 'float32', dims: [64] },
      { name: 'class', type: 'int64', dims: [1] },
    ],
    output: { name: 'images', type: 'uint8', dims: [3, 32, 32] },
  });
  const config = parseTritonConfig(text);
  assert.equal(config.max_batch_size, 64);
  assert.deepEqual(config.input, [
    { name: 'latent', data_type: 'TYPE_FP32', dims: ['64'] },
    { name: 'class', data_type: 'TYPE_INT64', dims: ['1'] },
  ]);
  assert.deepEqual(config.output, [{ name: 'images', data_type: 'TYPE_UINT8', dims: ['3', '32', '32'] }]);
});

test('the schema check is real: a field Triton does not define fails to parse', () => {
  assert.throws(() => parseTritonConfig('name: "x"\nmax_batch: 4\n'), /does not parse as a Triton ModelConfig: .*max_batch/);
});

test('a fixed batch, a bad model name or max batch size is refused before anything is written', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-triton-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const generator = referenceGenerator(10);
  const base = {
    model: generator,
    outDir: join(work, 'out'),
    name: 'g',
    dataset: 'mnist',
    latent: { size: 10, distribution: 'normal' as const },
    outputRange: [-1, 1] as [number, number],
  };
  await assert.rejects(
    exportGenerator({ ...base, batch: 4, triton: { dir: join(work, 'triton') } }),
    /a Triton repository needs a dynamic batch axis \(Triton forms the batches itself, up to max_batch_size\); export without a fixed batch \(4\)/,
  );
  await assert.rejects(
    readdir(work)
      .then((names) => (names.length > 0 ? Promise.reject(new Error(`wrote ${names.join(', ')}`)) : undefined))
      .then(() => readdir(join(work, 'out'))),
    { code: 'ENOENT' },
  );
  generator.dispose();
  const io = {
    inputs: [{ name: 'latent', type: 'float32' as const, dims: [4] }],
    output: { name: 'images', type: 'float32' as const, dims: [2, 2, 1] },
  };
  assert.throws(
    () => tritonConfig({ ...io, name: '../escape' }),
    /the Triton model name "..\/escape" must use only letters, digits, "_", "-" and "."/,
  );
  assert.throws(
    () => tritonConfig({ ...io, name: 'ok', maxBatchSize: 0 }),
    /the Triton max batch size must be an integer in \[1, 65536\], got 0/,
  );
});
