import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseCard, sampleLatents } from '@gantry/core';
import { exportGenerator, type ExportOptions, type ExportProgress } from './export.js';
import { loadLayersModelFromFile } from './model-files.js';
import { convertLayersModel } from './convert/convert.js';
import { decodeModel } from '@gantry/files/onnx';
import { checkParity } from './parity.js';
import { ModelRegistry } from '@gantry/inference-node';
import {
  checkerComplaints,
  conditionalGenerator,
  randomiseWeights,
  saveModelFiles,
  referenceGenerator as referenceGeneratorShape,
} from './test-support.js';

/** The reference DCGAN generator: 100-d latent → 28×28×1 in [-1, 1], random weights. */
function referenceGenerator(): tfl.Sequential {
  const m = referenceGeneratorShape(100, 'reference_generator');
  randomiseWeights(m, 7);
  return m;
}

const training = { configSha256: 'c'.repeat(64), steps: 2000, wallSeconds: 123.4, backend: 'cpu' };

function options(model: tfl.LayersModel | string, outDir: string): ExportOptions {
  return {
    model,
    outDir,
    name: 'reference-dcgan',
    description: 'reference generator for the export tests',
    dataset: 'mnist',
    latent: { size: 100, distribution: 'normal' },
    outputRange: [-1, 1],
    training,
    metrics: { fid: 12.5 },
    onnxChecker: 'require',
  };
}

async function workFolder(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-export-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  return work;
}

test('the reference DCGAN exports end to end: generator.onnx, a complete card with its SHA-256, parity on 64 latents', async (t) => {
  const work = await workFolder(t);
  const outDir = join(work, 'models', 'reference-dcgan');
  const generator = referenceGenerator();
  const events: ExportProgress[] = [];
  const result = await exportGenerator({ ...options(generator, outDir), onProgress: (e) => events.push(e) });
  generator.dispose();

  assert.deepEqual(
    events.map((e) => e.stage),
    ['convert', 'parity', 'check', 'write', 'done'],
  );
  assert.deepEqual((await readdir(outDir)).sort(), ['card.json', 'generator.onnx']);
  assert.equal(result.onnxPath, join(outDir, 'generator.onnx'));
  assert.equal(result.cardPath, join(outDir, 'card.json'));
  const onnx = await readFile(result.onnxPath);
  const card = parseCard(JSON.parse(await readFile(result.cardPath, 'utf8')));
  assert.deepEqual(card, result.card);
  assert.equal(card.onnx.sha256, createHash('sha256').update(onnx).digest('hex'));
  const { createdAt, export: exportSpec, ...fields } = card;
  assert.ok(Math.abs(Date.parse(createdAt) - Date.now()) < 60_000, `createdAt ${createdAt}`);
  const { seconds, onnxChecker, ...recorded } = exportSpec!;
  assert.ok(seconds > 0 && seconds < 60, `export seconds ${seconds}`);
  assert.match(String(onnxChecker), /^1\.\d+\.\d+$/, 'the onnx version whose checker passed the model');
  assert.deepEqual(recorded, {
    converter: 'gantry',
    opset: 17,
    batch: null,
    layout: 'NHWC',
    pixels: 'float32',
    weights: 'float32',
    foldBatchNorm: false,
    parityTolerance: 1e-5,
  });
  assert.deepEqual(fields, {
    format: 'gantry-model-card/1',
    name: 'reference-dcgan',
    description: 'reference generator for the export tests',
    dataset: 'mnist',
    latent: { size: 100, distribution: 'normal' },
    output: { shape: [28, 28, 1], layout: 'NHWC', range: [-1, 1], dtype: 'float32' },
    onnx: { file: 'generator.onnx', opset: 17, sha256: card.onnx.sha256, inputName: 'latent', outputName: 'images', batch: null },
    training,
    parity: { maxAbsDiff: result.maxAbsDiff, samples: 64 },
    metrics: { fid: 12.5 },
  });
  assert.ok(result.maxAbsDiff <= 1e-5, `max abs diff ${result.maxAbsDiff}`);
  t.diagnostic(`reference DCGAN parity over 64 latents: ${result.maxAbsDiff.toExponential(2)}`);
  const metadata = Object.fromEntries(decodeModel(onnx).metadata_props.map((p) => [p.key, p.value]));
  assert.deepEqual(metadata, { 'gantry.model': 'reference-dcgan', 'gantry.dataset': 'mnist' });
  assert.equal(await checkerComplaints([result.onnxPath]), null);
});

test('a model.json path exports like the model, with a fixed batch that does not divide the 64 parity latents', async (t) => {
  const work = await workFolder(t);
  const generator = referenceGenerator();
  const modelJson = await saveModelFiles(generator, work);
  generator.dispose();
  const outDir = join(work, 'out');
  // An earlier export in the folder is replaced, and no temporary file is left behind.
  await mkdir(outDir);
  await writeFile(join(outDir, 'generator.onnx'), 'old');
  const events: ExportProgress[] = [];
  const result = await exportGenerator({ ...options(modelJson, outDir), batch: 5, onProgress: (e) => events.push(e) });
  assert.deepEqual(events[0], { stage: 'load', path: modelJson });
  assert.equal(result.card.onnx.batch, 5);
  assert.equal(result.card.parity.samples, 64);
  assert.ok(result.maxAbsDiff <= 1e-5, `max abs diff ${result.maxAbsDiff}`);
  assert.deepEqual((await readdir(outDir)).sort(), ['card.json', 'generator.onnx']);
  const input = decodeModel(await readFile(result.onnxPath)).graph.input[0]!;
  assert.deepEqual(input.type.tensor_type.shape.dim, [{ dim_value: 5 }, { dim_value: 100 }]);
});

test('missing or corrupt model files are reported with the file and what is wrong', async (t) => {
  const work = await workFolder(t);
  const outDir = join(work, 'out');
  const missing = join(work, 'nowhere', 'model.json');
  await assert.rejects(exportGenerator(options(missing, outDir)), {
    name: 'ModelFileError',
    message: new RegExp(`^cannot read tfjs model ${missing}: ENOENT`),
  });

  const notJson = join(work, 'not-json.json');
  await writeFile(notJson, '{"modelTopology": ');
  await assert.rejects(loadLayersModelFromFile(notJson), {
    name: 'ModelFileError',
    message: new RegExp(`^${notJson} is not valid JSON .*expected a tfjs layers model.json`),
  });

  const noTopology = join(work, 'no-topology.json');
  await writeFile(noTopology, '{"weightsManifest": []}');
  await assert.rejects(
    loadLayersModelFromFile(noTopology),
    /is not a tfjs layers model.json: it needs a "modelTopology" object and a "weightsManifest" array/,
  );

  const folder = join(work, 'saved');
  await mkdir(folder);
  const generator = referenceGenerator();
  const modelJson = await saveModelFiles(generator, folder);
  generator.dispose();
  await truncate(join(folder, 'weights.bin'), 100);
  await assert.rejects(
    loadLayersModelFromFile(modelJson),
    /the weight files hold 100 bytes but the manifest describes \d+; they are truncated or do not belong to this model.json/,
  );
  await rm(join(folder, 'weights.bin'));
  await assert.rejects(
    loadLayersModelFromFile(modelJson),
    /weight file "weights.bin" listed in .*model.json cannot be read: ENOENT/,
  );
  await assert.rejects(readdir(outDir), { code: 'ENOENT' });
});

test('an export whose parity exceeds the limit fails with the figure and the limit, and writes nothing', async (t) => {
  const work = await workFolder(t);
  const outDir = join(work, 'out');
  const generator = referenceGenerator();
  await assert.rejects(
    exportGenerator({ ...options(generator, outDir), parityTolerance: 1e-12 }),
    (error: Error & { maxAbsDiff?: number }) =>
      error.name === 'ParityError' &&
      /^ONNX export of "reference-dcgan" disagrees with tfjs: max absolute difference \d\.\d{3}e-\d+ over 64 samples exceeds the limit 1e-12 \(parityTolerance\)$/.test(
        error.message,
      ) &&
      typeof error.maxAbsDiff === 'number' &&
      error.maxAbsDiff > 1e-12,
  );
  await assert.rejects(readdir(outDir), { code: 'ENOENT' });
  generator.dispose();
});

test('options that cannot describe the model are refused, naming the option', async (t) => {
  const work = await workFolder(t);
  const outDir = join(work, 'out');
  const generator = referenceGenerator();
  await assert.rejects(
    exportGenerator({ ...options(generator, outDir), latent: { size: 64, distribution: 'normal' } }),
    /options.latent.size is 64 but model "reference_generator\w*" takes latent input \[batch, 100\]; it must be \[batch, 64\]/,
  );
  await assert.rejects(
    exportGenerator({ ...options(generator, outDir), outputRange: [1, -1] }),
    /options.outputRange must be \[low, high\] with finite low < high, got \[1,-1\]/,
  );
  await assert.rejects(
    exportGenerator({ ...options(generator, outDir), paritySamples: 0 }),
    /options.paritySamples must be an integer in \[1, 65536\], got 0/,
  );
  await assert.rejects(exportGenerator({ ...options(generator, outDir), training: { ...training, steps: -1 } }), {
    name: 'CardError',
    message: /field "steps" is -1; expected an integer >= 0/,
  });
  const flat = tfl.sequential();
  flat.add(tfl.layers.dense({ inputShape: [100], units: 3 }));
  await assert.rejects(
    exportGenerator(options(flat, outDir)),
    /outputs shape \[batch, 3\]; a generator must output images \[batch, height, width, channels\]/,
  );
  await assert.rejects(readdir(outDir), { code: 'ENOENT' });
  generator.dispose();
  flat.dispose();
});

test('every export option reaches the ONNX file and the card, and gantry serve runs the result', async (t) => {
  const work = await workFolder(t);
  const modelsDir = join(work, 'models');
  const generator = referenceGenerator();
  const result = await exportGenerator({
    ...options(generator, join(modelsDir, 'reference-dcgan')),
    opset: 13,
    layout: 'NCHW',
    pixels: 'uint8',
    weights: 'float16',
    foldBatchNorm: true,
  });
  generator.dispose();
  const { seconds: _seconds, onnxChecker: _checker, ...recorded } = result.card.export!;
  assert.deepEqual(recorded, {
    converter: 'gantry',
    opset: 13,
    batch: null,
    layout: 'NCHW',
    pixels: 'uint8',
    weights: 'float16',
    foldBatchNorm: true,
    parityTolerance: 1e-2,
  });
  assert.deepEqual(result.card.output, { shape: [28, 28, 1], layout: 'NCHW', range: [-1, 1], dtype: 'uint8' });
  assert.ok(result.maxAbsDiff <= 1e-2, `float16 parity ${result.maxAbsDiff}`);
  t.diagnostic(`reference DCGAN, float16 weights, uint8 NCHW output: parity ${result.maxAbsDiff.toExponential(2)}`);
  const model = decodeModel(await readFile(result.onnxPath));
  assert.deepEqual(
    model.opset_import.map((o) => o.version),
    [13],
  );
  assert.deepEqual(model.graph.output[0]!.type.tensor_type.shape.dim, [
    { dim_param: 'batch' },
    { dim_value: 1 },
    { dim_value: 28 },
    { dim_value: 28 },
  ]);
  assert.ok(!model.graph.node.some((n) => n.op_type === 'BatchNormalization'), 'both BatchNormalizations folded');
  const registry = await ModelRegistry.load(modelsDir, { device: 'cpu' });
  t.after(() => registry.close());
  const served = await registry.generate('reference-dcgan', { n: 2, seed: 3 });
  assert.deepEqual([served.shape, served.range, served.samples.length], [[28, 28, 1], [0, 255], 2 * 28 * 28]);
});

test('a class-conditional generator exports with parity on both inputs, its class input on the card', async (t) => {
  const work = await workFolder(t);
  const generator = conditionalGenerator(8, 10);
  randomiseWeights(generator, 11);
  const result = await exportGenerator({
    ...options(generator, join(work, 'models', 'acgan')),
    name: 'acgan',
    latent: { size: 8, distribution: 'uniform' },
  });
  assert.deepEqual(result.card.classInput, { name: 'class', classes: 10 });
  assert.equal(result.card.onnx.inputName, 'latent');
  assert.deepEqual(result.card.output.shape, [8, 8, 1]);
  assert.ok(result.maxAbsDiff <= 1e-5, `parity ${result.maxAbsDiff}`);
  // The class input reaches the embedding: after changing the tfjs model's row for class 9 only,
  // the exported model still agrees on classes 0…8 and disagrees on class 9.
  const { bytes } = convertLayersModel(generator);
  const table = generator.layers.find((l) => l.getClassName() === 'Embedding')!;
  const shifted = tf.tidy(() => tf.add(table.getWeights()[0]!, tf.reshape(tf.oneHot([9], 10), [10, 1])));
  table.setWeights([shifted]);
  shifted.dispose();
  const latents = sampleLatents({ size: 8, distribution: 'uniform' }, 9, 1);
  assert.ok(
    (await checkParity(generator, bytes, [latents, Int32Array.from({ length: 9 }, (_, i) => i)], 9)) <= 1e-5,
    'classes 0…8 agree',
  );
  assert.ok((await checkParity(generator, bytes, [latents, new Int32Array(9).fill(9)], 9)) > 1e-3, 'class 9 differs');
  generator.dispose();
  const registry = await ModelRegistry.load(join(work, 'models'), { device: 'cpu' });
  t.after(() => registry.close());
  assert.deepEqual((await registry.generate('acgan', { n: 2, seed: 3, class: [9, 0] })).classes, Int32Array.from([9, 0]));
  await assert.rejects(
    registry.generate('acgan', { n: 2, seed: 3 }),
    /class is required: model "acgan" is class-conditional with 10 classes/,
  );
});

test('a tfjs model.json from anywhere exports without training facts, and gantry serve runs it', async (t) => {
  const work = await workFolder(t);
  const generator = referenceGenerator();
  const modelJson = await saveModelFiles(generator, work);
  generator.dispose();
  const { training: _training, ...rest } = options(modelJson, join(work, 'models', 'brought'));
  const result = await exportGenerator({ ...rest, name: 'brought' });
  assert.equal(result.card.training, undefined);
  const registry = await ModelRegistry.load(join(work, 'models'), { device: 'cpu' });
  t.after(() => registry.close());
  const samples = await registry.generate('brought', { n: 2, seed: 3 });
  assert.equal(samples.samples.length, 2 * 28 * 28);
});
