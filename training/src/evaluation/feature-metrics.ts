// Metrics in the evaluation classifier's feature space: the Fréchet distance between Gaussian fits
// (Heusel et al. 2017, FID with Inception replaced by the dataset's classifier) and improved precision
// and recall by k-nearest-neighbour balls (Kynkäänniemi et al. 2019).
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { GantryError } from '@gantry/core';

export interface GaussianFit {
  mean: Float64Array;
  /** dimension × dimension, row-major, the unbiased (n − 1) covariance as numpy.cov computes it. */
  covariance: Float64Array;
  dimension: number;
}

/** Mean and covariance of `count` rows of `dimension` features. */
export function fitGaussian(features: Float32Array, dimension: number): GaussianFit {
  const count = features.length / dimension;
  if (!(Number.isInteger(count) && count >= 2)) {
    throw new GantryError(
      'features-too-few',
      `a Gaussian fit needs at least 2 feature rows of ${dimension}; got ${features.length} values`,
    );
  }
  const mean = new Float64Array(dimension);
  for (let i = 0; i < count; i++) for (let d = 0; d < dimension; d++) mean[d]! += features[i * dimension + d]!;
  for (let d = 0; d < dimension; d++) mean[d]! /= count;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dimension; d++) centred[d] = features[i * dimension + d]! - mean[d]!;
    for (let a = 0; a < dimension; a++) {
      const ca = centred[a]!;
      if (ca === 0) continue;
      const row = a * dimension;
      for (let b = a; b < dimension; b++) covariance[row + b]! += ca * centred[b]!;
    }
  }
  for (let a = 0; a < dimension; a++) {
    for (let b = a; b < dimension; b++) {
      const value = covariance[a * dimension + b]! / (count - 1);
      covariance[a * dimension + b] = value;
      covariance[b * dimension + a] = value;
    }
  }
  return { mean, covariance, dimension };
}

function toMatrix(values: Float64Array, n: number): Matrix {
  return new Matrix(Array.from({ length: n }, (_, r) => Array.from(values.subarray(r * n, (r + 1) * n))));
}

/** The symmetric square root of a symmetric positive semi-definite matrix, by its eigendecomposition. */
export function symmetricSqrt(m: Matrix): Matrix {
  const eig = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const vectors = eig.eigenvectorMatrix;
  const roots = eig.realEigenvalues.map((lambda) => Math.sqrt(Math.max(lambda, 0)));
  return vectors.mmul(Matrix.diag(roots)).mmul(vectors.transpose());
}

/**
 * tr((Σ₁Σ₂)^½). Σ₁Σ₂ is not symmetric, but it is similar to Σ₁^½ Σ₂ Σ₁^½, which is symmetric positive
 * semi-definite with the same eigenvalues, so the trace is the sum of the roots of that matrix's eigenvalues.
 */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number): number {
  const rootA = symmetricSqrt(toMatrix(a, n));
  const inner = rootA.mmul(toMatrix(b, n)).mmul(rootA);
  // Symmetrise: rounding leaves the product off-symmetric by ~1e-16, which the symmetric solver ignores anyway.
  const symmetric = inner.add(inner.transpose()).mul(0.5);
  return new EigenvalueDecomposition(symmetric, { assumeSymmetric: true }).realEigenvalues.reduce(
    (sum, lambda) => sum + Math.sqrt(Math.max(lambda, 0)),
    0,
  );
}

/** ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½). */
export function frechetDistance(p: GaussianFit, q: GaussianFit): number {
  if (p.dimension !== q.dimension)
    throw new GantryError(
      'features-dimension',
      `Fréchet distance between ${p.dimension}- and ${q.dimension}-dimensional features`,
    );
  const n = p.dimension;
  let meanTerm = 0;
  let traces = 0;
  for (let d = 0; d < n; d++) {
    meanTerm += (p.mean[d]! - q.mean[d]!) ** 2;
    traces += p.covariance[d * n + d]! + q.covariance[d * n + d]!;
  }
  return Math.max(0, meanTerm + traces - 2 * traceSqrtProduct(p.covariance, q.covariance, n));
}

/** Squared Euclidean distances between rows of a (na × d) and b (nb × d), as an na × nb tensor. */
function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), 1, true);
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
    return tf.relu(tf.sub(tf.add(aa, bb), tf.mul(tf.matMul(a, b, false, true), 2))) as tf.Tensor2D;
  });
}

const ROWS_PER_CHUNK = 1000;

/** Each row's squared distance to its k-th nearest other row of the same set. */
export function kthNeighbourRadii(features: Float32Array, dimension: number, k: number): Float32Array {
  const count = features.length / dimension;
  if (!(k >= 1 && k < count))
    throw new GantryError('knn-k', `k-NN radii need 1 ≤ k < ${count} (the number of feature rows); got k = ${k}`);
  const all = tf.tensor2d(features, [count, dimension]);
  const radii = new Float32Array(count);
  for (let start = 0; start < count; start += ROWS_PER_CHUNK) {
    const n = Math.min(ROWS_PER_CHUNK, count - start);
    const kth = tf.tidy(() => {
      const distances = squaredDistances(tf.slice(all, [start, 0], [n, dimension]), all);
      // The row itself is at distance 0 and is the nearest; the k-th other neighbour is the (k+1)-th.
      const { values } = tf.topk(tf.neg(distances), k + 1);
      return tf.neg(tf.slice(values, [0, k], [n, 1]));
    });
    radii.set(kth.dataSync(), start);
    kth.dispose();
  }
  all.dispose();
  return radii;
}

/** Fraction of `queries` rows that lie within some reference row's ball (squared radius `radii`). */
export function fractionInsideBalls(
  queries: Float32Array,
  references: Float32Array,
  radii: Float32Array,
  dimension: number,
): number {
  const count = queries.length / dimension;
  const refs = tf.tensor2d(references, [references.length / dimension, dimension]);
  const radiusRow = tf.tensor2d(radii, [1, radii.length]);
  let inside = 0;
  for (let start = 0; start < count; start += ROWS_PER_CHUNK) {
    const n = Math.min(ROWS_PER_CHUNK, count - start);
    const hits = tf.tidy(() => {
      const q = tf.tensor2d(queries.subarray(start * dimension, (start + n) * dimension), [n, dimension]);
      return tf.sum(tf.cast(tf.any(tf.lessEqual(squaredDistances(q, refs), radiusRow), 1), 'int32'));
    });
    inside += hits.dataSync()[0]!;
    hits.dispose();
  }
  tf.dispose([refs, radiusRow]);
  return inside / count;
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

/**
 * Precision: the share of generated samples inside the real manifold (the union of balls reaching each
 * real sample's k-th nearest real neighbour); recall: the share of real samples inside the generated one.
 */
export function precisionRecall(real: Float32Array, fake: Float32Array, dimension: number, k = 3): PrecisionRecall {
  const realRadii = kthNeighbourRadii(real, dimension, k);
  const fakeRadii = kthNeighbourRadii(fake, dimension, k);
  return {
    precision: fractionInsideBalls(fake, real, realRadii, dimension),
    recall: fractionInsideBalls(real, fake, fakeRadii, dimension),
    k,
  };
}
