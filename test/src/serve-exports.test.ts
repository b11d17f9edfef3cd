// gantry serve runs every export variant: one random-weight class-conditional DCGAN exported as float32
// NHWC (the reference), NCHW, uint8 pixels, and NCHW uint8 with a fixed batch, plus an unconditional
// generator. For the same latents and classes every variant must serve the reference's PNG (uint8 to
// ±1 grey level, the rounding inside the model), and the reference must be tfjs' own picture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { exportGenerator, type ExportOptions } from '@gantry/export';
import { randomiseWeights } from '@gantry/export/test-support';
import { sampleLatents, type ModelCard } from '@gantry/core';
import { buildConditionalGenerator, buildDcganGenerator } from '@gantry/training';
import { startGantry } from './cli.js';

const IMAGE: [number, number, number] = [8, 8, 3];
const LATENT = 6;
const CLASSES = 3;
const architecture = { imageShape: IMAGE, latentSize: LATENT, generatorWidth: 8, discriminatorWidth: 4, seed: 1 };

const variants: Record<string, Partial<ExportOptions>> = {
  reference: {},
  nchw: { layout: 'NCHW' },
  uint8: { pixels: 'uint8' },
  'nchw-uint8-batch4': { layout: 'NCHW', pixels: 'uint8', batch: 4 },
};

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

async function decode(png: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function largestDifference(a: Decoded, b: Decoded): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  return a.data.reduce((max, v, i) => Math.max(max, Math.abs(v - b.data[i]!)), 0);
}

test('gantry serve gives every export variant of a class-conditional DCGAN the same pictures, and checks the class', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-serve-exports-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const modelsDir = join(work, 'models');

  const conditional = buildConditionalGenerator({ ...architecture, classes: CLASSES, embeddingSize: 4 });
  // Random weights well away from the initialisers' N(0, 0.02), so the pictures are not flat grey.
  randomiseWeights(conditional, 5);
  const plain = buildDcganGenerator(architecture);
  randomiseWeights(plain, 6);
  t.after(() => {
    conditional.dispose();
    plain.dispose();
  });
  const common = {
    dataset: 'none',
    latent: { distribution: 'normal' as const },
    outputRange: [-1, 1] as [number, number],
    paritySamples: 12,
    onnxChecker: 'skip' as const,
  };
  for (const [name, options] of Object.entries(variants)) {
    await exportGenerator({ ...common, ...options, model: conditional, name, outDir: join(modelsDir, name) });
  }
  await exportGenerator({ ...common, model: plain, name: 'plain', outDir: join(modelsDir, 'plain') });

  const server = await startGantry(
    ['serve', '--models', modelsDir, '--port', '0', '--device', 'cpu'],
    /serving 5 model\(s\) at (http:\/\/127\.0\.0\.1:\d+)/,
  );
  t.after(() => server.child.kill('SIGKILL'));
  const url = server.match[1]!;
  assert.match(server.output(), /model reference: 8×8×3 from a 6-d latent and a class 0…2, on cpu/);
  const generate = (model: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${url}/v1/models/${model}/generate`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });

  const { models } = (await (await fetch(`${url}/v1/models`)).json()) as { models: ModelCard[] };
  assert.deepEqual(
    models.map((card) => [card.name, card.classInput?.classes ?? null, card.output.layout, card.output.dtype]),
    [
      ['nchw', 3, 'NCHW', 'float32'],
      ['nchw-uint8-batch4', 3, 'NCHW', 'uint8'],
      ['plain', null, 'NHWC', 'float32'],
      ['reference', 3, 'NHWC', 'float32'],
      ['uint8', 3, 'NHWC', 'uint8'],
    ],
  );

  // The reference export's samples are the tfjs generator's: per-sample PNGs against tfjs' output
  // mapped to bytes (±1 where the 1e-6 runtime difference straddles a rounding boundary).
  const classes = [0, 1, 2, 2, 1, 0];
  const request = { n: 6, seed: 11, class: classes };
  const json = (await (await generate('reference', request, { accept: 'application/json' })).json()) as {
    classes: number[];
    latents: number[][];
    images: string[];
  };
  assert.deepEqual(json.classes, classes);
  const latents = sampleLatents({ size: LATENT, distribution: 'normal' }, 6, 11);
  assert.deepEqual(json.latents.flat(), Array.from(latents));
  const expected = tf
    .tidy(() => conditional.predict([tf.tensor2d(latents, [6, LATENT]), tf.tensor2d(classes, [6, 1], 'int32')]) as tf.Tensor)
    .dataSync();
  const sampleSize = IMAGE[0] * IMAGE[1] * IMAGE[2];
  let tfjsDifference = 0;
  for (const [i, image] of json.images.entries()) {
    const served = await decode(Buffer.from(image, 'base64'));
    assert.equal(served.channels, 3);
    served.data.forEach((v, j) => {
      const level = Math.min(255, Math.max(0, Math.round((expected[i * sampleSize + j]! + 1) * 127.5)));
      tfjsDifference = Math.max(tfjsDifference, Math.abs(v - level));
    });
  }
  assert.ok(tfjsDifference <= 1, `served reference samples differ from tfjs by ${tfjsDifference} grey levels`);

  const grid = async (model: string, body: unknown): Promise<Decoded> => {
    const response = await generate(model, body);
    assert.equal(response.status, 200, `${model}: ${response.status}`);
    return decode(Buffer.from(await response.arrayBuffer()));
  };
  const reference = await grid('reference', request);
  assert.ok(new Set(reference.data).size > 50, 'the reference grid is a varied picture');
  assert.equal(largestDifference(await grid('nchw', request), reference), 0, 'NCHW serves the NHWC picture exactly');
  const differences: Record<string, number> = {};
  for (const name of ['uint8', 'nchw-uint8-batch4']) {
    differences[name] = largestDifference(await grid(name, request), reference);
    assert.ok(differences[name] <= 1, `${name} differs from the float32 NHWC export by ${differences[name]} grey levels`);
  }
  t.diagnostic(
    `largest grey-level difference from tfjs ${tfjsDifference}; from the float32 NHWC export: nchw 0, ${Object.entries(
      differences,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );

  // One class for every sample equals that class written out per sample; another class, another picture.
  assert.deepEqual(
    await grid('uint8', { n: 6, seed: 11, class: 2 }),
    await grid('uint8', { n: 6, seed: 11, class: new Array(6).fill(2) }),
  );
  assert.ok(
    largestDifference(
      await grid('reference', { n: 6, seed: 11, class: 0 }),
      await grid('reference', { n: 6, seed: 11, class: 1 }),
    ) > 10,
    'the class changes the picture',
  );
  await grid('plain', { n: 4, seed: 11 });

  const refusal = async (response: Response, message: RegExp): Promise<void> => {
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; parameter: string };
    assert.equal(body.parameter, 'class');
    assert.match(body.error, message);
  };
  await refusal(
    await generate('nchw-uint8-batch4', { n: 2 }),
    /^class is required: model "nchw-uint8-batch4" is class-conditional with 3 classes; give an integer in \[0, 2\]/,
  );
  await refusal(await generate('plain', { n: 2, class: 1 }), /^class was given \(1\) but model "plain" is unconditional/);
  await refusal(
    await generate('uint8', { n: 2, class: [0, 3] }),
    /^class\[1\] must be an integer in \[0, 2\] \(model "uint8" has 3 classes\), got 3$/,
  );
  await refusal(
    await fetch(`${url}/v1/models/reference/grid.png?n=2&class=-1`),
    /^class: must be a class index \(an integer ≥ 0\) for every sample, or an array of them, one per sample$/,
  );

  // The explorer page is served at /, cross-origin isolated, with every model listed for it.
  const page = await fetch(`${url}/`);
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(await page.text(), /<title>[^<]*Gantry[^<]*<\/title>/);
  const listed = (await (await fetch(`${url}/models/index.json`)).json()) as { models: string[] };
  const conditionalNames: string[] = [];
  for (const name of listed.models) {
    const card = (await (await fetch(`${url}/models/${encodeURIComponent(name)}/card.json`)).json()) as {
      classInput?: { classes: number };
    };
    if (card.classInput?.classes === 3) conditionalNames.push(name);
  }
  assert.equal(conditionalNames.length, 4, `class-conditional models listed for the page: ${conditionalNames.join(', ')}`);
});
