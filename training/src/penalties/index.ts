export { gradientPenalty, perSampleUniform, GRADIENT_NORM_STABILISER } from './gradient-penalty.js';
export type { Critic, GradientPenaltyOptions, UniformSource } from './gradient-penalty.js';
