// Every shipped model whose card records evaluation metrics is evaluated again from its ONNX file with
// the same sample count and seed (gantry eval --model), and the card's figures must come back within
// the tolerances below: the run is deterministic but for float rounding in a different summation order
// (threads), which moves the Fréchet distance's eigenvalues by far less than these bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accuracy,
  classifierDatasets,
  inceptionScore,
  loadClassifier,
  loadLabelledSplits,
  selectBackend,
} from '@gantry/training';
import { repoRoot, runGantry } from './cli.js';

/** Absolute tolerance per card metric (relative for the Fréchet distances). */
const TOLERANCE: Record<string, { absolute?: number; relative?: number }> = {
  frechetDistance: { relative: 0.01 },
  frechetDistanceRealVsReal: { relative: 0.01 },
  inceptionScore: { absolute: 0.01 },
  inceptionScoreReal: { absolute: 0.01 },
  confident: { absolute: 0.002 },
  classesCovered: { absolute: 0 },
  classMaxMinRatio: { absolute: 0.01 },
  precision: { absolute: 0.002 },
  recall: { absolute: 0.002 },
  classAccuracy: { absolute: 0.002 },
  evaluationSamples: { absolute: 0 },
  evaluationSeed: { absolute: 0 },
};

const modelsDir = join(repoRoot, 'models');
const shipped: Array<{ name: string; metrics: Record<string, number> }> = [];
for (const name of (await readdir(modelsDir)).sort()) {
  const card = await readFile(join(modelsDir, name, 'card.json'), 'utf8').then(
    (text) => JSON.parse(text) as { metrics?: Record<string, number> },
    () => null,
  );
  if (card?.metrics?.evaluationSamples !== undefined) shipped.push({ name, metrics: card.metrics });
}

test('the zoo ships evaluated models', () => {
  assert.ok(shipped.length >= 1, 'at least one model card records gantry eval metrics');
});

for (const { name, metrics } of shipped) {
  test(`${name}: gantry eval from generator.onnx reproduces the card's metrics`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-zoo-'));
    try {
      const out = join(dir, 'metrics.json');
      // --out and --no-card leave the shipped metrics.json and card.json as they are.
      const args = [
        'eval',
        '--model',
        join(modelsDir, name),
        '--samples',
        String(metrics.evaluationSamples),
        '--seed',
        String(metrics.evaluationSeed ?? 0),
      ];
      const result = await runGantry([...args, '--out', out, '--no-card'], { timeoutMs: 600_000 });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(await readFile(out, 'utf8')) as { cardMetrics: Record<string, number> };
      for (const [key, expected] of Object.entries(metrics)) {
        const tolerance = TOLERANCE[key];
        if (tolerance === undefined) continue;
        const actual = report.cardMetrics[key]!;
        const bound = tolerance.relative !== undefined ? tolerance.relative * Math.abs(expected) : tolerance.absolute!;
        assert.ok(
          Math.abs(actual - expected) <= bound,
          `${name} ${key}: card ${expected}, recomputed ${actual} (tolerance ${bound})`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

// The evaluation classifiers: each card's test accuracy and test-split score come back from the shipped
// (float16) weights, and the MNIST classifier meets the bar its scores are read against (≥ 99.2 %, and a
// test-split score ≥ 9.8: a classifier that is unsure of real digits caps every generator's score).
const bars: Record<string, { accuracy: number; score?: number }> = {
  mnist: { accuracy: 0.992, score: 9.8 },
  'fashion-mnist': { accuracy: 0.9 },
};
for (const dataset of classifierDatasets) {
  test(`classifiers/${dataset}: the shipped weights reproduce the card's test accuracy and score`, async () => {
    await selectBackend('wasm');
    const { classifier, card } = await loadClassifier(join(modelsDir, 'classifiers', dataset));
    const { test: split } = await loadLabelledSplits(dataset);
    const outputs = classifier.run(split.images, split.count);
    const recomputedAccuracy = accuracy(outputs.probabilities, split.labels!, outputs.classes);
    const recomputedScore = inceptionScore(outputs.probabilities, outputs.classes);
    classifier.dispose();
    assert.equal(split.count, card.testImages);
    assert.ok(
      Math.abs(recomputedAccuracy - card.testAccuracy) <= 2e-4,
      `accuracy ${recomputedAccuracy}, card ${card.testAccuracy}`,
    );
    assert.ok(Math.abs(recomputedScore - card.testScore) <= 0.005, `score ${recomputedScore}, card ${card.testScore}`);
    const bar = bars[dataset]!;
    assert.ok(recomputedAccuracy >= bar.accuracy, `test accuracy ${recomputedAccuracy} < ${bar.accuracy}`);
    if (bar.score !== undefined) assert.ok(recomputedScore >= bar.score, `test-split score ${recomputedScore} < ${bar.score}`);
  });
}
