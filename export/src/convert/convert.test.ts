import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/latent';
import { decodeModel, TensorDataType, AttributeType } from '../onnx/proto.js';
import { checkParity } from '../parity.js';
import { ONNX_CHECKER_MISSING, pythonWithOnnx, randomiseWeights, runOnnxChecker, referenceGenerator } from '../test-support.js';
import { convertLayersModel } from './convert.js';
import { permute } from './layers.js';

const LATENT = 6;
const CONVERTER_LIMIT = 1e-5;

/** latent → Dense (no bias) → [rest of the model]; `start` is the first image shape if given. */
function model(body: (m: tfl.Sequential) => void, start?: [number, number, number]): tfl.Sequential {
  const m = tfl.sequential();
  if (start) {
    m.add(tfl.layers.dense({ inputShape: [LATENT], units: start[0] * start[1] * start[2], useBias: false }));
    m.add(tfl.layers.reshape({ targetShape: start }));
  } else {
    m.add(tfl.layers.inputLayer({ inputShape: [LATENT] }));
  }
  body(m);
  return m;
}

interface Case {
  /** The layer type whose converter the case is about. */
  layer: string;
  label: string;
  build: () => tfl.LayersModel;
  /** Also exported with a fixed batch of 3 (5 latents: two runs, the last one padded). */
  fixedBatch?: boolean;
}

const cases: Case[] = [];

// Dense: with and without bias, each activation attribute, several widths.
for (const [units, useBias, activation] of [
  [5, false, 'linear'],
  [13, true, 'linear'],
  [7, true, 'relu'],
  [9, false, 'tanh'],
  [4, true, 'sigmoid'],
] as const) {
  cases.push({ layer: 'Dense', label: `Dense ${units} bias=${useBias} ${activation}`, fixedBatch: units === 13, build: () => model((m) => m.add(tfl.layers.dense({ units, useBias, activation }))) });
}

// BatchNormalization on 2-D and 4-D inputs, with gamma/beta left out, a custom epsilon.
for (const [center, scale] of [
  [true, true],
  [false, true],
  [true, false],
  [false, false],
] as const) {
  cases.push({
    layer: 'BatchNormalization',
    label: `BatchNormalization 2-D center=${center} scale=${scale}`,
    build: () => model((m) => { m.add(tfl.layers.dense({ units: 8 })); m.add(tfl.layers.batchNormalization({ center, scale })); }),
  });
  cases.push({
    layer: 'BatchNormalization',
    label: `BatchNormalization 4-D center=${center} scale=${scale}`,
    fixedBatch: center && scale,
    build: () => model((m) => m.add(tfl.layers.batchNormalization({ center, scale })), [3, 5, 4]),
  });
}
cases.push({ layer: 'BatchNormalization', label: 'BatchNormalization epsilon 0.1', build: () => model((m) => m.add(tfl.layers.batchNormalization({ epsilon: 0.1 })), [2, 3, 5]) });

// ReLU / LeakyReLU layers and Activation layers, on flat and image values.
cases.push({ layer: 'ReLU', label: 'ReLU 4-D', build: () => model((m) => m.add(tfl.layers.reLU()), [3, 3, 2]) });
cases.push({ layer: 'ReLU', label: 'ReLU maxValue 0.5 2-D', build: () => model((m) => m.add(tfl.layers.reLU({ maxValue: 0.5 }))) });
for (const alpha of [0.2, 0.01, 1]) {
  cases.push({ layer: 'LeakyReLU', label: `LeakyReLU alpha ${alpha}`, build: () => model((m) => m.add(tfl.layers.leakyReLU({ alpha })), [4, 2, 3]) });
}
for (const activation of ['relu', 'tanh', 'sigmoid', 'linear', 'elu', 'softplus', 'relu6'] as const) {
  cases.push({ layer: 'Activation', label: `Activation ${activation}`, build: () => model((m) => m.add(tfl.layers.activation({ activation })), [2, 3, 2]) });
}

// Reshape from flat to images (several shapes, -1), images to images (through NHWC), images to flat.
for (const target of [[2, 3, 1], [1, 1, 6], [3, 2, -1]] as const) {
  cases.push({ layer: 'Reshape', label: `Reshape [${LATENT}] → [${target.join(', ')}]`, build: () => model((m) => m.add(tfl.layers.reshape({ targetShape: [...target] }))) });
}
cases.push({ layer: 'Reshape', label: 'Reshape [4, 6, 2] → [6, 2, 4] → [48]', build: () => model((m) => { m.add(tfl.layers.reshape({ targetShape: [6, 2, 4] })); m.add(tfl.layers.reshape({ targetShape: [48] })); }, [4, 6, 2]) });
cases.push({ layer: 'Flatten', label: 'Flatten [5, 3, 2] → Dense', build: () => model((m) => { m.add(tfl.layers.flatten()); m.add(tfl.layers.dense({ units: 7 })); }, [5, 3, 2]) });
cases.push({ layer: 'Dropout', label: 'Dropout 0.5 (identity at inference)', build: () => model((m) => { m.add(tfl.layers.dropout({ rate: 0.5 })); m.add(tfl.layers.dense({ units: 3 })); }) });

// Convolutions: every kernel size, stride and padding on odd-sized inputs.
for (const strides of [1, 2]) {
  for (const kernelSize of [3, 4, 5]) {
    for (const padding of ['same', 'valid'] as const) {
      const useBias = kernelSize !== 4;
      cases.push({
        layer: 'Conv2DTranspose',
        label: `Conv2DTranspose k${kernelSize} s${strides} ${padding} bias=${useBias}`,
        fixedBatch: kernelSize === 4,
        build: () => model((m) => m.add(tfl.layers.conv2dTranspose({ filters: 3, kernelSize, strides, padding, useBias })), [5, 3, 4]),
      });
      cases.push({
        layer: 'Conv2D',
        label: `Conv2D k${kernelSize} s${strides} ${padding} bias=${useBias}`,
        fixedBatch: kernelSize === 4,
        build: () => model((m) => m.add(tfl.layers.conv2d({ filters: 4, kernelSize, strides, padding, useBias })), [7, 9, 3]),
      });
    }
  }
}
cases.push({ layer: 'Conv2DTranspose', label: 'Conv2DTranspose k1 s2 same/valid (output_padding)', build: () => model((m) => { m.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 1, strides: 2, padding: 'same' })); m.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [1, 2], strides: [3, 2], padding: 'valid' })); }, [3, 2, 2]) });
cases.push({ layer: 'Conv2DTranspose', label: 'Conv2DTranspose k[3,5] s[2,1] same + tanh', build: () => model((m) => m.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [3, 5], strides: [2, 1], padding: 'same', activation: 'tanh' })), [3, 4, 3]) });
cases.push({ layer: 'Conv2D', label: 'Conv2D k3 dilation 2 same + relu', build: () => model((m) => m.add(tfl.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' })), [7, 6, 2]) });

// The reference DCGAN generator and a functional (tfl.model) version of a generator.
cases.push({
  layer: 'DCGAN generator',
  label: 'Dense(no bias)·BN·ReLU → Reshape → ConvT(k4 s2 same, no bias)·BN·ReLU → ConvT(k4 s2 same)·tanh',
  fixedBatch: true,
  build: () => referenceGenerator(LATENT),
});
cases.push({
  layer: 'functional model',
  label: 'tfl.model: Dense → Reshape → ConvT → BN → LeakyReLU → Conv → Flatten → Dense',
  build: () => {
    const input = tfl.input({ shape: [LATENT] });
    let x = tfl.layers.dense({ units: 3 * 3 * 4 }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [3, 3, 4] }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.3 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 2, kernelSize: 2, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 5, activation: 'tanh' }).apply(x) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: output });
  },
});

test('every converter matches tfjs through onnxruntime-node (max abs diff ≤ 1e-5) and passes the ONNX checker', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-convert-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const worstByLayer = new Map<string, number>();
  const written: string[] = [];
  for (const [i, c] of cases.entries()) {
    const m = c.build();
    randomiseWeights(m, 1000 * i);
    for (const batch of c.fixedBatch ? [null, 3] : [null]) {
      const converted = convertLayersModel(m, { batch });
      const n = 5;
      const diff = await checkParity(m, converted.bytes, sampleLatents({ size: LATENT, distribution: 'normal' }, n, i), n);
      assert.ok(diff <= CONVERTER_LIMIT, `${c.label} (batch ${batch ?? 'dynamic'}): max abs diff ${diff} > ${CONVERTER_LIMIT}`);
      worstByLayer.set(c.layer, Math.max(worstByLayer.get(c.layer) ?? 0, diff));
      const path = join(work, `case-${i}-${batch ?? 'dynamic'}.onnx`);
      await writeFile(path, converted.bytes);
      written.push(path);
    }
    m.dispose();
  }
  for (const [layer, worst] of worstByLayer) t.diagnostic(`worst max abs diff, ${layer}: ${worst.toExponential(2)}`);
  if (pythonWithOnnx === null) {
    t.diagnostic(ONNX_CHECKER_MISSING);
    return;
  }
  const complaint = runOnnxChecker(pythonWithOnnx, written);
  assert.equal(complaint, null, `ONNX checker: ${complaint}`);
});

test('the written model declares IR 8 / opset 17, a dynamic or fixed batch, and float32 raw_data weights', async () => {
  await tf.setBackend('cpu');
  const m = model((s) => { s.add(tfl.layers.leakyReLU({ alpha: 1 })); s.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' })); }, [2, 2, 3]);
  const dynamic = decodeModel(convertLayersModel(m).bytes);
  assert.equal(dynamic.ir_version, 8);
  assert.deepEqual(dynamic.opset_import.map((o) => [o.domain ?? '', o.version]), [['', 17]]);
  assert.equal(dynamic.producer_name, 'gantry');
  const [input] = dynamic.graph.input;
  const [output] = dynamic.graph.output;
  assert.equal(input!.name, 'latent');
  assert.deepEqual(input!.type.tensor_type.shape.dim, [{ dim_param: 'batch' }, { dim_value: LATENT }]);
  assert.equal(output!.name, 'images');
  assert.deepEqual(output!.type.tensor_type.shape.dim, [{ dim_param: 'batch' }, { dim_value: 4 }, { dim_value: 4 }, { dim_value: 2 }]);
  // NCHW inside, NHWC at both ends: Reshape → Transpose ... ConvTranspose → Transpose.
  assert.deepEqual(dynamic.graph.node.map((n) => n.op_type), ['Gemm', 'Reshape', 'Transpose', 'LeakyRelu', 'ConvTranspose', 'Transpose']);
  const leaky = dynamic.graph.node.find((n) => n.op_type === 'LeakyRelu')!;
  // alpha = 1 must stay a FLOAT attribute even though it is a whole number.
  assert.deepEqual(leaky.attribute.map((a) => [a.name, a.type, a.f]), [['alpha', AttributeType.FLOAT, 1]]);
  const kernel = dynamic.graph.initializer.find((init) => init.name.includes('conv2d_transpose') && init.dims.length === 4)!;
  assert.equal(kernel.data_type, TensorDataType.FLOAT);
  assert.deepEqual(kernel.dims, [3, 2, 3, 3]);
  assert.equal(kernel.raw_data.length, 3 * 2 * 3 * 3 * 4);
  const tfjsKernel = m.layers.at(-1)!.getWeights()[0]!.dataSync();
  // [in=3, out=2, kh, kw] element (i, o, y, x) is tfjs [kh, kw, out, in] element (y, x, o, i).
  const raw = new DataView(kernel.raw_data.buffer, kernel.raw_data.byteOffset, kernel.raw_data.byteLength);
  const at = (i: number, o: number, y: number, x: number): number => raw.getFloat32((((i * 2 + o) * 3 + y) * 3 + x) * 4, true);
  assert.equal(at(1, 0, 2, 1), tfjsKernel[((2 * 3 + 1) * 2 + 0) * 3 + 1]);
  const fixed = decodeModel(convertLayersModel(m, { batch: 4, inputName: 'z', outputName: 'x' }).bytes);
  assert.deepEqual(fixed.graph.input[0]!.type.tensor_type.shape.dim[0], { dim_value: 4 });
  assert.deepEqual([fixed.graph.input[0]!.name, fixed.graph.output[0]!.name], ['z', 'x']);
  m.dispose();
});

test('an unsupported layer is named, with its class and the supported classes', async () => {
  await tf.setBackend('cpu');
  const m = model((s) => s.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'grow' })), [2, 2, 1]);
  assert.throws(
    () => convertLayersModel(m),
    (error: Error) =>
      error.name === 'ExportError' &&
      error.message === 'layer "grow" of class UpSampling2D cannot be exported; supported layer classes: Activation, BatchNormalization, Conv2D, Conv2DTranspose, Dense, Dropout, Flatten, LeakyReLU, ReLU, Reshape',
  );
  m.dispose();
});

test('unsupported activations, layouts and model interfaces are refused with what is allowed', async () => {
  await tf.setBackend('cpu');
  const selu = model((s) => s.add(tfl.layers.dense({ units: 2, activation: 'selu', name: 'head' })));
  assert.throws(() => convertLayersModel(selu), /layer "head" \(Dense\) uses activation "selu", which the exporter does not support; supported activations: linear, relu, relu6, tanh, sigmoid, elu, softplus/);
  const channelsFirst = model((s) => s.add(tfl.layers.batchNormalization({ axis: 1, name: 'bn' })), [2, 2, 3]);
  assert.throws(() => convertLayersModel(channelsFirst), /layer "bn" \(BatchNormalization\) normalises axis 1 of a 4-D input; the exporter supports the last \(channel\) axis only/);
  const a = tfl.input({ shape: [LATENT] });
  const b = tfl.input({ shape: [LATENT] });
  const twoInputs = tfl.model({ inputs: [a, b], outputs: tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor });
  assert.throws(() => convertLayersModel(twoInputs), /has 2 inputs and 1 outputs; the exporter supports models with one latent input and one output/);
  const branch = tfl.input({ shape: [LATENT] });
  const merged = tfl.layers.add({ name: 'merge' }).apply([tfl.layers.dense({ units: 3 }).apply(branch) as tfl.SymbolicTensor, tfl.layers.dense({ units: 3 }).apply(branch) as tfl.SymbolicTensor]);
  assert.throws(() => convertLayersModel(tfl.model({ inputs: branch, outputs: merged as tfl.SymbolicTensor })), /layer "merge" of class Add cannot be exported/);
  assert.throws(() => convertLayersModel(selu, { opset: 12 }), /opset must be one of 13, 14, 15, 16, 17, got 12/);
  assert.throws(() => convertLayersModel(selu, { batch: 0 }), /batch must be a positive integer or null \(dynamic\), got 0/);
});

test('permute moves axes like a transpose', () => {
  const { values, shape } = permute(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
  assert.deepEqual(shape, [3, 2]);
  assert.deepEqual([...values], [1, 4, 2, 5, 3, 6]);
});
