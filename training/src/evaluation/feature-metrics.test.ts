import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { fitGaussian, frechetDistance, precisionRecall } from './feature-metrics.js';

await tf.setBackend('cpu');

/** count rows of `dimension` correlated features: x = A z + b with a random mixing A and shift b. */
function correlatedFeatures(rng: Rng, count: number, dimension: number, scale: number, shift: number): Float32Array {
  const mixing = Array.from({ length: dimension * dimension }, () => rng.nextNormal() * scale);
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) {
    const z = Array.from({ length: dimension }, () => rng.nextNormal());
    for (let r = 0; r < dimension; r++) {
      let v = shift * (r % 3);
      for (let c = 0; c < dimension; c++) v += mixing[r * dimension + c]! * z[c]!;
      out[i * dimension + r] = v;
    }
  }
  return out;
}

test('Fréchet distance of diagonal covariances is the closed form Σ(μ₁−μ₂)² + Σ(σ₁−σ₂)²', () => {
  const dimension = 6;
  const fit = (means: number[], variances: number[]) => ({
    mean: Float64Array.from(means),
    covariance: Float64Array.from({ length: dimension * dimension }, (_, i) =>
      i % (dimension + 1) === 0 ? variances[i / (dimension + 1)]! : 0,
    ),
    dimension,
  });
  const p = fit([0, 1, 2, 3, 4, 5], [1, 4, 9, 0.25, 2, 0.01]);
  const q = fit([1, 1, 0, 3, 4.5, 5], [4, 1, 9, 1, 8, 0.04]);
  let expected = 0;
  for (let d = 0; d < dimension; d++)
    expected += (p.mean[d]! - q.mean[d]!) ** 2 + (Math.sqrt(p.covariance[d * 7]!) - Math.sqrt(q.covariance[d * 7]!)) ** 2;
  assert.ok(Math.abs(frechetDistance(p, q) - expected) < 1e-9, `${frechetDistance(p, q)} vs ${expected}`);
  assert.ok(frechetDistance(p, p) < 1e-9);
});

test('Fréchet distance of full covariances matches numpy/scipy (scipy.linalg.sqrtm of Σ₁Σ₂)', () => {
  const rng = Rng.fromSeed(5);
  const dimension = 12;
  const a = correlatedFeatures(rng, 400, dimension, 1, 0);
  const b = correlatedFeatures(rng, 300, dimension, 0.7, 0.5);
  const ours = frechetDistance(fitGaussian(a, dimension), fitGaussian(b, dimension));
  const script = `
import json, sys, numpy as np, scipy.linalg
d = json.load(sys.stdin); n = d['dimension']
a = np.array(d['a'], dtype=np.float64).reshape(-1, n); b = np.array(d['b'], dtype=np.float64).reshape(-1, n)
s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
root = scipy.linalg.sqrtm(s1 @ s2).real
print(float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * root)))`;
  const reference = Number(
    execFileSync('python3', ['-c', script], { input: JSON.stringify({ dimension, a: [...a], b: [...b] }) }).toString(),
  );
  assert.ok(Math.abs(ours - reference) < 1e-6 * Math.max(1, reference), `ours ${ours} vs scipy ${reference}`);
});

test('precision and recall match a brute-force numpy k-NN computation, and separate disjoint sets', () => {
  const rng = Rng.fromSeed(9);
  const dimension = 5;
  const real = correlatedFeatures(rng, 300, dimension, 1, 0);
  const fake = correlatedFeatures(rng, 250, dimension, 0.6, 0.8);
  const ours = precisionRecall(real, fake, dimension, 3);
  const script = `
import json, sys, numpy as np
d = json.load(sys.stdin); n = d['dimension']; k = d['k']
r = np.array(d['real']).reshape(-1, n); f = np.array(d['fake']).reshape(-1, n)
def dist(x, y): return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
def radii(x): return np.sort(dist(x, x), axis=1)[:, k]
def inside(q, ref): return float((dist(q, ref) <= radii(ref)[None, :]).any(1).mean())
print(json.dumps([inside(f, r), inside(r, f)]))`;
  const [precision, recall] = JSON.parse(
    execFileSync('python3', ['-c', script], {
      input: JSON.stringify({ dimension, k: 3, real: [...real], fake: [...fake] }),
    }).toString(),
  ) as [number, number];
  // float32 distances may flip a point lying exactly on a ball's edge; allow one point either way.
  assert.ok(Math.abs(ours.precision - precision) <= 1 / 250 + 1e-12, `precision ${ours.precision} vs ${precision}`);
  assert.ok(Math.abs(ours.recall - recall) <= 1 / 300 + 1e-12, `recall ${ours.recall} vs ${recall}`);
  const far = real.map((v) => v + 1000);
  const disjoint = precisionRecall(real, far, dimension, 3);
  assert.equal(disjoint.precision, 0);
  assert.equal(disjoint.recall, 0);
  const same = precisionRecall(real, real.slice(), dimension, 3);
  assert.equal(same.precision, 1);
  assert.equal(same.recall, 1);
});
