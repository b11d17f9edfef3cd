// Mode centres and σ of the two standard 2-D mixture benchmarks (PacGAN's code; see ANCHORS.md), kept
// here so the mode-coverage measures and the experiments that report them agree on one definition.
// The toy-data module that samples these mixtures should import them from here rather than repeat them.

export interface MixtureModes {
  name: 'grid-25' | 'ring-8';
  centres: ReadonlyArray<readonly [number, number]>;
  sigma: number;
}

/** 25 Gaussians at {−4, −2, 0, 2, 4}², σ 0.05. */
export const GRID_25: MixtureModes = {
  name: 'grid-25',
  centres: [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].map((y) => [x, y] as const)),
  sigma: 0.05,
};

/** 8 Gaussians on the unit circle at angles 2πk/8 (k = 0…7), σ 0.01. */
export const RING_8: MixtureModes = {
  name: 'ring-8',
  centres: Array.from({ length: 8 }, (_, k) => [Math.cos((2 * Math.PI * k) / 8), Math.sin((2 * Math.PI * k) / 8)] as const),
  sigma: 0.01,
};
