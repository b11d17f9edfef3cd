import type { Objective } from './objective.js';
import { hinge } from './hinge.js';
import { leastSquares } from './least-squares.js';
import { minimax } from './minimax.js';
import { nonSaturating } from './non-saturating.js';
import { wasserstein } from './wasserstein.js';

export type { Objective } from './objective.js';

/** Every objective by its config name. */
export const objectives = {
  minimax,
  'non-saturating': nonSaturating,
  wasserstein,
  'least-squares': leastSquares,
  hinge,
} satisfies Record<string, Objective>;

export type ObjectiveName = keyof typeof objectives;

/** The config names, for the schema's enum. */
export const objectiveNames = Object.keys(objectives) as [ObjectiveName, ...ObjectiveName[]];
