import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, writeNpy } from './npy.js';

const scratch = await mkdtemp(join(tmpdir(), 'gantry-npy-'));
after(() => rm(scratch, { recursive: true, force: true }));

function headerOf(file: Buffer): string {
  return file.toString('latin1', 10, 10 + file.readUInt16LE(8));
}

test('encodeNpy writes the v1.0 preamble, a 64-byte aligned header and little-endian float32 data', () => {
  const data = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 7]);
  const file = encodeNpy(data, [2, 3]);
  assert.deepEqual([...file.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const header = headerOf(file);
  assert.equal(header.trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  assert.ok(header.endsWith('\n'));
  const dataStart = 10 + header.length;
  assert.equal(dataStart % 64, 0);
  assert.equal(file.length, dataStart + 24);
  for (let i = 0; i < data.length; i++) assert.equal(file.readFloatLE(dataStart + 4 * i), data[i]);
});

test('shape tuples are written the way Python prints them', () => {
  assert.match(headerOf(encodeNpy(new Float32Array(5), [5])), /'shape': \(5,\), }/);
  assert.match(headerOf(encodeNpy(new Float32Array(1), [])), /'shape': \(\), }/);
  assert.match(headerOf(encodeNpy(new Float32Array(0), [0, 28, 28, 1])), /'shape': \(0, 28, 28, 1\), }/);
});

test('encodeNpy validates the shape against the data', () => {
  assert.throws(() => encodeNpy(new Float32Array(6), [4, 2]), /shape \[4, 2\] holds 8 values but data has 6/);
  assert.throws(() => encodeNpy(new Float32Array(6), [-1, 6]), /shape must be an array of non-negative integers/);
  assert.throws(() => encodeNpy([1, 2] as unknown as Float32Array, [2]), /data must be a Float32Array/);
});

test('encodeNpy of a subarray writes only the view', () => {
  const backing = new Float32Array([9, 9, 1, 2, 9]);
  const { data, shape } = decodeNpy(encodeNpy(backing.subarray(2, 4), [2]));
  assert.deepEqual(shape, [2]);
  assert.deepEqual(Array.from(data), [1, 2]);
});

test('writeNpy round-trips through decodeNpy', async () => {
  const data = Float32Array.from({ length: 2 * 4 * 3 * 1 }, (_, i) => Math.sin(i));
  const path = join(scratch, 'samples.npy');
  await writeNpy(path, data, [2, 4, 3, 1]);
  const decoded = decodeNpy(await readFile(path));
  assert.deepEqual(decoded.shape, [2, 4, 3, 1]);
  assert.deepEqual(decoded.data, data);
});

// npm test hands over the python it set up for ONNX's checker (which brings numpy).
const python = process.env.GANTRY_PYTHON ?? 'python3';
const numpyAvailable = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

test('numpy.load reads the file with the right dtype, shape and values', {
  skip: numpyAvailable ? false : 'numpy is not installed',
}, async () => {
  const data = Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 0.5 - 1);
  const path = join(scratch, 'check.npy');
  await writeNpy(path, data, [3, 2, 2]);
  const script =
    'import sys, json, numpy as np; a = np.load(sys.argv[1]); print(json.dumps([str(a.dtype), list(a.shape), a.flags["C_CONTIGUOUS"], a.ravel().tolist()]))';
  const result = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const [dtype, shape, cOrder, values] = JSON.parse(result.stdout) as [string, number[], boolean, number[]];
  assert.equal(dtype, 'float32');
  assert.deepEqual(shape, [3, 2, 2]);
  assert.equal(cOrder, true);
  assert.deepEqual(values, Array.from(data));
});
