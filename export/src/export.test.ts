import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseCard } from '@gantry/latent';
import { exportGenerator, type ExportOptions } from './export.js';

function tinyGenerator(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ inputShape: [4], units: 2 * 2 * 3 }));
  m.add(tfl.layers.reshape({ targetShape: [2, 2, 3] }));
  m.add(tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }));
  return m;
}

function options(model: tfl.LayersModel, outDir: string): ExportOptions {
  return {
    model,
    outDir,
    name: 'tiny',
    dataset: 'test',
    latent: { size: 4, distribution: 'normal' },
    outputRange: [-1, 1],
    training: { configSha256: 'a'.repeat(64), steps: 3, wallSeconds: 1.5, backend: 'cpu' },
  };
}

test('export writes generator.onnx and a valid card with its SHA-256 and the parity figure', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-export-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const outDir = join(work, 'tiny');
  const stages: string[] = [];
  const result = await exportGenerator({ ...options(tinyGenerator(), outDir), onProgress: (e) => stages.push(e.stage) });
  assert.deepEqual(stages, ['convert', 'write', 'parity', 'done']);
  const card = parseCard(JSON.parse(await readFile(result.cardPath, 'utf8')));
  assert.equal(card.onnx.sha256, createHash('sha256').update(await readFile(result.onnxPath)).digest('hex'));
  assert.deepEqual(card.output.shape, [4, 4, 1]);
  assert.equal(card.parity.samples, 64);
  assert.ok(card.parity.maxAbsDiff <= 1e-5);
  assert.deepEqual((await readdir(outDir)).sort(), ['card.json', 'generator.onnx']);
});

test('an export whose parity exceeds the limit fails, prints the figure and leaves no model behind', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-export-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const outDir = join(work, 'tiny');
  await assert.rejects(exportGenerator({ ...options(tinyGenerator(), outDir), parityTolerance: 1e-30 }), /max absolute difference \S+ over 64 latents exceeds the limit 1e-30/);
  assert.deepEqual(await readdir(outDir), []);
});
