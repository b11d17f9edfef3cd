import type { Objective } from './objective.js';
import { nonSaturating } from './non-saturating.js';

export type { Objective } from './objective.js';

/** Every objective by its config name. */
export const objectives: Record<'non-saturating', Objective> = {
  'non-saturating': nonSaturating,
};
