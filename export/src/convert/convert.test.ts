import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/latent';
import { measureParity } from '../parity.js';
import { convertLayersModel } from './convert.js';
import { permute } from './layers.js';

const latentSize = 6;

function generator(body: (m: tfl.Sequential) => void, start: [number, number, number]): tfl.Sequential {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ inputShape: [latentSize], units: start[0] * start[1] * start[2], useBias: false, kernelInitializer: 'glorotNormal' }));
  m.add(tfl.layers.reshape({ targetShape: start }));
  body(m);
  return m;
}

/** Randomises every weight (BN statistics included) so no layer is an accidental identity. */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  model.setWeights(model.getWeights().map((w, i) => (/moving_variance/.test(model.weights[i]!.name) ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', seed + i) : tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i))));
}

const python = '/usr/bin/python3';
const onnxCheckerAvailable = spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

function checkWithOnnx(path: string): void {
  const result = spawnSync(python, ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)', path], { encoding: 'utf8' });
  assert.equal(result.status, 0, `ONNX checker rejected ${path}:\n${result.stderr}`);
}

interface Case {
  label: string;
  build: () => tfl.Sequential;
}

const cases: Case[] = [];
for (const stride of [1, 2]) {
  for (const kernelSize of [3, 4, 5]) {
    for (const padding of ['same', 'valid'] as const) {
      cases.push({
        label: `Conv2DTranspose k${kernelSize} s${stride} ${padding} + BN + ReLU`,
        build: () =>
          generator((m) => {
            m.add(tfl.layers.conv2dTranspose({ filters: 3, kernelSize, strides: stride, padding, useBias: false }));
            m.add(tfl.layers.batchNormalization());
            m.add(tfl.layers.reLU());
            m.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'tanh' }));
          }, [5, 3, 4]),
      });
      cases.push({
        label: `Conv2D k${kernelSize} s${stride} ${padding} + LeakyReLU + Flatten + Dense + Reshape`,
        build: () =>
          generator((m) => {
            m.add(tfl.layers.conv2d({ filters: 4, kernelSize, strides: stride, padding }));
            m.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
            m.add(tfl.layers.flatten());
            m.add(tfl.layers.dense({ units: 12, activation: 'sigmoid' }));
            m.add(tfl.layers.reshape({ targetShape: [2, 3, 2] }));
          }, [7, 9, 3]),
      });
    }
  }
}
cases.push({
  label: 'reference DCGAN generator (Dense·BN·ReLU → ConvT·BN·ReLU → ConvT·tanh)',
  build: () => {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ inputShape: [latentSize], units: 7 * 7 * 16, useBias: false }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.reLU());
    m.add(tfl.layers.reshape({ targetShape: [7, 7, 16] }));
    m.add(tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.reLU());
    m.add(tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }));
    return m;
  },
});
cases.push({
  label: 'Activation layers (elu, softplus, relu6) and Dropout',
  build: () =>
    generator((m) => {
      m.add(tfl.layers.activation({ activation: 'elu' }));
      m.add(tfl.layers.dropout({ rate: 0.5 }));
      m.add(tfl.layers.activation({ activation: 'softplus' }));
      m.add(tfl.layers.activation({ activation: 'relu6' }));
    }, [2, 2, 3]),
});

test('every converter matches tfjs through onnxruntime-node (max abs diff ≤ 1e-5) and passes the ONNX checker', async (t) => {
  await tf.setBackend('cpu');
  if (!onnxCheckerAvailable) t.diagnostic(`ONNX checker skipped: ${python} has no onnx module (apt-get install python3-onnx)`);
  const work = await mkdtemp(join(tmpdir(), 'gantry-convert-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    const model = c.build();
    randomiseWeights(model, 100 * i);
    for (const batch of [null, 3]) {
      const converted = convertLayersModel(model, { batch });
      const path = join(work, `case-${i}-${batch ?? 'dynamic'}.onnx`);
      await writeFile(path, converted.bytes);
      const n = batch ?? 5;
      const { maxAbsDiff } = await measureParity(model, path, sampleLatents({ size: latentSize, distribution: 'normal' }, n, i), n);
      assert.ok(maxAbsDiff <= 1e-5, `${c.label} (batch ${batch ?? 'dynamic'}): max abs diff ${maxAbsDiff}`);
      worst = Math.max(worst, maxAbsDiff);
      if (onnxCheckerAvailable) checkWithOnnx(path);
    }
    model.dispose();
  }
  t.diagnostic(`worst max abs diff over ${cases.length} models: ${worst.toExponential(2)}`);
});

test('an unsupported layer is named, with its class and the supported classes', async () => {
  await tf.setBackend('cpu');
  const model = generator((m) => m.add(tfl.layers.upSampling2d({ size: [2, 2] })), [2, 2, 1]);
  assert.throws(() => convertLayersModel(model), /layer "up_sampling2d\w*" of class UpSampling2D cannot be exported; supported layer classes: .*Conv2DTranspose.*Reshape/);
});

test('opsets outside 13–17 are refused', async () => {
  await tf.setBackend('cpu');
  const model = generator(() => {}, [1, 1, 6]);
  assert.throws(() => convertLayersModel(model, { opset: 12 }), /opset must be one of 13, 14, 15, 16, 17, got 12/);
});

test('permute moves axes like a transpose', () => {
  // 2×3 → 3×2
  const { values, shape } = permute(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
  assert.deepEqual(shape, [3, 2]);
  assert.deepEqual([...values], [1, 4, 2, 5, 3, 6]);
});
