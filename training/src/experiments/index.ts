// Experiments: `gantry experiment NAME` runs one of `EXPERIMENTS` into an output folder.
import { divergencesExperiment } from './divergences.js';
import { registerExperiment, type RegisteredExperiment } from './runner.js';

export type { Experiment, ExperimentUnit, ExperimentSummary, Plot, UnitContext, SummaryContext } from './experiment.js';
export { runExperiment, registerExperiment, ExperimentError, type ExperimentEvent, type ExperimentOutcome, type RunExperimentOptions, type RegisteredExperiment } from './runner.js';
export { divergencesExperiment, parallelLinesClosedForm } from './divergences.js';
export {
  modeCollapseExperiment,
  aggregateModeCollapse,
  modeCollapseTable,
  scoreModeCollapse,
  PACGAN_TABLE_1,
  type GenerateSamples,
  type ModeCollapseParameters,
  type ModeCollapseUnit,
  type ModeCollapseResult,
  type ModeCollapseRow,
} from './mode-collapse.js';
export { markdownTable, formatNumber } from './table.js';

/**
 * Every experiment the CLI can run, by name. Training experiments (mode-collapse with its sample
 * generator, vanishing-gradients, clipping, gaussian-1d) join this list once the trainer can run them.
 */
export const EXPERIMENTS: ReadonlyMap<string, RegisteredExperiment> = new Map([divergencesExperiment].map((e) => [e.name, registerExperiment(e)]));
