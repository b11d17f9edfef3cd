// The export test matrix: every supported layer class, at several shapes and settings, with random
// weights, exported under option variants that together cover every option value (opset 13…17, NHWC
// and NCHW output, float32 and uint8 output, dynamic and fixed batch, float32 and float16 weights,
// batch norm folding on and off), every variant for at least one model of each class. Each export must match tfjs through onnxruntime-node and pass ONNX's
// checker with full shape inference (all files in one python process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/core';
import { checkParity, type ParityFeed } from '../parity.js';
import { checkerComplaints, conditionalGenerator, randomiseWeights, referenceGenerator } from '../test-support.js';
import { convertLayersModel, type ConvertOptions, type ConvertedInput } from './convert.js';
import { SUPPORTED_ACTIVATIONS } from './activations.js';
import { SUPPORTED_LAYER_CLASSES } from './layers.js';

const LATENT = 6;
const FLOAT32_LIMIT = 1e-5;
const FLOAT16_LIMIT = 1e-2;
/** The value range mapped to pixels 0…255 by the uint8 variants (random-weight outputs mostly lie in it). */
const PIXEL_RANGE: [number, number] = [-3, 3];
const SAMPLES = 5;

type Tensor = tfl.SymbolicTensor;

/** latent → Dense (no bias) → Reshape to `start` (if given) → `body`, as a functional model. */
function model(body: (x: Tensor) => Tensor, start?: [number, number, number]): tfl.LayersModel {
  const input = tfl.input({ shape: [LATENT] });
  let x: Tensor = input;
  if (start) {
    x = tfl.layers.dense({ units: start[0] * start[1] * start[2], useBias: false }).apply(x) as Tensor;
    x = tfl.layers.reshape({ targetShape: start }).apply(x) as Tensor;
  }
  return tfl.model({ inputs: input, outputs: body(x) });
}

const apply = (layer: tfl.layers.Layer, x: Tensor | Tensor[]): Tensor => layer.apply(x) as Tensor;
const L = tfl.layers;

interface Case {
  /** The layer class whose converter the case is about. */
  layer: string;
  label: string;
  build: () => tfl.LayersModel;
}

const cases: Case[] = [];
const add = (layer: string, label: string, build: () => tfl.LayersModel): void => void cases.push({ layer, label, build });

// Dense: with and without bias, activations, on flat values and (acting on channels) on images.
for (const [units, useBias, activation] of [
  [5, false, 'linear'],
  [13, true, 'relu'],
  [9, false, 'tanh'],
  [4, true, 'sigmoid'],
] as const) {
  add('Dense', `Dense ${units} bias=${useBias} ${activation}`, () =>
    model((x) => apply(L.dense({ units, useBias, activation }), x)),
  );
}
add('Dense', 'Dense 3 on [4, 3, 5] images (last axis)', () => model((x) => apply(L.dense({ units: 3 }), x), [4, 3, 5]));

// Convolutions: every kernel size, stride and padding on odd-sized inputs, and a following BN.
for (const strides of [1, 2]) {
  for (const kernelSize of [3, 4, 5]) {
    for (const padding of ['same', 'valid'] as const) {
      const useBias = kernelSize !== 4;
      add('Conv2DTranspose', `Conv2DTranspose k${kernelSize} s${strides} ${padding} bias=${useBias}`, () =>
        model((x) => apply(L.conv2dTranspose({ filters: 3, kernelSize, strides, padding, useBias }), x), [5, 3, 4]),
      );
      add('Conv2D', `Conv2D k${kernelSize} s${strides} ${padding} bias=${useBias}`, () =>
        model((x) => apply(L.conv2d({ filters: 4, kernelSize, strides, padding, useBias }), x), [7, 9, 3]),
      );
    }
  }
}
add('Conv2DTranspose', 'Conv2DTranspose k1 s2 same, k[1,2] s[3,2] valid (output_padding)', () =>
  model(
    (x) =>
      apply(
        L.conv2dTranspose({ filters: 2, kernelSize: [1, 2], strides: [3, 2], padding: 'valid' }),
        apply(L.conv2dTranspose({ filters: 2, kernelSize: 1, strides: 2, padding: 'same' }), x),
      ),
    [3, 2, 2],
  ),
);
add('Conv2DTranspose', 'Conv2DTranspose k[3,5] s[2,1] same + tanh', () =>
  model(
    (x) => apply(L.conv2dTranspose({ filters: 2, kernelSize: [3, 5], strides: [2, 1], padding: 'same', activation: 'tanh' }), x),
    [3, 4, 3],
  ),
);
add('Conv2D', 'Conv2D k3 dilation 2 same + relu', () =>
  model(
    (x) => apply(L.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }), x),
    [7, 6, 2],
  ),
);

// BatchNormalization on 2-D and 4-D inputs, with gamma / beta left out, a custom epsilon, after a
// convolution (foldable) and after a Dense (foldable).
for (const [center, scale] of [
  [true, true],
  [false, true],
  [true, false],
  [false, false],
] as const) {
  add('BatchNormalization', `BatchNormalization 2-D center=${center} scale=${scale}`, () =>
    model((x) => apply(L.batchNormalization({ center, scale }), apply(L.dense({ units: 8 }), x))),
  );
  add('BatchNormalization', `BatchNormalization 4-D center=${center} scale=${scale}`, () =>
    model((x) => apply(L.batchNormalization({ center, scale }), x), [3, 5, 4]),
  );
}
add('BatchNormalization', 'BatchNormalization epsilon 0.1 after Conv2D', () =>
  model(
    (x) => apply(L.batchNormalization({ epsilon: 0.1 }), apply(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), x)),
    [4, 3, 5],
  ),
);
add('BatchNormalization', 'BatchNormalization after Conv2DTranspose (no bias) → ReLU', () =>
  model(
    (x) =>
      apply(
        L.reLU(),
        apply(
          L.batchNormalization(),
          apply(L.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false }), x),
        ),
      ),
    [3, 3, 4],
  ),
);

// LayerNormalization over the last axis or all non-batch axes, with and without gamma / beta.
add('LayerNormalization', 'LayerNormalization 2-D axis -1', () =>
  model((x) => apply(L.layerNormalization({}), apply(L.dense({ units: 7 }), x))),
);
add('LayerNormalization', 'LayerNormalization 4-D axis -1 (channels), epsilon 0.01', () =>
  model((x) => apply(L.layerNormalization({ epsilon: 0.01 }), x), [3, 4, 5]),
);
add('LayerNormalization', 'LayerNormalization 4-D axes [1, 2, 3], center=false', () =>
  model((x) => apply(L.layerNormalization({ axis: [1, 2, 3], center: false }), x), [2, 3, 4]),
);
add('LayerNormalization', 'LayerNormalization 4-D axes [2, 3], scale=false', () =>
  model((x) => apply(L.layerNormalization({ axis: [2, 3], scale: false }), x), [3, 2, 4]),
);

// Activation layers and activation arguments.
add('ReLU', 'ReLU 4-D', () => model((x) => apply(L.reLU(), x), [3, 3, 2]));
add('ReLU', 'ReLU maxValue 0.5 2-D', () => model((x) => apply(L.reLU({ maxValue: 0.5 }), x)));
for (const alpha of [0.2, 0.01, 1])
  add('LeakyReLU', `LeakyReLU alpha ${alpha}`, () => model((x) => apply(L.leakyReLU({ alpha }), x), [4, 2, 3]));
add('ELU', 'ELU 4-D', () => model((x) => apply(L.elu(), x), [3, 2, 4]));
add('ELU', 'ELU 2-D', () => model((x) => apply(L.elu(), apply(L.dense({ units: 5 }), x))));
for (const activation of SUPPORTED_ACTIVATIONS) {
  add('Activation', `Activation ${activation} 4-D`, () => model((x) => apply(L.activation({ activation }), x), [2, 3, 3]));
}
add('Activation', 'Activation softmax 2-D', () => model((x) => apply(L.activation({ activation: 'softmax' }), x)));
add('Activation', 'Conv2D activation softplus, Dense activation elu', () =>
  model(
    (x) =>
      apply(
        L.dense({ units: 4, activation: 'elu' }),
        apply(L.flatten(), apply(L.conv2d({ filters: 2, kernelSize: 2, activation: 'softplus' }), x)),
      ),
    [3, 3, 2],
  ),
);

// Reshape and Flatten, which follow tfjs' element order.
for (const target of [
  [2, 3, 1],
  [1, 1, 6],
  [3, 2, -1],
] as const)
  add('Reshape', `Reshape [${LATENT}] → [${target.join(', ')}]`, () =>
    model((x) => apply(L.reshape({ targetShape: [...target] }), x)),
  );
add('Reshape', 'Reshape [4, 6, 2] → [6, 2, 4] → [48]', () =>
  model((x) => apply(L.reshape({ targetShape: [48] }), apply(L.reshape({ targetShape: [6, 2, 4] }), x)), [4, 6, 2]),
);
add('Flatten', 'Flatten [5, 3, 2] → Dense', () => model((x) => apply(L.dense({ units: 7 }), apply(L.flatten(), x)), [5, 3, 2]));
add('Dropout', 'Dropout 0.5 (identity at inference)', () =>
  model((x) => apply(L.dense({ units: 3 }), apply(L.dropout({ rate: 0.5 }), x))),
);

// Image resizing, padding and cropping.
add('UpSampling2D', 'UpSampling2D nearest [2, 2]', () => model((x) => apply(L.upSampling2d({}), x), [3, 4, 2]));
add('UpSampling2D', 'UpSampling2D nearest [3, 2] → Conv2D', () =>
  model(
    (x) => apply(L.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), apply(L.upSampling2d({ size: [3, 2] }), x)),
    [3, 3, 2],
  ),
);
add('UpSampling2D', 'UpSampling2D bilinear [2, 2]', () =>
  model((x) => apply(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), x), [3, 4, 2]),
);
add('UpSampling2D', 'UpSampling2D bilinear [2, 3]', () =>
  model((x) => apply(L.upSampling2d({ size: [2, 3], interpolation: 'bilinear' }), x), [5, 3, 1]),
);
add('ZeroPadding2D', 'ZeroPadding2D 1', () => model((x) => apply(L.zeroPadding2d({ padding: 1 }), x), [3, 2, 2]));
add('ZeroPadding2D', 'ZeroPadding2D [[1, 2], [0, 3]] → Conv2D valid', () =>
  model(
    (x) =>
      apply(
        L.conv2d({ filters: 2, kernelSize: 3 }),
        apply(
          L.zeroPadding2d({
            padding: [
              [1, 2],
              [0, 3],
            ],
          }),
          x,
        ),
      ),
    [3, 4, 2],
  ),
);
add('Cropping2D', 'Cropping2D 1', () => model((x) => apply(L.cropping2D({ cropping: 1 }), x), [5, 4, 2]));
add('Cropping2D', 'Cropping2D [[1, 0], [2, 1]] after Conv2DTranspose', () =>
  model(
    (x) =>
      apply(
        L.cropping2D({
          cropping: [
            [1, 0],
            [2, 1],
          ],
        }),
        apply(L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), x),
      ),
    [3, 3, 2],
  ),
);

// Merge layers: two branches from one input, on images (NCHW inside) and on flat values.
const branches = (merge: (a: Tensor, b: Tensor) => Tensor, image: boolean) => (): tfl.LayersModel =>
  image
    ? model(
        (x) =>
          merge(
            apply(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), x),
            apply(L.conv2d({ filters: 3, kernelSize: 1 }), x),
          ),
        [4, 3, 2],
      )
    : model((x) => merge(apply(L.dense({ units: 5 }), x), apply(L.dense({ units: 5, activation: 'tanh' }), x)));
for (const [layer, make] of [
  ['Add', () => L.add()],
  ['Multiply', () => L.multiply()],
  ['Average', () => L.average()],
  ['Maximum', () => L.maximum()],
  ['Minimum', () => L.minimum()],
] as const) {
  add(
    layer,
    `${layer} of two Conv2D branches`,
    branches((a, b) => apply(make(), [a, b]), true),
  );
  add(
    layer,
    `${layer} of two Dense branches`,
    branches((a, b) => apply(make(), [a, b]), false),
  );
}
add('Add', 'Add of three images (a residual sum)', () =>
  model(
    (x) => apply(L.add(), [x, apply(L.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), x), apply(L.reLU(), x)]),
    [3, 3, 2],
  ),
);
add(
  'Concatenate',
  'Concatenate images on channels (axis -1)',
  branches((a, b) => apply(L.concatenate({}), [a, b]), true),
);
add(
  'Concatenate',
  'Concatenate images on height (axis 1)',
  branches((a, b) => apply(L.concatenate({ axis: 1 }), [a, b]), true),
);
add(
  'Concatenate',
  'Concatenate flat values',
  branches((a, b) => apply(L.concatenate({}), [a, b]), false),
);
add('Concatenate', 'Concatenate latent with a Dense branch (graph input in a merge)', () =>
  model((x) => apply(L.concatenate({}), [x, apply(L.dense({ units: 3 }), x)])),
);

// Class-conditional generators: a latent and a class input (float or int32 in tfjs, int64 in ONNX).
add('Embedding', 'latent + class: Embedding → Flatten → Multiply → Dense → Reshape → UpSampling2D → Conv2D', () =>
  conditionalGenerator(LATENT, 4),
);
add('Embedding', 'latent + int32 class: Embedding → Reshape → Concatenate → Dense', () => {
  const latent = tfl.input({ shape: [LATENT] });
  const label = tfl.input({ shape: [1], dtype: 'int32' });
  const embedded = apply(L.reshape({ targetShape: [3] }), apply(L.embedding({ inputDim: 7, outputDim: 3 }), label));
  return tfl.model({
    inputs: [latent, label],
    outputs: apply(L.dense({ units: 4 }), apply(L.concatenate({}), [latent, embedded])),
  });
});

// Whole generators: the reference DCGAN and a functional one mixing most layer types.
add('DCGAN generator', 'Dense(no bias)·BN·ReLU → Reshape → ConvT(k4 s2, no bias)·BN·ReLU → ConvT(k4 s2)·tanh', () =>
  referenceGenerator(LATENT),
);
add('functional model', 'Dense → Reshape → ConvT → BN → LeakyReLU → ZeroPadding2D → Conv → LayerNorm → Flatten → Dense', () =>
  model(
    (x) => {
      let y = apply(L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid' }), x);
      y = apply(L.leakyReLU({ alpha: 0.3 }), apply(L.batchNormalization(), y));
      y = apply(L.conv2d({ filters: 2, kernelSize: 2, padding: 'same' }), apply(L.zeroPadding2d({ padding: 1 }), y));
      return apply(L.dense({ units: 5, activation: 'tanh' }), apply(L.flatten(), apply(L.layerNormalization(), y)));
    },
    [3, 3, 4],
  ),
);

interface Variant {
  label: string;
  options: ConvertOptions;
}

// Together these cover every value of every option.
const VARIANTS: Variant[] = [
  { label: 'defaults (opset 17, NHWC float32, dynamic batch, float32 weights)', options: {} },
  {
    label: 'opset 13, NCHW, uint8, batch 3, float16, fold',
    options: {
      opset: 13,
      layout: 'NCHW',
      pixels: 'uint8',
      outputRange: PIXEL_RANGE,
      batch: 3,
      weights: 'float16',
      foldBatchNorm: true,
    },
  },
  { label: 'opset 14, uint8, fold', options: { opset: 14, pixels: 'uint8', outputRange: PIXEL_RANGE, foldBatchNorm: true } },
  { label: 'opset 15, NCHW, batch 3', options: { opset: 15, layout: 'NCHW', batch: 3 } },
  { label: 'opset 16, float16, fold', options: { opset: 16, weights: 'float16', foldBatchNorm: true } },
];

function feedsFor(inputs: readonly ConvertedInput[], seed: number): ParityFeed[] {
  return inputs.map((input) =>
    input.kind === 'class'
      ? Int32Array.from({ length: SAMPLES }, (_, i) => i % input.classes!)
      : sampleLatents({ size: input.shape.reduce((a, b) => a * b, 1), distribution: 'normal' }, SAMPLES, seed),
  );
}

test('every supported layer class is in the matrix', () => {
  const covered = new Set(cases.map((c) => c.layer));
  assert.deepEqual(
    SUPPORTED_LAYER_CLASSES.filter((name) => !covered.has(name)),
    [],
  );
});

test('every layer × every option variant matches tfjs through onnxruntime-node and passes ONNX’s checker', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-matrix-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const worst = new Map<string, { float32: number; float16: number }>();
  const written: string[] = [];
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const m = c.build();
    randomiseWeights(m, 1000 * i);
    const imageOutput = m.outputs[0]!.shape.length === 4;
    // The first case of each layer class runs every variant; the others (more shapes and settings of
    // the same converter) run the defaults and one variant in turn, which keeps the matrix fast.
    const first = cases.findIndex((other) => other.layer === c.layer) === i;
    const variants = first ? VARIANTS.entries() : [[0, VARIANTS[0]!] as const, [1 + (i % 4), VARIANTS[1 + (i % 4)]!] as const];
    for (const [v, variant] of variants) {
      // NCHW only describes image outputs; other outputs keep the variant's remaining options.
      const options: ConvertOptions = imageOutput ? variant.options : { ...variant.options, layout: 'NHWC' };
      const converted = convertLayersModel(m, options);
      const diff = await checkParity(m, converted.bytes, feedsFor(converted.inputs, i), SAMPLES, {
        layout: converted.layout,
        pixels: converted.pixels,
        ...(options.outputRange ? { outputRange: options.outputRange } : {}),
      });
      const precision = converted.weights;
      const limit = precision === 'float16' ? FLOAT16_LIMIT : FLOAT32_LIMIT;
      if (!(diff <= limit)) failures.push(`${c.label} [${variant.label}]: max abs diff ${diff} > ${limit}`);
      const entry = worst.get(c.layer) ?? { float32: 0, float16: 0 };
      entry[precision] = Math.max(entry[precision], diff);
      worst.set(c.layer, entry);
      const path = join(work, `case-${i}-variant-${v}.onnx`);
      await writeFile(path, converted.bytes);
      written.push(path);
    }
    m.dispose();
  }
  for (const [layer, { float32, float16 }] of worst)
    t.diagnostic(
      `worst max abs diff, ${layer}: float32 weights ${float32.toExponential(2)}, float16 weights ${float16.toExponential(2)}`,
    );
  t.diagnostic(`${written.length} exports of ${cases.length} models`);
  assert.deepEqual(failures, []);
  const complaint = await checkerComplaints(written);
  assert.equal(complaint, null, `ONNX checker: ${complaint}`);
});
