// Every `gantry export` option at once (NCHW, uint8 pixels, float16 weights, a fixed batch of 4, a class
// input) beside the plain float32 NHWC export of the same class-conditional DCGAN and a copy of it with a
// [batch] class input: the explorer loads them, and the library's pictures equal onnxruntime-node's on the
// same file, on wasm and on webgpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { exportGenerator } from '@gantry/export';
import { randomiseWeights } from '@gantry/export/test-support';
import { parseCard, pixelLevel, seedLatents } from '@gantry/core';
import { TensorDataType, decodeModel, encodeModel } from '@gantry/files/onnx';
import { buildConditionalGenerator } from '@gantry/training';
import { copyModels } from '@gantry/inference-web/build-site';
import { launchChromium, startStaticServer } from '@gantry/inference-web/testing';
import { maxAbsDifference, nodeReference, openExplorer, samplesInPage, screenshot } from './web-support.js';

const IMAGE: [number, number, number] = [8, 8, 3];
const LATENT = 6;
const CLASS_NAMES = ['circle', 'square', 'star'];

/**
 * A copy of an export whose class input is int64 [batch] instead of the exporter's [batch, 1] (as other
 * converters write it): the new input is unsqueezed into the old one, and the card points at it.
 */
function withRankOneClassInput(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const card = JSON.parse(readFileSync(join(to, 'card.json'), 'utf8')) as {
    onnx: { file: string; sha256: string };
    classInput: { name: string };
  };
  const model = decodeModel(readFileSync(join(to, card.onnx.file)));
  const oldName = card.classInput.name;
  const newName = `${oldName}_rank1`;
  const input = model.graph.input.find((value) => value.name === oldName)!;
  input.name = newName;
  input.type.tensor_type.shape.dim = input.type.tensor_type.shape.dim.slice(0, 1);
  const axes = new Uint8Array(new BigInt64Array([1n]).buffer);
  model.graph.initializer.push({ name: 'class_unsqueeze_axes', dims: [1], data_type: TensorDataType.INT64, raw_data: axes });
  model.graph.node.unshift({
    op_type: 'Unsqueeze',
    name: 'class_unsqueeze',
    input: [newName, 'class_unsqueeze_axes'],
    output: [oldName],
    attribute: [],
  });
  const bytes = encodeModel(model);
  writeFileSync(join(to, card.onnx.file), bytes);
  card.onnx.sha256 = createHash('sha256').update(bytes).digest('hex');
  card.classInput.name = newName;
  writeFileSync(join(to, 'card.json'), JSON.stringify(card));
}

test('a model exported with every option loads and runs in the page, equal to onnxruntime-node on wasm and webgpu', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-web-exports-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const generator = buildConditionalGenerator({
    imageShape: IMAGE,
    latentSize: LATENT,
    generatorWidth: 8,
    discriminatorWidth: 4,
    seed: 1,
    classes: 3,
    embeddingSize: 4,
  });
  randomiseWeights(generator, 5);
  t.after(() => generator.dispose());
  const common = {
    model: generator,
    dataset: 'none',
    latent: { distribution: 'normal' as const },
    outputRange: [-1, 1] as [number, number],
    classNames: CLASS_NAMES,
    paritySamples: 8,
    onnxChecker: 'skip' as const,
  };
  const exported = join(work, 'exported');
  await exportGenerator({ ...common, name: 'reference', outDir: join(exported, 'reference') });
  await exportGenerator({
    ...common,
    name: 'every option',
    outDir: join(exported, 'every option'),
    layout: 'NCHW',
    pixels: 'uint8',
    weights: 'float16',
    batch: 4,
  });
  withRankOneClassInput(join(exported, 'reference'), join(exported, 'class-rank-1'));
  const siteModels = join(work, 'site-models');
  assert.deepEqual(copyModels(exported, siteModels), ['class-rank-1', 'every option', 'reference']);
  const card = parseCard(JSON.parse(readFileSync(join(siteModels, 'every option', 'card.json'), 'utf8')));
  assert.deepEqual(
    [card.output.layout, card.output.dtype, card.export?.weights, card.onnx.batch, card.classInput?.classes],
    ['NCHW', 'uint8', 'float16', 4, 3],
  );

  const server = await startStaticServer({ models: siteModels });
  t.after(() => server.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  // The page: a name that needs percent-encoding, the class picker, every panel drawn, no errors.
  const { page, errors } = await openExplorer(browser, server.url, `model=${encodeURIComponent('every option')}&device=wasm`);
  assert.deepEqual(await page.$$eval('#classes .chip', (chips) => chips.map((chip) => chip.textContent)), CLASS_NAMES);
  await page.click('#classes .chip:nth-child(3)');
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelector('#grid canvas') !== null);
  t.diagnostic(`screenshot: ${await screenshot(page, 'web-every-export-option')}`);

  // 6 samples: a batch of 4 and a padded one, with a class per sample.
  const seeds = [3, 1, 4, 1, 5, 9];
  const classes = [0, 1, 2, 2, 1, 0];
  const latents = seedLatents(card.latent, seeds);
  const reference = await nodeReference(
    join(siteModels, 'every option', card.onnx.file),
    card,
    latents,
    Int32Array.from(classes),
  );
  const referenceCard = parseCard(JSON.parse(readFileSync(join(siteModels, 'reference', 'card.json'), 'utf8')));
  const floatReference = await nodeReference(
    join(siteModels, 'reference', referenceCard.onnx.file),
    referenceCard,
    latents,
    Int32Array.from(classes),
  );
  for (const device of ['wasm', 'webgpu'] as const) {
    const inPage = await samplesInPage(page, 'every option', device, { seeds, class: classes });
    const levels = maxAbsDifference(inPage.values, reference);
    t.diagnostic(`${device}: every-option export differs from onnxruntime-node by ${levels} grey levels`);
    assert.ok(levels <= 1, `${device}: ${levels} grey levels from onnxruntime-node`);
    const floats = await samplesInPage(page, 'reference', device, { seeds, class: classes });
    const difference = maxAbsDifference(floats.values, floatReference);
    assert.ok(difference <= 1e-3, `${device}: the float32 export differs from onnxruntime-node by ${difference}`);
    const rankOne = await samplesInPage(page, 'class-rank-1', device, { seeds, class: classes });
    assert.ok(maxAbsDifference(rankOne.values, floatReference) <= 1e-3, `${device}: a [batch] class input gives other pictures`);
    // float16 weights and uint8 rounding keep the picture: within a few grey levels of the float32 export's.
    const fromFloat = maxAbsDifference(
      inPage.values,
      floatReference.map((v) => pixelLevel(v, -1, 1)),
    );
    assert.ok(fromFloat <= 4, `${device}: the every-option export is ${fromFloat} grey levels from the float32 export`);
  }
  assert.deepEqual(errors, [], 'no console errors');
});
