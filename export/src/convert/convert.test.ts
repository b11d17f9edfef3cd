// The converter's structure and its refusals; numerical parity of every layer is in matrix.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/core';
import { findPythonWithOnnx } from '../checker.js';
import { float16Bits } from '../onnx/graph.js';
import { decodeModel, TensorDataType, AttributeType } from '@gantry/files/onnx';
import { checkParity } from '../parity.js';
import { conditionalGenerator, randomiseWeights, referenceGenerator } from '../test-support.js';
import { convertLayersModel } from './convert.js';
import { permute } from './permute.js';

const LATENT = 6;

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

const opTypes = (bytes: Uint8Array): string[] => decodeModel(bytes).graph.node.map((n) => n.op_type);

test('the written model declares IR 8 / opset 17, a dynamic or fixed batch, and float32 raw_data weights', async () => {
  await tf.setBackend('cpu');
  const m = model(
    (s) => {
      s.add(tfl.layers.leakyReLU({ alpha: 1 }));
      s.add(tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }));
    },
    [2, 2, 3],
  );
  const dynamic = decodeModel(convertLayersModel(m).bytes);
  assert.equal(dynamic.ir_version, 8);
  assert.deepEqual(
    dynamic.opset_import.map((o) => [o.domain ?? '', o.version]),
    [['', 17]],
  );
  assert.equal(dynamic.producer_name, 'gantry');
  const [input] = dynamic.graph.input;
  const [output] = dynamic.graph.output;
  assert.equal(input!.name, 'latent');
  assert.deepEqual(input!.type.tensor_type.shape.dim, [{ dim_param: 'batch' }, { dim_value: LATENT }]);
  assert.equal(output!.name, 'images');
  assert.deepEqual(output!.type.tensor_type.shape.dim, [
    { dim_param: 'batch' },
    { dim_value: 4 },
    { dim_value: 4 },
    { dim_value: 2 },
  ]);
  // NCHW inside, NHWC at the output: the Dense layer emits its features in NCHW order (its kernel's columns
  // permuted), so the Reshape needs no Transpose after it; one Transpose brings the images back to NHWC.
  assert.deepEqual(
    dynamic.graph.node.map((n) => n.op_type),
    ['MatMul', 'Reshape', 'LeakyRelu', 'ConvTranspose', 'Transpose'],
  );
  const leaky = dynamic.graph.node.find((n) => n.op_type === 'LeakyRelu')!;
  // alpha = 1 must stay a FLOAT attribute even though it is a whole number.
  assert.deepEqual(
    leaky.attribute.map((a) => [a.name, a.type, a.f]),
    [['alpha', AttributeType.FLOAT, 1]],
  );
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

test('NCHW, uint8 and float16 options change only the ends of the graph and the weight storage', async () => {
  await tf.setBackend('cpu');
  const m = model((s) => s.add(tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' })), [3, 4, 5]);
  const converted = convertLayersModel(m, {
    layout: 'NCHW',
    pixels: 'uint8',
    outputRange: [-1, 1],
    weights: 'float16',
    opset: 13,
  });
  const graph = decodeModel(converted.bytes).graph;
  // No Transpose back to NHWC at the end; the pixel mapping follows the convolution.
  assert.deepEqual(
    graph.node.map((n) => n.op_type),
    ['Cast', 'MatMul', 'Reshape', 'Cast', 'Cast', 'Conv', 'Sub', 'Mul', 'Clip', 'Round', 'Cast'],
  );
  const output = graph.output[0]!.type.tensor_type;
  assert.equal(output.elem_type, TensorDataType.UINT8);
  assert.deepEqual(output.shape.dim, [{ dim_param: 'batch' }, { dim_value: 2 }, { dim_value: 3 }, { dim_value: 4 }]);
  assert.deepEqual(converted.outputShape, [3, 4, 2]);
  const weights = graph.initializer.filter((init) => init.data_type === TensorDataType.FLOAT16);
  assert.deepEqual(
    weights.map((w) => w.dims),
    [[LATENT, 60], [2, 5, 3, 3], [2]],
  );
  // float16 raw_data holds the weights rounded to 11 significant bits.
  const bias = m.layers.at(-1)!.getWeights()[1]!.dataSync();
  const stored = new DataView(weights[2]!.raw_data.buffer, weights[2]!.raw_data.byteOffset, 4);
  assert.deepEqual([stored.getUint16(0, true), stored.getUint16(2, true)], [float16Bits(bias[0]!), float16Bits(bias[1]!)]);
  m.dispose();
});

test('float16Bits rounds like numpy (ties to even, subnormals, overflow to infinity)', () => {
  const python = findPythonWithOnnx();
  assert.ok(python !== null, 'python3 with numpy (python3-onnx brings it) is needed');
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: a test value rounded to float16, not π
  const notPi = 3.14159;
  const values = [
    0,
    1,
    -2.5,
    65504,
    65519,
    65520,
    1e6,
    -1e6,
    6.1e-5,
    6.0e-8,
    2.98e-8,
    2.9802322387695312e-8,
    1e-9,
    0.1,
    1 / 3,
    1.00048828125,
    1.00146484375,
    notPi,
    -123.456,
    Infinity,
    -Infinity,
  ];
  const random = sampleLatents({ size: 200, distribution: 'normal' }, 1, 5).map((v) => v * 10 ** Math.round(v * 3));
  const all = [...values, ...random];
  const script =
    'import sys, json, numpy as np; v = np.array(json.load(sys.stdin), dtype=np.float32); print(json.dumps(v.astype(np.float16).view(np.uint16).tolist()))';
  const input = JSON.stringify(all.map((v) => (Number.isFinite(v) ? Math.fround(v) : v > 0 ? 1e39 : -1e39)));
  const result = spawnSync(python!, ['-c', script], { input, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const expected = JSON.parse(result.stdout) as number[];
  assert.deepEqual(
    all.map((v) => float16Bits(v)),
    expected,
  );
  // JSON has no negative zero, so it is checked here.
  assert.equal(float16Bits(-0), 0x8000);
  assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(float16Bits(NaN) & 0x3ff, 0);
});

test('BatchNormalization is folded into the Conv, ConvTranspose or Gemm before it only where that is exact', async () => {
  await tf.setBackend('cpu');
  const foldable = referenceGenerator(LATENT);
  randomiseWeights(foldable, 3);
  const folded = convertLayersModel(foldable, { foldBatchNorm: true });
  assert.equal(folded.foldedBatchNorms, 2);
  assert.deepEqual(opTypes(folded.bytes), [
    'Gemm',
    'Reshape',
    'Relu',
    'ConvTranspose',
    'Relu',
    'ConvTranspose',
    'Tanh',
    'Transpose',
  ]);
  const latents = sampleLatents({ size: LATENT, distribution: 'normal' }, 8, 1);
  const diff = await checkParity(foldable, folded.bytes, [latents], 8);
  assert.ok(diff <= 1e-5, `folded parity ${diff}`);
  assert.ok(convertLayersModel(foldable).bytes.length > folded.bytes.length, 'folding drops the BatchNormalization parameters');

  // Not foldable: an activation between the convolution and the normalisation; a convolution output
  // that also feeds another layer.
  const activated = model(
    (s) => {
      s.add(tfl.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }));
      s.add(tfl.layers.batchNormalization());
    },
    [4, 4, 1],
  );
  assert.equal(convertLayersModel(activated, { foldBatchNorm: true }).foldedBatchNorms, 0);
  const input = tfl.input({ shape: [LATENT] });
  const shared = tfl.layers.dense({ units: 4 }).apply(input) as tfl.SymbolicTensor;
  const normalised = tfl.layers.batchNormalization().apply(shared) as tfl.SymbolicTensor;
  const branchy = tfl.model({ inputs: input, outputs: tfl.layers.add().apply([shared, normalised]) as tfl.SymbolicTensor });
  const unfolded = convertLayersModel(branchy, { foldBatchNorm: true });
  assert.equal(unfolded.foldedBatchNorms, 0);
  assert.ok(opTypes(unfolded.bytes).includes('BatchNormalization'));
  for (const m of [foldable, activated, branchy]) m.dispose();
});

test('a latent + class generator gets a float32 latent input and an int64 class input', async () => {
  await tf.setBackend('cpu');
  const m = conditionalGenerator(LATENT, 10);
  const converted = convertLayersModel(m);
  assert.deepEqual(converted.inputs, [
    { name: 'latent', kind: 'latent', shape: [LATENT] },
    { name: 'class', kind: 'class', shape: [1], classes: 10 },
  ]);
  const inputs = decodeModel(converted.bytes).graph.input;
  assert.deepEqual(
    inputs.map((i) => [i.name, i.type.tensor_type.elem_type]),
    [
      ['latent', TensorDataType.FLOAT],
      ['class', TensorDataType.INT64],
    ],
  );
  m.dispose();
});

test('an unsupported layer is named, with its class and the supported classes', async () => {
  await tf.setBackend('cpu');
  const m = model((s) => s.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' })), [2, 2, 1]);
  assert.throws(
    () => convertLayersModel(m),
    (error: Error) =>
      error.name === 'ExportError' &&
      error.message ===
        'layer "pool" of class MaxPooling2D cannot be exported; supported layer classes: Activation, Add, Average, BatchNormalization, Concatenate, Conv2D, Conv2DTranspose, Cropping2D, Dense, Dropout, ELU, Embedding, Flatten, LayerNormalization, LeakyReLU, Maximum, Minimum, Multiply, ReLU, Reshape, UpSampling2D, ZeroPadding2D',
  );
  m.dispose();
});

test('unsupported activations, layouts, options and model interfaces are refused with what is allowed', async () => {
  await tf.setBackend('cpu');
  const logSoftmax = model((s) => s.add(tfl.layers.dense({ units: 2, activation: 'linear', name: 'head' })));
  (logSoftmax.layers.at(-1)!.getConfig as unknown) = () => ({ activation: 'logSoftmax' });
  assert.throws(
    () => convertLayersModel(logSoftmax),
    /layer "head" \(Dense\) uses activation "logSoftmax", which the exporter does not support; supported activations: linear, relu, relu6, elu, selu, tanh, sigmoid, hardSigmoid, softplus, softsign, softmax, swish, mish, gelu, gelu_new/,
  );
  const channelsFirst = model((s) => s.add(tfl.layers.batchNormalization({ axis: 1, name: 'bn' })), [2, 2, 3]);
  assert.throws(
    () => convertLayersModel(channelsFirst),
    /layer "bn" \(BatchNormalization\) normalises axis 1 of a 4-D input; the exporter supports the last \(channel\) axis only/,
  );
  const middleAxes = model((s) => s.add(tfl.layers.layerNormalization({ axis: [1, 2], name: 'ln' })), [2, 2, 3]);
  assert.throws(
    () => convertLayersModel(middleAxes),
    /layer "ln" \(LayerNormalization\) normalises axes \[1, 2\] of a 4-D input; the exporter supports trailing axes only/,
  );
  const upsampleFirst = model((s) => s.add(tfl.layers.upSampling2d({ dataFormat: 'channelsFirst', name: 'up' })), [2, 2, 3]);
  assert.throws(
    () => convertLayersModel(upsampleFirst),
    /layer "up" \(UpSampling2D\) has dataFormat "channelsFirst"; the exporter supports "channelsLast" only/,
  );
  const a = tfl.input({ shape: [LATENT] });
  const twoOutputs = tfl.model({
    inputs: a,
    outputs: [
      tfl.layers.dense({ units: 2 }).apply(a) as tfl.SymbolicTensor,
      tfl.layers.dense({ units: 3 }).apply(a) as tfl.SymbolicTensor,
    ],
  });
  assert.throws(() => convertLayersModel(twoOutputs), /has 2 outputs; the exporter supports models with one output/);
  const flat = model((s) => s.add(tfl.layers.dense({ units: 3 })));
  assert.throws(
    () => convertLayersModel(flat, { layout: 'NCHW' }),
    /layout NCHW applies to image outputs \[batch, height, width, channels\]; model ".*" outputs \[batch, 3\]/,
  );
  assert.throws(() => convertLayersModel(flat, { pixels: 'uint8' }), /pixels "uint8" needs outputRange \[lo, hi\]/);
  assert.throws(
    () => convertLayersModel(flat, { weights: 'float64' as never }),
    /weights must be one of float32, float16, got "float64"/,
  );
  assert.throws(() => convertLayersModel(flat, { opset: 12 }), /opset must be one of 13, 14, 15, 16, 17, got 12/);
  assert.throws(() => convertLayersModel(flat, { batch: 0 }), /batch must be a positive integer or null \(dynamic\), got 0/);
  const huge = model((s) => s.add(tfl.layers.dense({ units: 2, name: 'huge' })));
  huge.layers.at(-1)!.setWeights([tf.fill([LATENT, 2], 1e5), tf.zeros([2])]);
  assert.throws(
    () => convertLayersModel(huge, { weights: 'float16' }),
    /layer "huge" \(Dense\) weight "kernel": value 100000 at index 0 does not fit in float16 \(largest magnitude 65504\); export with float32 weights/,
  );
  for (const m of [logSoftmax, channelsFirst, middleAxes, upsampleFirst, twoOutputs, flat, huge]) m.dispose();
});

test('permute moves axes like a transpose', () => {
  const { values, shape } = permute(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
  assert.deepEqual(shape, [3, 2]);
  assert.deepEqual([...values], [1, 4, 2, 5, 3, 6]);
});
