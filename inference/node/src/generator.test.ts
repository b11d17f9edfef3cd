import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { planInterpolation, seedLatents } from '@gantry/core';
import { Batcher, QueueFullError, SPLIT_BURST_ROWS, WorkAbortedError } from './batcher.js';
import { ModelRegistry } from './registry.js';
import { tinyModelReference, writeTinyModelFolder, type TinyModelOptions } from './testing/tiny-model.js';
import type { Generator } from './generator.js';

const plainOptions: TinyModelOptions = { latentSize: 6, shape: [4, 3, 1], seed: 4 };
const labelOptions: TinyModelOptions = { latentSize: 5, shape: [3, 3, 1], seed: 6, classes: 4 };

let scratch: string;
let registry: ModelRegistry;
let plain: Generator;
let labels: Generator;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gantry-generator-'));
  await writeTinyModelFolder(scratch, 'plain', plainOptions);
  await writeTinyModelFolder(scratch, 'labels', labelOptions);
  registry = await ModelRegistry.load(scratch, { device: 'cpu' });
  plain = registry.generator('plain');
  labels = registry.generator('labels');
});

after(async () => {
  await registry.close();
  await rm(scratch, { recursive: true, force: true });
});

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 });

test('generate: samples are the model applied to the latents the request names, with their classes', async () => {
  const result = await plain.generate({ seeds: [5, 9] });
  assert.deepEqual(result.latents, seedLatents({ size: 6, distribution: 'normal' }, [5, 9]));
  assertClose(result.samples, tinyModelReference(result.latents, 2, plainOptions));
  assert.equal(result.classes, null);
  const conditional = await labels.generate({ n: 3, seed: 1, class: [3, 0, 1] });
  assert.deepEqual(conditional.classes, Int32Array.from([3, 0, 1]));
  assertClose(conditional.samples, tinyModelReference(conditional.latents, 3, labelOptions, Int32Array.from([3, 0, 1])));
});

test('property: interpolation end frames are the key points’ images (seeds or latents, lerp or slerp, open or looped)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(seed, { minLength: 2, maxLength: 4 }),
      fc.integer({ min: 2, max: 6 }),
      fc.constantFrom('lerp' as const, 'slerp' as const),
      fc.boolean(),
      async (seeds, steps, method, loop) => {
        const keys = await plain.generate({ seeds });
        const walk = await plain.interpolate({ seeds, steps, method, loop });
        assert.equal(walk.keyFrames.length, seeds.length);
        walk.keyFrames.forEach((frame, k) => {
          assert.deepEqual(walk.latents.subarray(frame * 6, (frame + 1) * 6), keys.latents.subarray(k * 6, (k + 1) * 6));
          assertClose(walk.samples.subarray(frame * 12, (frame + 1) * 12), keys.samples.subarray(k * 12, (k + 1) * 12));
        });
      },
    ),
    { numRuns: 25 },
  );
});

test('interpolation classes: one class per key point, switching at each segment’s midpoint; end frames keep their class', async () => {
  const walk = await labels.interpolate({ seeds: [1, 2, 3], steps: 5, classes: [0, 2, 3] });
  // Segment 0: t = 0, .25 → 0; t = .5, .75 → 2. Segment 1: 2, 2, 3, 3. Last key: 3.
  assert.deepEqual(Array.from(walk.classes!), [0, 0, 2, 2, 2, 2, 3, 3, 3]);
  const looped = await labels.interpolate({ seeds: [1, 2], steps: 3, loop: true, classes: [1, 3] });
  assert.deepEqual(Array.from(looped.classes!), [1, 3, 3, 1]);
  const keys = await labels.generate({ seeds: [1, 2, 3], class: [0, 2, 3] });
  walk.keyFrames.forEach((frame, k) =>
    assertClose(walk.samples.subarray(frame * 9, (frame + 1) * 9), keys.samples.subarray(k * 9, (k + 1) * 9)),
  );
  assert.throws(
    () => labels.planInterpolate({ seeds: [1, 2], steps: 3, classes: [1] }),
    /classes has 1 entries but 2 samples are asked for/,
  );
  assert.throws(() => plain.planInterpolate({ seeds: [1, 2], steps: 3, classes: [1, 2] }), /classes was given/);
});

test('property: slerp between unit-norm latents keeps unit norm', () => {
  const unit = fc
    .array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 })
    .filter((v) => Math.hypot(...v) > 1e-3)
    .map((v) => {
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    });
  fc.assert(
    fc.property(unit, unit, fc.integer({ min: 2, max: 40 }), (a, b, steps) => {
      const plan = planInterpolation({ size: 6, distribution: 'normal' }, { latents: [a, b], steps, method: 'slerp' });
      for (let frame = 0; frame < plan.frames; frame++) {
        const norm = Math.hypot(...plan.latents.subarray(frame * 6, (frame + 1) * 6));
        // Antipodal ends fall back to lerp (the arc is undefined), which passes through the centre.
        const dot = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
        if (dot > -1 + 1e-6) assert.ok(Math.abs(norm - 1) < 1e-5, `frame ${frame} has norm ${norm}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('property: arithmetic with one term of coefficient 1 equals generate for the same seeds (the mean of one latent is itself)', async () => {
  await fc.assert(
    fc.asyncProperty(seed, async (s) => {
      const sum = await plain.arithmetic({ terms: [{ coef: 1, seeds: [s] }] });
      const direct = await plain.generate({ seeds: [s] });
      assert.equal(sum.rows, 2);
      for (const row of [0, 1]) {
        assert.deepEqual(sum.latents.subarray(row * 6, (row + 1) * 6), direct.latents);
        assertClose(sum.samples.subarray(row * 12, (row + 1) * 12), direct.samples);
      }
    }),
    { numRuns: 20 },
  );
});

test('arithmetic: term means then Σ coef·mean, the images of those latents', async () => {
  const result = await plain.arithmetic({
    terms: [
      { coef: 1, seeds: [1, 2] },
      { coef: -1, seeds: [3] },
      { coef: 1, seeds: [4] },
    ],
  });
  const [l1, l2, l3, l4] = [1, 2, 3, 4].map((s) => seedLatents({ size: 6, distribution: 'normal' }, [s]));
  const mean = Float32Array.from(l1!, (v, i) => (v + l2![i]!) / 2);
  const expected = Float32Array.from(mean, (v, i) => v - l3![i]! + l4![i]!);
  assert.equal(result.rows, 4);
  assertClose(result.latents.subarray(0, 6), mean);
  assertClose(result.latents.subarray(18, 24), expected);
  assertClose(result.samples, tinyModelReference(result.latents, 4, plainOptions));
});

test('latents: the seeds’ latents, as the browser computes them', () => {
  const plan = plain.latents({ seeds: [7, 8], truncation: 1 });
  assert.deepEqual(plan.latents, seedLatents({ size: 6, distribution: 'normal' }, [7, 8], 1));
  assert.ok(plan.latents.every((v) => Math.abs(v) <= 1));
});

test('dynamic batching: concurrent requests share one run, each gets its own rows', async () => {
  const batches: [number, number][] = [];
  const stop = plain.batcher.onBatch((rows, requests) => batches.push([rows, requests]));
  try {
    const seedsList = [[1], [2, 3], [4], [5, 6, 7]];
    const results = await Promise.all(seedsList.map((seeds) => plain.generate({ seeds })));
    results.forEach((result, i) =>
      assertClose(
        result.samples,
        tinyModelReference(seedLatents({ size: 6, distribution: 'normal' }, seedsList[i]!), seedsList[i]!.length, plainOptions),
      ),
    );
    assert.equal(
      batches.reduce((sum, [rows]) => sum + rows, 0),
      7,
    );
    assert.ok(batches.length < 4, `4 concurrent requests took ${batches.length} runs`);
  } finally {
    stop();
  }
});

/** A model runner that records each run's rows and holds every run until `release()` (the rows doubled). */
function gatedRunner(): {
  runs: number[];
  runner: (latents: Float32Array, rows: number) => Promise<Float32Array>;
  release: () => void;
} {
  const runs: number[] = [];
  let open: () => void = () => {};
  const runner = async (latents: Float32Array, rows: number): Promise<Float32Array> => {
    runs.push(rows);
    await new Promise<void>((resolve) => (open = resolve));
    return latents.map((v) => v * 2);
  };
  return { runs, runner, release: () => open() };
}

test('Batcher: an idle model runs what arrived in the same event-loop turn (a burst in two halves); a busy one runs everything queued as soon as it is free', async () => {
  const { runs, runner, release } = gatedRunner();
  const batcher = new Batcher(runner, 1, { maxBatchRows: 8 });
  assert.equal(batcher.maxWaitMs, 0, 'the default wait is the rest of the turn');
  // Requests parsed in one turn reach the batcher in separate microtasks, as HTTP requests do.
  const first = [batcher.submit(Float32Array.of(1), 1, undefined)];
  await Promise.resolve();
  first.push(batcher.submit(Float32Array.of(2, 3), 2, undefined));
  assert.deepEqual(runs, [], 'nothing runs before the turn ends');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(runs, [3], 'one run for the whole turn');
  const during = [4, 5, 6].map((v) => batcher.submit(Float32Array.of(v), 1, undefined));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(runs, [3], 'the busy model takes no second run');
  assert.equal(batcher.depth, 3);
  release();
  assert.deepEqual(await Promise.all(first), [Float32Array.of(2), Float32Array.of(4, 6)]);
  // No timer between runs: the next one started when the first ended, with every queued request.
  assert.deepEqual(runs, [3, 3]);
  release();
  assert.deepEqual(await Promise.all(during), [Float32Array.of(8), Float32Array.of(10), Float32Array.of(12)]);
  assert.ok(SPLIT_BURST_ROWS <= 6);
  // A burst that finds the model idle runs in two halves, the second as soon as the first is done.
  const burst = [1, 2, 3, 4, 5, 6].map((v) => batcher.submit(Float32Array.of(v), 1, undefined));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(runs, [3, 3, 3]);
  release();
  await Promise.all(burst.slice(0, 3));
  assert.deepEqual(runs, [3, 3, 3, 3]);
  release();
  assert.deepEqual(
    await Promise.all(burst),
    [2, 4, 6, 8, 10, 12].map((v) => Float32Array.of(v)),
  );
});

test('Batcher: a full queue refuses with a retry hint; an aborted request leaves the queue unrun; batching off runs one at a time', async () => {
  const { runs, runner, release } = gatedRunner();
  const batcher = new Batcher(runner, 1, { maxBatchRows: 4, maxWaitMs: 0, maxQueueRows: 3 });
  const first = batcher.submit(Float32Array.of(1), 1, undefined); // runs at once, holds the model
  await new Promise((resolve) => setImmediate(resolve));
  const controller = new AbortController();
  const queued = batcher.submit(Float32Array.of(2, 3), 2, undefined, controller.signal);
  const other = batcher.submit(Float32Array.of(4), 1, undefined);
  assert.throws(
    () => batcher.submit(Float32Array.of(5), 1, undefined),
    (error: unknown) => error instanceof QueueFullError && error.retryAfterSeconds >= 1,
  );
  controller.abort();
  await assert.rejects(queued, WorkAbortedError);
  assert.equal(batcher.depth, 1);
  release();
  assert.deepEqual(await first, Float32Array.of(2));
  await new Promise((resolve) => setImmediate(resolve));
  release();
  assert.deepEqual(await other, Float32Array.of(8));
  assert.deepEqual(runs, [1, 1], 'the aborted request never ran');

  const single: number[] = [];
  const unbatched = new Batcher(
    async (latents, rows) => {
      single.push(rows);
      return latents;
    },
    1,
    { batching: false },
  );
  await Promise.all([1, 2, 3].map((v) => unbatched.submit(Float32Array.of(v), 1, undefined)));
  assert.deepEqual(single, [1, 1, 1]);
});
