import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPythonWithOnnx, runOnnxChecker } from './checker.js';
import { GraphBuilder } from './onnx/graph.js';

/** latent [batch, 6] · W [6, 3], declaring an output of `columns` columns: valid only for 3. */
function gemmModel(columns: number): Uint8Array {
  const graph = new GraphBuilder('gemm');
  const input = graph.addInput({ name: 'latent', dims: ['batch', 6] });
  const out = graph.addNode('Gemm', [input, graph.addInitializer('w', [6, 3], new Float32Array(6 * 3))]);
  graph.renameValue(out, 'y');
  graph.addOutput({ name: 'y', dims: ['batch', columns] });
  return graph.toBytes({ opset: 17, producerVersion: 'test' });
}

test('ONNX’s checker runs shape inference (an output shape that contradicts the graph fails) and leaves the files as they were', async (t) => {
  const python = findPythonWithOnnx();
  assert.ok(python !== null, 'npm test sets up a python3 with onnx (scripts/prerequisites.mjs)');
  const work = await mkdtemp(join(tmpdir(), 'gantry-checker-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const good = join(work, 'good.onnx');
  const bad = join(work, 'bad.onnx');
  await writeFile(good, gemmModel(3));
  await writeFile(bad, gemmModel(4));
  const report = await runOnnxChecker([good, bad], python);
  assert.match(report.onnxVersion, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(
    report.failures.map((f) => f.path),
    [bad],
  );
  assert.match(report.failures[0]!.error, /Inferred shape and existing shape differ in dimension 1: \(3\) vs \(4\)/);
  assert.ok((await readFile(good)).equals(gemmModel(3)), 'the checker does not write inferred shapes into the file');
});

test('without a python3 that can import onnx the checker says how to install it', async () => {
  await assert.rejects(runOnnxChecker(['x.onnx'], null), {
    name: 'OnnxCheckerError',
    message: /needs a python3 that can import onnx .*apt-get install python3-onnx/,
  });
});
