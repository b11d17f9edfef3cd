import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLatents } from '@gantry/core';
import {
  CUDA_INSTALL_HINT,
  OnnxRuntimeError,
  ProviderUnavailableError,
  createSession,
  cudaProviderInstalled,
} from './onnx-runtime.js';
import { buildTinyGeneratorOnnx, tinyModelReference, type TinyModelOptions } from './testing/tiny-model.js';

const scratch = await mkdtemp(join(tmpdir(), 'gantry-ort-'));
after(() => rm(scratch, { recursive: true, force: true }));

const options = { latentSize: 6, shape: [3, 4, 2] as [number, number, number] };
const modelPath = join(scratch, 'tiny.onnx');
await writeFile(modelPath, buildTinyGeneratorOnnx(options));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('cpu session runs a batch: float32 [n, latent] in, NHWC out matching the reference', async () => {
  const session = await createSession(modelPath, { device: 'cpu' });
  try {
    assert.equal(session.provider, 'cpu');
    assert.deepEqual(session.skipped, []);
    assert.equal(session.inputName, 'latent');
    assert.equal(session.outputName, 'image');
    assert.deepEqual(session.inputNames, ['latent']);
    assert.equal(session.classInput, null);
    assert.deepEqual(session.outputInfo, { type: 'float32', dims: [null, 3, 4, 2] });
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

test('explicit cuda without the CUDA provider fails with installation instructions', {
  skip: cudaProviderInstalled() ? 'CUDA provider binaries are installed here' : false,
}, async () => {
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
  await assert.rejects(
    createSession(modelPath, { device: 'gpu' as 'cpu' }),
    /device must be one of "auto", "cpu", "cuda", got "gpu"/,
  );
  await assert.rejects(createSession(modelPath, { device: 'cpu', inputName: 'z' }), (error: Error) => {
    assert.ok(error instanceof OnnxRuntimeError);
    assert.match(error.message, /has no input named "z"; its inputs are \["latent"\]/);
    return true;
  });
  await assert.rejects(
    createSession(join(scratch, 'missing.onnx'), { device: 'cpu' }),
    /missing\.onnx: onnxruntime could not load the model on cpu/,
  );
});

test('a class input of shape [batch, 1] or [batch] is fed one class per sample; uint8 NCHW output comes back as the model lays it out', async () => {
  for (const classRank of [2, 1] as const) {
    const conditional: TinyModelOptions = { ...options, classes: 3, classRank, layout: 'NCHW', pixels: 'uint8' };
    const path = join(scratch, `conditional-${classRank}.onnx`);
    await writeFile(path, buildTinyGeneratorOnnx(conditional));
    const session = await createSession(path, { device: 'cpu', classInputName: 'class' });
    try {
      assert.deepEqual(session.inputNames, ['latent', 'class']);
      assert.deepEqual(session.classInput, { name: 'class', rank: classRank });
      assert.deepEqual(session.outputInfo, { type: 'uint8', dims: [null, 2, 3, 4] });
      const latents = sampleLatents({ size: 6, distribution: 'normal' }, 4, 5);
      const classes = Int32Array.from([0, 2, 1, 2]);
      const output = await session.run(latents, 4, classes);
      assert.ok(output.data instanceof Uint8Array);
      assert.deepEqual(output.dims, [4, 2, 3, 4]);
      // Reference pixels, NHWC → NCHW; ±1 for a rounding tie broken the other way.
      const values = tinyModelReference(latents, 4, conditional, classes);
      const expected = new Float32Array(values.length);
      values.forEach((v, i) => {
        const [sample, y, x, c] = [Math.floor(i / 24), Math.floor((i % 24) / 8), Math.floor((i % 8) / 2), i % 2];
        expected[sample * 24 + c * 12 + y * 4 + x] = Math.round((v + 1) * 127.5);
      });
      assertClose(output.data, expected, 1);
      await assert.rejects(
        session.run(latents, 4),
        /the model is class-conditional \(input "class"\); pass classes, one class index per sample/,
      );
      await assert.rejects(
        session.run(latents, 4, Int32Array.of(1)),
        /classes must be an Int32Array of n = 4 class indices, got 1 values/,
      );
    } finally {
      await session.release();
    }
  }
  const unconditional = await createSession(modelPath, { device: 'cpu' });
  try {
    await assert.rejects(
      unconditional.run(new Float32Array(6), 1, Int32Array.of(0)),
      /classes were given but the session has no class input/,
    );
  } finally {
    await unconditional.release();
  }
  await assert.rejects(
    createSession(modelPath, { device: 'cpu', classInputName: 'label' }),
    /has no input named "label"; its inputs are \["latent"\]/,
  );
  await assert.rejects(
    createSession(modelPath, { device: 'cpu', classInputName: 'latent' }),
    /the class input and the latent input are both "latent"/,
  );
});
