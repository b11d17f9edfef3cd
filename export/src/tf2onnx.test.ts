// tensorflowjs_converter and tf2onnx are not installed on the test machines, so what is tested is what
// runs without them: the commands the chain would run, and the message when the tools are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { exportGenerator } from './export.js';
import { referenceGenerator } from './test-support.js';
import { locateTf2onnxTools, tf2onnxCommands } from './tf2onnx.js';

test('the chain is tensorflowjs_converter (layers → graph model) then python -m tf2onnx.convert --tfjs', () => {
  const tools = { converter: '/opt/tf/bin/tensorflowjs_converter', python: '/opt/tf/bin/python3' };
  assert.deepEqual(tf2onnxCommands(tools, '/runs/a/model.json', '/tmp/w', '/tmp/w/model.onnx', 15), [
    {
      command: '/opt/tf/bin/tensorflowjs_converter',
      args: ['--input_format=tfjs_layers_model', '--output_format=tfjs_graph_model', '/runs/a/model.json', '/tmp/w/graph'],
    },
    {
      command: '/opt/tf/bin/python3',
      args: ['-m', 'tf2onnx.convert', '--tfjs', '/tmp/w/graph/model.json', '--output', '/tmp/w/model.onnx', '--opset', '15'],
    },
  ]);
});

test('missing tools are named, with the pip command and the default converter as the way out', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'gantry-path-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  assert.throws(
    () => locateTf2onnxTools({ PATH: empty }),
    (error: Error) =>
      error.name === 'ExportError' &&
      error.message ===
        "--converter tf2onnx needs TensorFlow.js' converter and tf2onnx, which are not installed here: tensorflowjs_converter is not on PATH (pip package tensorflowjs); there is no python3 on PATH. To use it, install both with `pip install tensorflowjs tf2onnx` (they bring TensorFlow), or use the default --converter gantry, which needs neither",
  );
  // A converter on PATH and a python3 without tf2onnx: only the missing package is reported.
  await writeFile(join(empty, 'tensorflowjs_converter'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(empty, 'python3'), '#!/bin/sh\nexit 1\n');
  await chmod(join(empty, 'tensorflowjs_converter'), 0o755);
  await chmod(join(empty, 'python3'), 0o755);
  assert.throws(
    () => locateTf2onnxTools({ PATH: empty }),
    new RegExp(`not installed here: ${join(empty, 'python3')} cannot import tf2onnx \\(pip package tf2onnx\\)\\. To use it`),
  );
});

test('options only the own converter offers are refused for tf2onnx, naming them', async () => {
  await tf.setBackend('cpu');
  const generator = referenceGenerator(10);
  const base = {
    model: generator,
    outDir: join(tmpdir(), 'never-written'),
    name: 'g',
    dataset: 'mnist',
    latent: { size: 10, distribution: 'normal' as const },
    outputRange: [-1, 1] as [number, number],
    converter: 'tf2onnx' as const,
  };
  await assert.rejects(
    exportGenerator({ ...base, layout: 'NCHW', weights: 'float16' }),
    /--converter tf2onnx writes the model as tf2onnx makes it; layout NCHW, float16 weights are only available with --converter gantry/,
  );
  await assert.rejects(exportGenerator({ ...base, batch: 2 }), /a fixed batch is only available with --converter gantry/);
  generator.dispose();
});
