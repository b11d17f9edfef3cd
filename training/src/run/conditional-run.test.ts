// Class-conditional runs through the trainer: checkpoints that resume exactly (EMA generator with two
// inputs included), sample grids with one row per class, class names in the checkpoint, sampling a
// chosen class, and the data sets a conditional run refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { selectBackend } from '../backend/select.js';
import { MNIST_CLASSES } from '../data/mnist.js';
import { checkpointClassNames, sampleCheckpoint } from './checkpoint.js';
import { ConfigError, parseTrainConfig, type TrainConfigInput } from './config.js';
import { train } from './trainer.js';

const conditionalRun = (discriminator: 'projection' | 'auxiliary-classifier'): TrainConfigInput => ({
  seed: 6,
  data: { dataset: 'mnist', limit: 64 },
  model: { latentSize: 4, generatorWidth: 8, discriminatorWidth: 4, conditional: { discriminator, embeddingSize: 3 } },
  training: { steps: 4, batchSize: 4 },
  ema: { enabled: true, decay: 0.5 },
  logging: { logEvery: 1, sampleEvery: 2, checkpointEvery: 2, sampleCount: 20 },
});

test('conditional runs (projection and auxiliary-classifier D) resume exactly, draw one grid row per class and sample a chosen class', async (t) => {
  await selectBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-conditional-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const discriminator of ['projection', 'auxiliary-classifier'] as const) {
    const config = parseTrainConfig(conditionalRun(discriminator));
    const straight = join(dir, discriminator, 'straight');
    const resumed = join(dir, discriminator, 'resumed');
    await train({ runDir: straight, config, backend: 'wasm' });
    const controller = new AbortController();
    const first = await train({
      runDir: resumed,
      config,
      backend: 'wasm',
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step === 3 && controller.abort(),
    });
    assert.ok(first.interrupted && first.step === 3);
    await train({ runDir: resumed, config, backend: 'wasm', resume: true });
    for (const file of [
      'generator/weights.bin',
      'generator-ema/weights.bin',
      'discriminator/weights.bin',
      'optimizers/discriminator.bin',
    ]) {
      const a = await readFile(join(straight, 'checkpoints', '4', file));
      const b = await readFile(join(resumed, 'checkpoints', '4', file));
      assert.ok(a.equals(b), `${discriminator}: ${file} after resume equals the straight run's`);
    }
    const log = (await readFile(join(straight, 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(log.length, 4);
    assert.equal(
      'classification' in log[3]!,
      discriminator === 'auxiliary-classifier',
      `${discriminator}: the class term is logged for an auxiliary classifier only`,
    );

    const checkpoint = join(straight, 'checkpoints', '4');
    assert.deepEqual(await checkpointClassNames(checkpoint, config), [...MNIST_CLASSES]);
    // 20 samples over 10 classes: 10 rows of 2 (28-pixel tiles, 2-pixel padding).
    const grid = await sharp(await readFile(join(straight, 'samples', '4.png'))).metadata();
    assert.deepEqual([grid.width, grid.height], [2 * 28 + 3 * 2, 10 * 28 + 11 * 2], `${discriminator}: one row per class`);

    const sample = (classIndex?: number): Promise<Float32Array> =>
      sampleCheckpoint(checkpoint, config, 3, 11, classIndex).then((s) => s.values);
    const [three, seven, cycled] = [await sample(3), await sample(7), await sample()];
    assert.notDeepEqual(three, seven, `${discriminator}: same latents, another class, other images`);
    const perImage = 28 * 28;
    // Without a class, sample i has class i mod 10: sample 0 is class 0, so it differs from class 3's.
    assert.notDeepEqual(cycled.subarray(0, perImage), three.subarray(0, perImage));
    await assert.rejects(
      sampleCheckpoint(checkpoint, config, 1, 0, 10),
      /class 10 is out of range; the run has 10 classes, 0 … 9/,
    );
  }
});

test('a conditional run refuses an unlabelled folder and a one-class folder, naming model.conditional and the fix', async (t) => {
  await selectBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-conditional-refusal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const grey = (level: number) => sharp(Buffer.alloc(8 * 8, level), { raw: { width: 8, height: 8, channels: 1 } }).png();
  await mkdir(join(dir, 'flat'));
  await mkdir(join(dir, 'one-class', 'cats'), { recursive: true });
  for (let i = 0; i < 3; i++) {
    await grey(40 * i).toFile(join(dir, 'flat', `${i}.png`));
    await grey(40 * i).toFile(join(dir, 'one-class', 'cats', `${i}.png`));
  }
  const configFor = (folder: string) =>
    parseTrainConfig({
      data: { dataset: 'folder', path: join(dir, folder), imageSize: 8, channels: 1 },
      model: { conditional: {} },
      training: { steps: 1, batchSize: 2 },
    });
  await assert.rejects(train({ runDir: join(dir, 'run-flat'), config: configFor('flat'), backend: 'cpu' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(
      e.message,
      /"model.conditional" needs labelled images, but dataset "folder" has no labels \(data.path .*flat has its images at the top level; a labelled folder has one sub-folder of images per class\)/,
    );
    return true;
  });
  await assert.rejects(
    train({ runDir: join(dir, 'run-one'), config: configFor('one-class'), backend: 'cpu' }),
    /"model.conditional" needs at least 2 classes, but dataset ".*" has 1 \("cats"\)/,
  );

  // A class whose only file cannot be read is left without images.
  await mkdir(join(dir, 'two-class', 'cats'), { recursive: true });
  await mkdir(join(dir, 'two-class', 'dogs'), { recursive: true });
  for (let i = 0; i < 3; i++) await grey(40 * i).toFile(join(dir, 'two-class', 'cats', `${i}.png`));
  await writeFile(join(dir, 'two-class', 'dogs', 'broken.png'), 'not a png');
  const skipping = parseTrainConfig({
    ...configFor('two-class'),
    data: { dataset: 'folder', path: join(dir, 'two-class'), imageSize: 8, channels: 1, skipUnreadable: true },
  });
  await assert.rejects(
    train({ runDir: join(dir, 'run-two'), config: skipping, backend: 'cpu' }),
    /dataset ".*" has no images of class "dogs"/,
  );

  // Resuming after the class folders changed is refused: the labels would change meaning.
  await rm(join(dir, 'two-class', 'dogs', 'broken.png'));
  await grey(200).toFile(join(dir, 'two-class', 'dogs', 'ok.png'));
  await train({ runDir: join(dir, 'run-classes'), config: configFor('two-class'), backend: 'cpu' });
  await rename(join(dir, 'two-class', 'dogs'), join(dir, 'two-class', 'birds'));
  const longer = parseTrainConfig({ ...configFor('two-class'), training: { steps: 2, batchSize: 2 } });
  await assert.rejects(
    train({ runDir: join(dir, 'run-classes'), config: longer, backend: 'cpu', resume: true }),
    /trained on the classes \[cats, dogs\] but the data now has \[birds, cats\]/,
  );
});
