// The two standard 2-D mixture benchmarks in the shape the mode-coverage measures take. The mixtures
// themselves are defined once, by the toy data that samples them (data/toy.ts).
import { grid25, ring8, type GaussianMixture } from '../data/toy.js';

export interface MixtureModes {
  name: 'grid-25' | 'ring-8';
  centres: ReadonlyArray<readonly [number, number]>;
  sigma: number;
}

function asModes(name: MixtureModes['name'], mixture: GaussianMixture): MixtureModes {
  return { name, centres: mixture.centres.map(([x, y]) => [x!, y!] as const), sigma: mixture.std };
}

/** 25 Gaussians at {−4, −2, 0, 2, 4}², σ 0.05. */
export const GRID_25: MixtureModes = asModes('grid-25', grid25);

/** 8 Gaussians on the unit circle at angles 2πk/8 (k = 0…7), σ 0.01. */
export const RING_8: MixtureModes = asModes('ring-8', ring8);
