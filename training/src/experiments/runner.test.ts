import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { linePlot } from '../plots/line-plot.js';
import type { Experiment, ExperimentUnit } from './experiment.js';
import { ExperimentError } from './errors.js';
import { fromJson, toJson } from './json.js';
import { applyOverrides } from './overrides.js';
import { prepareExperiment, runExperiment, runExperimentShard, type ExperimentEvent } from './runner.js';
import { formatNumber, markdownTable } from './table.js';

interface Counting {
  calls: string[];
  failOn?: string;
}

/** Units a, b, c (quick: a, b) whose result is their square; records calls and can fail once on one unit. */
function countingExperiment(
  state: Counting,
): Experiment<{ values: number[] }, ExperimentUnit & { value: number }, { square: number; ratio: number }> {
  return {
    name: 'counting',
    description: 'squares',
    parameters: { quick: { values: [1, 2] }, full: { values: [1, 2, 3] } },
    units: (p) => p.values.map((value) => ({ id: `unit-${value}`, value })),
    async run(unit) {
      state.calls.push(unit.id);
      if (state.failOn === unit.id) {
        state.failOn = undefined;
        throw new Error(`simulated crash in ${unit.id}`);
      }
      return { square: unit.value ** 2, ratio: unit.value === 2 ? Infinity : unit.value };
    },
    async summarise(completed) {
      const xs = completed.map((c) => c.unit.value);
      return {
        numbers: { total: completed.reduce((sum, c) => sum + c.result.square, 0) },
        table: markdownTable(
          ['x', 'x²'],
          completed.map((c) => [String(c.unit.value), String(c.result.square)]),
        ),
        plots: [
          {
            name: 'squares',
            svg: linePlot({
              title: 'squares',
              x: { label: 'x' },
              y: { label: 'x²' },
              series: [{ label: 'x²', x: xs, y: xs.map((x) => x * x) }],
            }).svg,
          },
        ],
      };
    },
  };
}

test('an experiment writes unit results as they finish, resumes after a crash and summarises into files', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-experiment-'));
  try {
    const state: Counting = { calls: [], failOn: 'unit-2' };
    const experiment = countingExperiment(state);
    await assert.rejects(runExperiment(experiment, { outDir: out, quick: false, log: () => {} }), /simulated crash in unit-2/);
    assert.deepEqual(await readdir(join(out, 'units')), ['unit-1.json']);

    const events: ExperimentEvent[] = [];
    const outcome = await runExperiment(experiment, { outDir: out, quick: false, onEvent: (e) => events.push(e), log: () => {} });
    assert.deepEqual(state.calls, ['unit-1', 'unit-2', 'unit-2', 'unit-3'], 'unit-1 is not run again');
    assert.deepEqual(events[0], { type: 'start', total: 3, resumed: 1 });
    assert.deepEqual(
      events.filter((e) => e.type === 'unit').map((e) => e.type === 'unit' && [e.id, e.done]),
      [
        ['unit-2', 2],
        ['unit-3', 3],
      ],
    );
    assert.deepEqual(outcome.summary.numbers, { total: 14 });

    const results = fromJson(await readFile(join(out, 'results.json'), 'utf8')) as {
      mode: string;
      summary: object;
      units: { result: { ratio: number } }[];
    };
    assert.equal(results.mode, 'full');
    assert.equal(results.units[1]!.result.ratio, Infinity, '∞ survives the JSON round trip');
    assert.match(await readFile(join(out, 'results.json'), 'utf8'), /"ratio": "Infinity"/);
    assert.match(await readFile(join(out, 'summary.md'), 'utf8'), /# counting \(full\)[\s\S]*\| 3 +\| 9 +\|/);
    const meta = await sharp(join(out, 'squares.png')).metadata();
    assert.equal(meta.format, 'png');

    // A complete rerun computes nothing and gives the same summary.
    state.calls = [];
    await runExperiment(experiment, { outDir: out, quick: false, log: () => {} });
    assert.deepEqual(state.calls, []);

    // Other parameters in the same folder are refused until --fresh discards the old units.
    await assert.rejects(
      runExperiment(experiment, { outDir: out, quick: true, log: () => {} }),
      (error: Error) => error instanceof ExperimentError && /computed with other parameters.*--fresh/.test(error.message),
    );
    await runExperiment(experiment, { outDir: out, quick: true, fresh: true, log: () => {} });
    assert.deepEqual(state.calls, ['unit-1', 'unit-2']);
    assert.deepEqual((await readdir(join(out, 'units'))).sort(), ['unit-1.json', 'unit-2.json']);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('unit ids must be unique and file-safe', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-experiment-'));
  try {
    const base = countingExperiment({ calls: [] });
    await assert.rejects(
      runExperiment({ ...base, units: () => [{ id: '../x', value: 1 }] }, { outDir: out, quick: true }),
      /unit id "\.\.\/x" is not file-safe/,
    );
    await assert.rejects(
      runExperiment(
        {
          ...base,
          units: () => [
            { id: 'a', value: 1 },
            { id: 'a', value: 2 },
          ],
        },
        { outDir: out, quick: true },
      ),
      /unit id a appears twice/,
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('JSON helpers keep non-finite numbers; tables pad columns and format numbers', () => {
  assert.deepEqual(fromJson(toJson({ a: [Infinity, -Infinity, 1.5], b: null })), { a: [Infinity, -Infinity, 1.5], b: null });
  assert.ok(Number.isNaN((fromJson(toJson({ c: NaN })) as { c: number }).c));
  assert.equal(
    markdownTable(['a', 'long header'], [['1', '2']]),
    '| a   | long header |\n| --- | ----------- |\n| 1   | 2           |',
  );
  assert.throws(() => markdownTable(['a'], [['1', '2']]), /row 0 has 2 cells for 1 columns/);
  assert.deepEqual(
    [formatNumber(Infinity, 2), formatNumber(null, 2), formatNumber(-0.001, 2), formatNumber(-1.5, 1)],
    ['∞', '–', '0.00', '−1.5'],
  );
});

test('parameter overrides: nested keys, numbers and lists converted to the parameter’s type; unknown keys and bad numbers refused', () => {
  const parameters = { seeds: 10, methods: ['GAN', 'PacGAN2'], training: { steps: 400000, widths: [400, 400] }, fresh: false };
  const overridden = applyOverrides(
    parameters,
    { seeds: '2', methods: 'GAN', 'training.steps': '3000', 'training.widths': '16,8', fresh: 'true' },
    'x',
  );
  assert.deepEqual(overridden, { seeds: 2, methods: ['GAN'], training: { steps: 3000, widths: [16, 8] }, fresh: true });
  assert.equal(parameters.seeds, 10, 'the defaults are not modified');
  assert.throws(
    () => applyOverrides(parameters, { step: '1' }, 'x'),
    /experiment x has no parameter "step"; its parameters: seeds, methods, training\.steps, training\.widths, fresh/,
  );
  assert.throws(() => applyOverrides(parameters, { training: '1' }, 'x'), /no parameter "training"/);
  assert.throws(
    () => applyOverrides(parameters, { 'training.steps': 'many' }, 'x'),
    /training\.steps must be a number, got "many"/,
  );
});

test('shards share a folder: each runs its own units, the last one to finish summarises', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-experiment-'));
  try {
    const state: Counting = { calls: [] };
    const experiment = countingExperiment(state);
    const options = { outDir: out, quick: false, log: () => {} };
    const first = await runExperimentShard(experiment, options, { index: 1, count: 2 });
    assert.deepEqual(first, { pending: ['unit-1', 'unit-3'] });
    assert.deepEqual(state.calls, ['unit-2']);
    const second = await runExperimentShard(experiment, options, { index: 0, count: 2 });
    assert.ok('summary' in second, 'the last shard writes the summary');
    assert.deepEqual(second.summary.numbers, { total: 14 });
    assert.deepEqual(state.calls, ['unit-2', 'unit-1', 'unit-3']);
    await assert.rejects(
      runExperimentShard(experiment, { ...options, fresh: true }, { index: 0, count: 2 }),
      /would delete the other shards' units/,
    );
    await assert.rejects(
      runExperimentShard(experiment, options, { index: 2, count: 2 }),
      /shard must be INDEX\/COUNT with integers 0 ≤ INDEX < COUNT, got 2\/2/,
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('processes starting together on one folder settle on one set of parameters', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-experiment-'));
  try {
    const experiment = countingExperiment({ calls: [] });
    const starts = ['1,2', '1,2', '5,6', '1,2'].map((values) =>
      prepareExperiment(experiment, { outDir: out, quick: false, overrides: { values }, log: () => {} }),
    );
    const outcomes = await Promise.allSettled(starts);
    const stored = (
      fromJson(await readFile(join(out, 'parameters.json'), 'utf8')) as { parameters: { values: number[] } }
    ).parameters.values.join(',');
    outcomes.forEach((outcome, i) => {
      const mine = i === 2 ? '5,6' : '1,2';
      assert.equal(outcome.status, mine === stored ? 'fulfilled' : 'rejected', `start ${i} (${mine}) against stored ${stored}`);
      if (outcome.status === 'rejected') assert.match(String(outcome.reason), /computed with other parameters/);
    });
    assert.deepEqual((await readdir(out)).sort(), ['parameters.json', 'units'], 'no staged files left behind');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
