// Low-dimensional toy distributions for studying mode collapse and the case studies, drawn
// deterministically from an Rng (the trainer seeds one from the run's seed), so a run and its resume
// see the same points on every platform:
// - grid-25: 25 Gaussians at {−4, −2, 0, 2, 4}², std 0.05, equal weights (PacGAN's grid);
// - ring-8: 8 Gaussians on the unit circle at angles 2πk/8, std 0.01 (Metz et al.'s ring, without
//   the repeated angle of their notebook's linspace(0, 2π, 8));
// - gaussian-1d: N(0, 1), the data of the 1-D case study (docs/REFERENCES.md#the-1-d-case-study);
// - swiss-roll: the 2-D Swiss roll of WGAN-GP's toy code (sklearn's make_swiss_roll with noise 0.25,
//   coordinates x and z, divided by 7.5).
import type { Rng } from '@gantry/core';

export const toyDatasetNames = ['grid-25', 'ring-8', 'gaussian-1d', 'swiss-roll'] as const;
export type ToyDatasetName = (typeof toyDatasetNames)[number];

/** PacGAN's training set size. */
export const DEFAULT_TOY_POINTS = 100_000;

export function isToyDataset(name: string): name is ToyDatasetName {
  return (toyDatasetNames as readonly string[]).includes(name);
}

/** An in-memory set of points in R^dimensions. */
export interface PointDataset {
  name: ToyDatasetName;
  count: number;
  dimensions: number;
  /** count × dimensions floats, row-major. */
  points: Float32Array;
}

/** An equal-weight mixture of isotropic Gaussians: what mode-coverage metrics measure against. */
export interface GaussianMixture {
  centres: readonly (readonly number[])[];
  std: number;
}

const gridCoordinates = [-4, -2, 0, 2, 4];

export const grid25: GaussianMixture = {
  centres: gridCoordinates.flatMap((x) => gridCoordinates.map((y) => [x, y])),
  std: 0.05,
};

export const ring8: GaussianMixture = {
  centres: Array.from({ length: 8 }, (_, k) => [Math.cos((2 * Math.PI * k) / 8), Math.sin((2 * Math.PI * k) / 8)]),
  std: 0.01,
};

export const gaussian1d: GaussianMixture = { centres: [[0]], std: 1 };

/** The mixture a toy dataset is drawn from; undefined for the Swiss roll (a curve, not a mixture). */
export function toyMixture(name: ToyDatasetName): GaussianMixture | undefined {
  switch (name) {
    case 'grid-25':
      return grid25;
    case 'ring-8':
      return ring8;
    case 'gaussian-1d':
      return gaussian1d;
    case 'swiss-roll':
      return undefined;
  }
}

export function toyDimensions(name: ToyDatasetName): number {
  return name === 'gaussian-1d' ? 1 : 2;
}

function drawMixture(mixture: GaussianMixture, out: Float32Array, count: number, rng: Rng): void {
  const d = mixture.centres[0]!.length;
  for (let i = 0; i < count; i++) {
    const centre = mixture.centres[rng.nextInt(mixture.centres.length)]!;
    for (let k = 0; k < d; k++) out[i * d + k] = centre[k]! + mixture.std * rng.nextNormal();
  }
}

function drawSwissRoll(out: Float32Array, count: number, rng: Rng): void {
  for (let i = 0; i < count; i++) {
    const t = 1.5 * Math.PI * (1 + 2 * rng.nextFloat());
    out[2 * i] = (t * Math.cos(t) + 0.25 * rng.nextNormal()) / 7.5;
    out[2 * i + 1] = (t * Math.sin(t) + 0.25 * rng.nextNormal()) / 7.5;
  }
}

/** `count` points of the named distribution, drawn from `rng` (advancing it). */
export function generateToyDataset(name: ToyDatasetName, count: number, rng: Rng): PointDataset {
  if (!isToyDataset(name))
    throw new RangeError(`unknown toy dataset ${JSON.stringify(name)}; known: ${toyDatasetNames.join(', ')}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a toy dataset needs an integer count ≥ 1, got ${count}`);
  const dimensions = toyDimensions(name);
  const points = new Float32Array(count * dimensions);
  const mixture = toyMixture(name);
  if (mixture === undefined) drawSwissRoll(points, count, rng);
  else drawMixture(mixture, points, count, rng);
  return { name, count, dimensions, points };
}
