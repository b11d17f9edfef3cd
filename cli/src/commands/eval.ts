import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '@gantry/files/atomic';
import { ModelRegistry } from '@gantry/inference-node';
import {
  cardMetrics,
  evaluateImages,
  evaluatePoints,
  evaluateStacked,
  latestCheckpoint,
  checkpointClassNames,
  loadClassifier,
  loadLabelledSplits,
  mixtureModes,
  parseTrainConfig,
  readCheckpointState,
  sampleCheckpoint,
  selectBackend,
  classifierDatasets,
  type ClassifierDataset,
  type ImageEvaluation,
  type ImageScores,
  type PointEvaluation,
  type StackedEvaluation,
} from '@gantry/training';
import { integerOption, parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';

export const evalUsage = `gantry eval (--run DIR | --model DIR) [--samples 10000] [--seed 0] [--k 3] [--classifiers models/classifiers] [--out FILE] [--no-card]
  Scores a generator with its dataset's evaluation classifier (CLASSIFIERS/<dataset>, see train-classifier):
  Fréchet distance on the classifier's penultimate features, Inception-style score, confident share (p ≥ 0.9),
  class histogram with max/min ratio, k-NN precision/recall, and for a class-conditional generator the share
  drawn in the requested class; beside each, the same figures for the test split against the training split.
  Toy mixtures (grid-25, ring-8) get modes, high-quality share and reverse KL instead; Stacked MNIST
  gets PacGAN's modes (of 1 000) and KL to uniform, each channel labelled by the MNIST classifier.
  Writes FILE (default DIR/eval.json for a run, DIR/metrics.json for a model) and a model's card.json metrics
  (--no-card leaves the card alone).`;

interface Generated {
  values: Float32Array;
  dataset: string;
  /** The class each sample was drawn for (class-conditional generators). */
  requested?: number[];
  label: string;
}

async function fromRun(runDir: string, n: number, seed: number): Promise<Generated> {
  const checkpoint = await latestCheckpoint(runDir);
  if (checkpoint === undefined) throw new UsageError(`gantry eval: ${runDir} has no complete checkpoint to evaluate`);
  const config = parseTrainConfig(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')), `${runDir}/config.json`);
  const classNames = await checkpointClassNames(checkpoint, config);
  const { step } = await readCheckpointState(checkpoint);
  const { values } = await sampleCheckpoint(checkpoint, config, n, seed);
  return {
    values,
    dataset: config.data.dataset,
    ...(classNames === null ? {} : { requested: Array.from({ length: n }, (_, i) => i % classNames.length) }),
    label: `${runDir} at step ${step}`,
  };
}

async function fromModel(modelDir: string, n: number, seed: number): Promise<Generated> {
  const name = basename(modelDir);
  const registry = await ModelRegistry.load(dirname(modelDir), { only: [name], device: 'cpu' });
  try {
    const { card } = registry.get(name);
    const requested =
      card.classInput === undefined ? undefined : Array.from({ length: n }, (_, i) => i % card.classInput!.classes);
    const { samples } = await registry.generate(name, { n, seed, ...(requested === undefined ? {} : { class: requested }) });
    return {
      values: samples,
      dataset: card.dataset,
      ...(requested === undefined ? {} : { requested }),
      label: `model ${modelDir}`,
    };
  } finally {
    await registry.close();
  }
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '∞');
const percent = (v: number): string => `${(100 * v).toFixed(1)} %`;

/** The table `gantry eval` prints: one row per measure, the generator beside real-vs-real. */
export function imageTable(evaluation: ImageEvaluation): string {
  const rows: Array<[string, (s: ImageScores) => string]> = [
    ['Fréchet distance (features)', (s) => fixed(s.frechetDistance, 3)],
    ['Inception-style score', (s) => fixed(s.inceptionScore, 3)],
    ['confident (p ≥ 0.9)', (s) => percent(s.confident)],
    ['classes covered', (s) => String(s.coverage.covered)],
    ['class max/min ratio', (s) => fixed(s.coverage.maxMinRatio, 2)],
    [`precision (k = ${evaluation.k})`, (s) => percent(s.precision)],
    [`recall (k = ${evaluation.k})`, (s) => percent(s.recall)],
  ];
  if (evaluation.generator.classAccuracy !== undefined)
    rows.push(['requested class drawn', (s) => (s.classAccuracy === undefined ? '—' : percent(s.classAccuracy))]);
  const histograms = [
    `class histogram, generator:    ${evaluation.generator.coverage.histogram.join(' ')}`,
    `class histogram, real vs real: ${evaluation.realVsReal.coverage.histogram.join(' ')}`,
  ];
  return [
    table(
      ['measure', 'generator', 'real vs real'],
      rows.map(([name, cell]) => [name, cell(evaluation.generator), cell(evaluation.realVsReal)]),
    ),
    ...histograms,
  ].join('\n');
}

export function pointTable(evaluation: PointEvaluation): string {
  const rows = [evaluation.generator, evaluation.realVsReal];
  return table(
    ['measure', 'generator', 'real vs real'],
    [
      ['modes captured', ...rows.map((r) => String(r.modes))],
      ['high quality (< 3σ)', ...rows.map((r) => percent(r.highQualityFraction))],
      ['reverse KL (nats)', ...rows.map((r) => (r.reverseKl === null ? '—' : r.reverseKl.toFixed(4)))],
    ],
  );
}

export function stackedTable(evaluation: StackedEvaluation): string {
  const rows = [evaluation.generator, evaluation.realVsReal];
  return table(
    ['measure', 'generator', 'real vs real'],
    [
      ['modes (of 1000)', ...rows.map((r) => String(r.modes))],
      ['KL to uniform (nats)', ...rows.map((r) => r.klToUniform.toFixed(4))],
    ],
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export async function evalCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('eval', argv, {
    run: { type: 'string' },
    model: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    k: { type: 'string' },
    classifiers: { type: 'string' },
    out: { type: 'string' },
    'no-card': { type: 'boolean', default: false },
  });
  if ((args.run === undefined) === (args.model === undefined))
    throw new UsageError('gantry eval: give exactly one of --run DIR or --model DIR');
  const samples = integerOption('eval', 'samples', args.samples, 10000, 10, 100000);
  const seed = integerOption('eval', 'seed', args.seed, 0, 0, 2 ** 32 - 1);
  const k = integerOption('eval', 'k', args.k, 3, 1, 100);
  const backend = await selectBackend('auto');
  const generated = args.run !== undefined ? await fromRun(args.run, samples, seed) : await fromModel(args.model!, samples, seed);
  const out = args.out ?? (args.run !== undefined ? join(args.run, 'eval.json') : join(args.model!, 'metrics.json'));
  console.log(`evaluating ${samples} samples of ${generated.label} (${generated.dataset}; backend ${backend.detail})`);
  let result:
    | { kind: 'images'; evaluation: ImageEvaluation }
    | { kind: 'points'; evaluation: PointEvaluation }
    | { kind: 'stacked'; evaluation: StackedEvaluation };
  const modes = mixtureModes(generated.dataset);
  if (generated.dataset === 'stacked-mnist') {
    const classifierDir = join(args.classifiers ?? join('models', 'classifiers'), 'mnist');
    const { classifier } = await loadClassifier(classifierDir);
    const { test } = await loadLabelledSplits('mnist');
    const evaluation = evaluateStacked(classifier, generated.values, samples, test, seed);
    classifier.dispose();
    console.log(stackedTable(evaluation));
    result = { kind: 'stacked', evaluation };
  } else if (modes !== undefined) {
    const evaluation = evaluatePoints(generated.values, modes, seed);
    console.log(pointTable(evaluation));
    result = { kind: 'points', evaluation };
  } else {
    if (!(classifierDatasets as readonly string[]).includes(generated.dataset)) {
      throw new UsageError(
        `gantry eval: no evaluation classifier for dataset "${generated.dataset}"; classifiers exist for ${classifierDatasets.join(', ')} and toy mixtures grid-25, ring-8`,
      );
    }
    const dataset = generated.dataset as ClassifierDataset;
    const classifierDir = join(args.classifiers ?? join('models', 'classifiers'), dataset);
    const { classifier } = await loadClassifier(classifierDir);
    const { train, test } = await loadLabelledSplits(dataset);
    const bar = new ProgressBar({ total: 3 * samples + 2, label: 'eval' });
    const offsets = { reference: 0, real: samples, generated: 2 * samples, metrics: 3 * samples };
    const evaluation = evaluateImages(classifier, generated.values, samples, train, test, {
      classifierName: classifierDir,
      k,
      seed,
      ...(generated.requested === undefined ? {} : { requestedClasses: generated.requested }),
      onProgress: (stage, done) => bar.update(offsets[stage] + done, { stage }),
    });
    bar.finish();
    classifier.dispose();
    console.log(imageTable(evaluation));
    result = { kind: 'images', evaluation };
  }
  const metrics = result.kind === 'images' ? { ...cardMetrics(result.evaluation), evaluationSeed: seed } : undefined;
  const report = {
    dataset: generated.dataset,
    source: generated.label,
    samples,
    seed,
    ...result,
    // JSON has no Infinity: a missing class is recorded as a max/min ratio of -1.
    ...(metrics === undefined
      ? {}
      : { cardMetrics: Object.fromEntries(Object.entries(metrics).map(([key, v]) => [key, Number.isFinite(v) ? v : -1])) }),
    evaluatedAt: new Date().toISOString(),
  };
  await writeFileAtomic(out, `${JSON.stringify(report, (_, v: unknown) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
  console.log(`wrote ${out}`);
  if (args.model !== undefined && report.cardMetrics !== undefined && !args['no-card']) {
    const cardPath = join(args.model, 'card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { metrics?: Record<string, number> };
    card.metrics = { ...card.metrics, ...report.cardMetrics };
    await writeFileAtomic(cardPath, `${JSON.stringify(card, null, 2)}\n`);
    console.log(`recorded the metrics in ${cardPath}`);
  }
}
