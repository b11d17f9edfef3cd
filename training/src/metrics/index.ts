// Measures and diagnostics: divergences, exact optimal transport, mode coverage.
export { klDivergence, jsDivergence, histogram, type DivergenceOptions, type HistogramAxis } from './divergences.js';
export { solveAssignment, type Assignment } from './assignment.js';
export { wasserstein1d, optimalTransportPoints, type OptimalTransport } from './wasserstein.js';
export { modeCoverage, type ModeCoverage, type ModeCoverageOptions } from './mode-coverage.js';
export { meanWithStandardError, type MeanWithError } from './statistics.js';
export { GRID_25, RING_8, type MixtureModes } from './mixture-modes.js';
