import assert from 'node:assert/strict';
import test from 'node:test';
import { CardError, parseCard } from './card.js';
import { GantryError, isExpectedError } from './errors.js';

const older = {
  format: 'gantry-model-card/1',
  name: 'old',
  dataset: 'mnist',
  latent: { size: 100, distribution: 'normal' },
  output: { shape: [28, 28, 1], layout: 'NHWC', range: [-1, 1] },
  onnx: { file: 'generator.onnx', opset: 17, sha256: 'd'.repeat(64), inputName: 'latent', outputName: 'images', batch: null },
  training: { configSha256: 'c'.repeat(64), steps: 6000, wallSeconds: 3487.4, backend: 'wasm' },
  parity: { maxAbsDiff: 1.7e-6, samples: 64 },
  metrics: {},
  createdAt: '2026-01-01T00:00:00.000Z',
};
const spec = {
  converter: 'gantry',
  opset: 17,
  batch: null,
  layout: 'NHWC',
  pixels: 'float32',
  weights: 'float32',
  foldBatchNorm: false,
  parityTolerance: 1e-5,
  onnxChecker: '1.12.0',
  seconds: 1.5,
};

test('cards written before the export options were recorded still parse; the new fields are validated by name', () => {
  const card = parseCard(older);
  assert.equal(card.export, undefined);
  assert.equal(card.output.dtype, undefined);
  assert.equal(card.classInput, undefined);
  assert.equal(card.description, '');
  assert.throws(
    () => parseCard({ ...older, output: { ...older.output, layout: 'CHW' } }),
    /card.json output: field "layout" is "CHW"; expected "NHWC" or "NCHW"/,
  );
  assert.throws(
    () => parseCard({ ...older, output: { ...older.output, dtype: 'int8' } }),
    /field "dtype" is "int8"; expected "float32" or "uint8" \(or absent\)/,
  );
  assert.throws(
    () => parseCard({ ...older, classInput: { name: 'class', classes: 0 } }),
    /classInput: field "classes" is 0; expected an integer >= 1/,
  );
  assert.deepEqual(parseCard({ ...older, export: spec }).export, spec);
  assert.throws(
    () => parseCard({ ...older, export: { ...spec, weights: 'int8' } }),
    /export: field "weights" is "int8"; expected "float32" or "float16"/,
  );
  assert.throws(
    () => parseCard({ ...older, export: { ...spec, onnxChecker: '' } }),
    /export: field "onnxChecker" is ""; expected the onnx version that checked the model, or null/,
  );
});

test('every card error names the file, the field path, the value and what is allowed', () => {
  const cases: [unknown, RegExp][] = [
    [[], /^m\/card.json: expected a JSON object, got \[\]$/],
    [{ ...older, format: 'v2' }, /^m\/card.json: field "format" is "v2"; expected "gantry-model-card\/1"$/],
    [{ ...older, name: undefined }, /^m\/card.json: field "name" is missing; expected a non-empty string$/],
    [{ ...older, latent: 3 }, /^m\/card.json: field "latent" is 3; expected an object$/],
    [
      { ...older, latent: { size: 1.5, distribution: 'normal' } },
      /m\/card.json latent: field "size" is 1.5; expected an integer >= 1$/,
    ],
    [
      { ...older, output: { ...older.output, shape: [28, 0, 1] } },
      /output: field "shape" is \[28,0,1\]; expected an array of 3 positive integers$/,
    ],
    [
      { ...older, output: { ...older.output, shape: [28, 28] } },
      /output: field "shape" is \[28,28\]; expected an array of 3 positive integers$/,
    ],
    [
      { ...older, onnx: { ...older.onnx, batch: 0 } },
      /onnx: field "batch" is 0; expected null \(dynamic\) or a positive integer$/,
    ],
    [
      { ...older, onnx: { ...older.onnx, sha256: 'D'.repeat(64) } },
      /onnx: field "sha256" is "D+"; expected 64 lowercase hex digits$/,
    ],
    [
      { ...older, classInput: { name: 'c', classes: 2, names: ['cats'] } },
      /classInput: field "names" is \["cats"\]; expected an array of 2 non-empty strings, one per class/,
    ],
    [{ ...older, training: { ...older.training, steps: -1 } }, /training: field "steps" is -1; expected an integer >= 0/],
    [
      { ...older, parity: { maxAbsDiff: Number.POSITIVE_INFINITY, samples: 1 } },
      /parity: field "maxAbsDiff" is null; expected a finite number >= 0/,
    ],
    [{ ...older, metrics: { fid: 'low' } }, /metrics: field "fid" is "low"; expected a number/],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => parseCard(json, 'm/card.json'),
      (error: unknown) => {
        assert.ok(error instanceof CardError && error instanceof GantryError && isExpectedError(error));
        assert.equal(error.code, 'card-invalid');
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('several problems are all reported, one line each', () => {
  const json = { ...older, name: '', latent: { size: 0, distribution: 'cauchy' } };
  assert.throws(
    () => parseCard(json),
    (error: Error) => {
      assert.deepEqual(error.message.split('\n'), [
        'card.json: field "name" is ""; expected a non-empty string',
        'card.json latent: field "size" is 0; expected an integer >= 1',
        'card.json latent: field "distribution" is "cauchy"; expected "normal" or "uniform"',
      ]);
      return true;
    },
  );
});
