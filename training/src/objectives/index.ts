import type { Objective } from './objective.js';
import { nonSaturating } from './non-saturating.js';
import { wasserstein } from './wasserstein.js';

export type { Objective } from './objective.js';

/** Every objective by its config name. */
export const objectives = {
  'non-saturating': nonSaturating,
  wasserstein,
} satisfies Record<string, Objective>;

export type ObjectiveName = keyof typeof objectives;
