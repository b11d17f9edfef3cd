import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLatents } from '@gantry/latent';
import { CUDA_INSTALL_HINT, OnnxRuntimeError, ProviderUnavailableError, createSession, cudaProviderInstalled } from './onnx-runtime.js';
import { buildTinyGeneratorOnnx, tinyModelReference } from './testing/tiny-model.js';

const scratch = await mkdtemp(join(tmpdir(), 'gantry-ort-'));
after(() => rm(scratch, { recursive: true, force: true }));

const options = { latentSize: 6, shape: [3, 4, 2] as [number, number, number] };
const modelPath = join(scratch, 'tiny.onnx');
await writeFile(modelPath, buildTinyGeneratorOnnx(options));

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('cpu session runs a batch: float32 [n, latent] in, NHWC out matching the reference', async () => {
  const session = await createSession(modelPath, { device: 'cpu' });
  try {
    assert.equal(session.provider, 'cpu');
    assert.deepEqual(session.skipped, []);
    assert.equal(session.inputName, 'latent');
    assert.equal(session.outputName, 'image');
    for (const n of [1, 5]) {
      const latents = sampleLatents({ size: 6, distribution: 'normal' }, n, 3);
      const output = await session.run(latents, n);
      assert.deepEqual(output.dims, [n, 3, 4, 2]);
      assertClose(output.data, tinyModelReference(latents, n, options), 1e-5);
    }
    await assert.rejects(session.run(new Float32Array(7), 2), /latents.length \(7\) must be a multiple of n \(2\)/);
  } finally {
    await session.release();
  }
});

test('auto reports the provider it got and why CUDA was skipped', async () => {
  const session = await createSession(modelPath, { device: 'auto' });
  try {
    assert.ok(session.provider === 'cpu' || session.provider === 'cuda');
    if (session.provider === 'cpu') {
      assert.equal(session.skipped.length, 1);
      assert.equal(session.skipped[0]!.provider, 'cuda');
      assert.match(session.skipped[0]!.reason, /CUDA/);
    }
  } finally {
    await session.release();
  }
});

test('explicit cuda without the CUDA provider fails with installation instructions', { skip: cudaProviderInstalled() ? 'CUDA provider binaries are installed here' : false }, async () => {
  await assert.rejects(createSession(modelPath, { device: 'cuda' }), (error: Error) => {
    assert.ok(error instanceof ProviderUnavailableError);
    assert.equal(error.provider, 'cuda');
    assert.ok(error.message.includes(modelPath));
    assert.ok(error.message.includes('npm install onnxruntime-node --onnxruntime-node-install=cuda12'));
    assert.ok(error.message.includes('ONNXRUNTIME_NODE_INSTALL=cuda12'));
    assert.ok(error.message.includes(CUDA_INSTALL_HINT));
    return true;
  });
});

test('bad options and names are reported with what is allowed', async () => {
  await assert.rejects(createSession(modelPath, { device: 'gpu' as 'cpu' }), /device must be one of "auto", "cpu", "cuda", got "gpu"/);
  await assert.rejects(createSession(modelPath, { device: 'cpu', inputName: 'z' }), (error: Error) => {
    assert.ok(error instanceof OnnxRuntimeError);
    assert.match(error.message, /has no input named "z"; its inputs are \["latent"\]/);
    return true;
  });
  await assert.rejects(createSession(join(scratch, 'missing.onnx'), { device: 'cpu' }), /missing\.onnx: onnxruntime could not load the model on cpu/);
});
