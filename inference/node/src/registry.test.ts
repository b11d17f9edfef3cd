import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interpolate, latentRow, sampleLatents } from '@gantry/core';
import {
  HashMismatchError,
  ModelLoadError,
  ModelRegistry,
  ModelsFolderError,
  UnknownModelError,
  sha256File,
} from './registry.js';
import { tinyModelReference, writeTinyModelFolder, type TinyModelOptions } from './testing/tiny-model.js';

const scratch = await mkdtemp(join(tmpdir(), 'gantry-registry-'));
after(() => rm(scratch, { recursive: true, force: true }));

let folderCounter = 0;
async function modelsFolder(): Promise<string> {
  const folder = join(scratch, `models-${folderCounter++}`);
  await mkdir(folder, { recursive: true });
  return folder;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

const greyOptions: TinyModelOptions = { latentSize: 5, shape: [4, 3, 1], seed: 2 };

test('loads every model folder, ignoring folders without card.json', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'beta', greyOptions);
  await writeTinyModelFolder(folder, 'alpha', { latentSize: 3, shape: [2, 2, 3] });
  await mkdir(join(folder, 'notes'));
  await writeFile(join(folder, 'README.txt'), 'not a model');
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    assert.deepEqual(registry.names(), ['alpha', 'beta']);
    assert.deepEqual(
      registry.cards().map((card) => card.name),
      ['alpha', 'beta'],
    );
    const beta = registry.get('beta');
    assert.equal(beta.provider, 'cpu');
    assert.equal(beta.card.latent.size, 5);
    assert.equal(beta.onnxPath, join(folder, 'beta', 'generator.onnx'));
    assert.equal(registry.has('gamma'), false);
  } finally {
    await registry.close();
  }
});

test('generate samples latents with sampleLatents and runs them in chunks', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'grey', greyOptions);
  // chunkSize 4 with n = 10 exercises two full chunks and a partial one.
  const registry = await ModelRegistry.load(folder, { device: 'cpu', chunkSize: 4 });
  try {
    const result = await registry.generate('grey', { n: 10, seed: 7 });
    const expectedLatents = sampleLatents({ size: 5, distribution: 'normal' }, 10, 7);
    assert.deepEqual(result.latents, expectedLatents);
    assert.equal(result.model, 'grey');
    assert.equal(result.n, 10);
    assert.equal(result.seed, 7);
    assert.deepEqual(result.shape, [4, 3, 1]);
    assert.deepEqual(result.range, [-1, 1]);
    assert.equal(result.samples.length, 10 * 12);
    assertClose(result.samples, tinyModelReference(expectedLatents, 10, greyOptions));

    const random = await registry.generate('grey', { n: 2 });
    assert.ok(Number.isInteger(random.seed) && random.seed! >= 0 && random.seed! < 2 ** 32);
    assert.deepEqual(random.latents, sampleLatents({ size: 5, distribution: 'normal' }, 2, random.seed!));

    const fromLatents = await registry.generateFromLatents('grey', expectedLatents.slice(0, 10), 2);
    assert.equal(fromLatents.seed, null);
    assertClose(fromLatents.samples, result.samples.subarray(0, 24));

    await assert.rejects(
      registry.generateFromLatents('grey', new Float32Array(9), 2),
      /latents.length must be n × latent size = 2 × 5 = 10 for model "grey", got 9/,
    );
    await assert.rejects(registry.generate('grey', { n: 0 }), /n must be an integer in \[1, 65536\], got 0/);
    await assert.rejects(registry.generate('grey', { n: 1, seed: -1 }), /seed must be an integer in \[0, 4294967295\], got -1/);

    // Concurrent requests on one model are serialized but all answered correctly.
    const results = await Promise.all([1, 2, 3].map((seed) => registry.generate('grey', { n: 3, seed })));
    for (const [i, r] of results.entries()) {
      assertClose(r.samples, tinyModelReference(sampleLatents({ size: 5, distribution: 'normal' }, 3, i + 1), 3, greyOptions));
    }
  } finally {
    await registry.close();
  }
});

test('a fixed-batch export is fed padded batches of exactly its size', async () => {
  const folder = await modelsFolder();
  const options: TinyModelOptions = { ...greyOptions, batch: 4 };
  await writeTinyModelFolder(folder, 'fixed', { ...options, distribution: 'uniform' });
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    const result = await registry.generate('fixed', { n: 6, seed: 1 });
    const latents = sampleLatents({ size: 5, distribution: 'uniform' }, 6, 1);
    assert.deepEqual(result.latents, latents);
    assertClose(result.samples, tinyModelReference(latents, 6, options));
  } finally {
    await registry.close();
  }
});

test('unknown model → UnknownModelError carrying the known names', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'only', greyOptions);
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    assert.throws(
      () => registry.get('other'),
      (error: Error) => {
        assert.ok(error instanceof UnknownModelError);
        assert.equal(error.requested, 'other');
        assert.deepEqual(error.known, ['only']);
        assert.match(error.message, /unknown model "other"; known models: only/);
        return true;
      },
    );
    await assert.rejects(registry.generate('other', { n: 1, seed: 1 }), UnknownModelError);
  } finally {
    await registry.close();
  }
});

test('hash mismatch names the file and both hashes', async () => {
  const folder = await modelsFolder();
  const wrong = 'ab'.repeat(32);
  await writeTinyModelFolder(folder, 'tampered', { ...greyOptions, sha256: wrong });
  const onnxPath = join(folder, 'tampered', 'generator.onnx');
  const actual = await sha256File(onnxPath);
  await assert.rejects(ModelRegistry.load(folder, { device: 'cpu' }), (error: Error) => {
    assert.ok(error instanceof HashMismatchError);
    assert.equal(error.file, onnxPath);
    assert.equal(error.cardSha256, wrong);
    assert.equal(error.actual, actual);
    for (const part of [onnxPath, wrong, actual])
      assert.ok(error.message.includes(part), `message lacks ${part}: ${error.message}`);
    return true;
  });
});

test('missing or empty models folder says which folder and what a model folder holds', async () => {
  const missing = join(scratch, 'does-not-exist');
  await assert.rejects(ModelRegistry.load(missing), (error: Error) => {
    assert.ok(error instanceof ModelsFolderError);
    assert.equal(error.folder, missing);
    assert.match(error.message, /does not exist/);
    assert.match(error.message, /card\.json/);
    assert.match(error.message, /generator\.onnx/);
    return true;
  });
  const empty = await modelsFolder();
  await mkdir(join(empty, 'half-copied')); // a folder without card.json is not a model
  await assert.rejects(ModelRegistry.load(empty), (error: Error) => {
    assert.ok(error instanceof ModelsFolderError);
    assert.ok(error.message.includes(empty));
    assert.match(error.message, /contains no model/);
    assert.match(error.message, /card\.json/);
    return true;
  });
});

test('invalid cards and missing ONNX files are refused with the file named', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'broken', greyOptions);
  const cardPath = join(folder, 'broken', 'card.json');
  const card = JSON.parse(await readFile(cardPath, 'utf8')) as Record<string, unknown>;

  await writeFile(cardPath, JSON.stringify({ ...card, latent: { size: 0, distribution: 'normal' } }));
  await assert.rejects(
    ModelRegistry.load(folder),
    (error: Error) => error instanceof ModelLoadError && error.file === cardPath && /latent.*size/.test(error.message),
  );

  await writeFile(cardPath, '{ not json');
  await assert.rejects(
    ModelRegistry.load(folder),
    (error: Error) => error instanceof ModelLoadError && /cannot read the model card/.test(error.message),
  );

  await writeFile(cardPath, JSON.stringify({ ...card, name: 'renamed' }));
  await assert.rejects(ModelRegistry.load(folder), /field "name" is "renamed" but the model folder is "broken"/);

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), file: '../elsewhere.onnx' } }));
  await assert.rejects(ModelRegistry.load(folder), /expected a file name inside the model folder/);

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), file: 'gone.onnx' } }));
  await assert.rejects(
    ModelRegistry.load(folder),
    (error: Error) => error instanceof ModelLoadError && error.file === join(folder, 'broken', 'gone.onnx'),
  );

  await writeFile(cardPath, JSON.stringify({ ...card, classInput: { name: 'class', classes: 2, names: ['cats'] } }));
  await assert.rejects(
    ModelRegistry.load(folder),
    /classInput: field "names" is \["cats"\]; expected an array of 2 non-empty strings, one per class/,
  );

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), inputName: 'z' } }));
  await assert.rejects(ModelRegistry.load(folder, { device: 'cpu' }), /model "broken":.*no input named "z"/);
});

const conditionalOptions: TinyModelOptions = { latentSize: 4, shape: [3, 2, 1], seed: 5, classes: 3 };

test('a class-conditional model takes one class for every sample or one per sample, [batch, 1] or [batch] class input', async () => {
  for (const classRank of [2, 1] as const) {
    const folder = await modelsFolder();
    const options: TinyModelOptions = { ...conditionalOptions, classRank };
    await writeTinyModelFolder(folder, 'labels', options);
    await writeTinyModelFolder(folder, 'plain', greyOptions);
    // chunkSize 2 with n = 5: the classes are split with their latents.
    const registry = await ModelRegistry.load(folder, { device: 'cpu', chunkSize: 2 });
    try {
      const latents = sampleLatents({ size: 4, distribution: 'normal' }, 5, 9);
      const perSample = await registry.generate('labels', { n: 5, seed: 9, class: [2, 0, 1, 1, 2] });
      assert.deepEqual(perSample.classes, Int32Array.from([2, 0, 1, 1, 2]));
      assertClose(perSample.samples, tinyModelReference(latents, 5, options, Int32Array.from([2, 0, 1, 1, 2])));
      const oneClass = await registry.generate('labels', { n: 5, seed: 9, class: 1 });
      assert.deepEqual(oneClass.classes, new Int32Array(5).fill(1));
      assertClose(oneClass.samples, tinyModelReference(latents, 5, options, new Int32Array(5).fill(1)));
      // The class reaches the picture: the same latent under another class is another image.
      assert.ok(perSample.samples.subarray(0, 6).some((v, i) => Math.abs(v - oneClass.samples[i]!) > 1e-3));
      assert.equal((await registry.generate('plain', { n: 1, seed: 1 })).classes, null);

      await assert.rejects(registry.generate('labels', { n: 2, seed: 1 }), {
        name: 'ClassRequestError',
        message:
          /^class is required: model "labels" is class-conditional with 3 classes; give an integer in \[0, 2\] for every sample, or an array of 2 such integers/,
      });
      await assert.rejects(
        registry.generate('labels', { n: 2, seed: 1, class: 3 }),
        /class must be an integer in \[0, 2\] \(model "labels" has 3 classes\), got 3$/,
      );
      await assert.rejects(
        registry.generate('labels', { n: 2, seed: 1, class: [0, 1, 2] }),
        /class has 3 entries but 2 samples are asked for/,
      );
      await assert.rejects(
        registry.generate('plain', { n: 2, seed: 1, class: 0 }),
        /: class was given \(0\) but model "plain" is unconditional: it has no class input; leave class out$/,
      );
      await assert.rejects(registry.generateFromLatents('labels', latents, 5), /class is required/);
    } finally {
      await registry.close();
    }
  }
});

test('latent interpolation and arithmetic run with the class held fixed', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'labels', conditionalOptions);
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    const ends = await registry.generate('labels', { n: 2, seed: 4, class: 2 });
    const path = interpolate(latentRow(ends.latents, 4, 0), latentRow(ends.latents, 4, 1), 5);
    const frames = await registry.generateFromLatents('labels', path, 5, { class: 2 });
    assert.deepEqual(frames.classes, new Int32Array(5).fill(2));
    assertClose(frames.samples, tinyModelReference(path, 5, conditionalOptions, new Int32Array(5).fill(2)));
    // The end frames are the two samples of the same class.
    assertClose(frames.samples.subarray(0, 6), ends.samples.subarray(0, 6));
    assertClose(frames.samples.subarray(24, 30), ends.samples.subarray(6, 12));
  } finally {
    await registry.close();
  }
});

test('NCHW, uint8 and fixed-batch exports give the float32 NHWC samples (uint8 as 0…255, to rounding)', async () => {
  const folder = await modelsFolder();
  const variants: Record<string, TinyModelOptions> = {
    reference: { ...conditionalOptions, pixels: 'float32' },
    nchw: { ...conditionalOptions, layout: 'NCHW' },
    uint8: { ...conditionalOptions, pixels: 'uint8' },
    'nchw-uint8-fixed': { ...conditionalOptions, layout: 'NCHW', pixels: 'uint8', batch: 4, classRank: 1 },
  };
  for (const [name, options] of Object.entries(variants)) await writeTinyModelFolder(folder, name, options);
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    const classes = [0, 1, 2, 0, 1, 2];
    const reference = await registry.generate('reference', { n: 6, seed: 3, class: classes });
    assert.deepEqual(reference.range, [-1, 1]);
    assertClose(reference.samples, tinyModelReference(reference.latents, 6, conditionalOptions, Int32Array.from(classes)));
    const nchw = await registry.generate('nchw', { n: 6, seed: 3, class: classes });
    assert.deepEqual(nchw.samples, reference.samples, 'a transpose changes no value');
    for (const name of ['uint8', 'nchw-uint8-fixed']) {
      const pixels = await registry.generate(name, { n: 6, seed: 3, class: classes });
      assert.deepEqual(pixels.range, [0, 255]);
      assert.deepEqual(pixels.shape, [3, 2, 1]);
      const expected = Float32Array.from(reference.samples, (v) => Math.round((v + 1) * 127.5));
      assertClose(pixels.samples, expected, 1);
    }
  } finally {
    await registry.close();
  }
});

test('an ONNX file whose inputs or output disagree with its card is refused at load', async () => {
  const cases: {
    options: TinyModelOptions;
    card: (card: Record<string, unknown>) => Record<string, unknown>;
    message: RegExp;
  }[] = [
    {
      options: { ...greyOptions, pixels: 'uint8' },
      card: (card) => ({ ...card, output: { ...(card.output as object), dtype: 'float32' } }),
      message: /has output "image" of type uint8 but the card says output.dtype float32; re-export the model or fix .*card\.json/,
    },
    {
      options: { ...greyOptions, layout: 'NCHW' },
      card: (card) => ({ ...card, output: { ...(card.output as object), layout: 'NHWC' } }),
      message:
        /has output "image" with samples \[1, 4, 3\] but the card promises \[4, 3, 1\] \(output.shape \[4,3,1\], layout NHWC\)/,
    },
    {
      options: conditionalOptions,
      card: ({ classInput: _classInput, ...card }) => card,
      message:
        /has input\(s\) "class" that the card does not describe \(it describes a latent input "latent" only \(no classInput\)\)/,
    },
    {
      options: greyOptions,
      card: (card) => ({ ...card, classInput: { name: 'class', classes: 3 } }),
      message: /model "mismatch":.*has no input named "class"; its inputs are \["latent"\]/,
    },
  ];
  for (const { options, card, message } of cases) {
    const folder = await modelsFolder();
    await writeTinyModelFolder(folder, 'mismatch', options);
    const cardPath = join(folder, 'mismatch', 'card.json');
    await writeFile(cardPath, JSON.stringify(card(JSON.parse(await readFile(cardPath, 'utf8')) as Record<string, unknown>)));
    await assert.rejects(
      ModelRegistry.load(folder, { device: 'cpu' }),
      (error: Error) => error instanceof ModelLoadError && message.test(error.message),
    );
  }
});

test('load validates chunkSize', async () => {
  await assert.rejects(ModelRegistry.load(scratch, { chunkSize: 0 }), /chunkSize must be an integer in \[1, 65536\], got 0/);
});

test('startup checks: a failing folder is skipped with its reason and the others are served; strict refuses to start', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'good', greyOptions);
  // The card's latent size disagrees with the ONNX input.
  const wrongLatent = await writeTinyModelFolder(folder, 'wrong-latent', greyOptions);
  await writeFile(
    join(folder, 'wrong-latent', 'card.json'),
    JSON.stringify({ ...wrongLatent, latent: { ...wrongLatent.latent, size: 9 } }),
  );
  // An output range with lo ≥ hi.
  const badRange = await writeTinyModelFolder(folder, 'bad-range', greyOptions);
  await writeFile(
    join(folder, 'bad-range', 'card.json'),
    JSON.stringify({ ...badRange, output: { ...badRange.output, range: [1, 1] } }),
  );
  // Half-copied: the ONNX file arrived, the card did not.
  await mkdir(join(folder, 'half'));
  await writeFile(join(folder, 'half', 'generator.onnx'), 'partial');
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    assert.deepEqual(registry.names(), ['good']);
    const reasons = Object.fromEntries(registry.skipped.map((s) => [s.name, s.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ['bad-range', 'half', 'wrong-latent']);
    assert.match(reasons['wrong-latent']!, /latent input "latent" of type float32 \[batch, 5\] but the card says latent.size 9/);
    assert.match(reasons['bad-range']!, /output.range is \[1,1\]; expected \[lo, hi\] with lo < hi/);
    assert.match(reasons.half!, /holds generator.onnx but no card.json/);
    for (const reason of Object.values(reasons)) assert.ok(!reason.includes('\n'), 'one line each');
  } finally {
    await registry.close();
  }
  await assert.rejects(
    ModelRegistry.load(folder, { device: 'cpu', strict: true }),
    /3 model folders in .* failed their checks:\n {2}bad-range: .*\n {2}half: .*\n {2}wrong-latent: /,
  );
});
