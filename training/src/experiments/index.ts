// Experiments: `gantry experiment NAME` runs one of `EXPERIMENTS` into an output folder.
import { divergencesExperiment } from './divergences.js';
import { gaussian1dExperiment } from './gaussian-1d.js';
import { vanishingGradientsExperiment } from './vanishing-gradients.js';
import { clippingExperiment } from './clipping.js';
import { modeCollapseTrainingExperiment } from './mode-collapse-training.js';
import { stackedMnistExperiment } from './stacked-mnist.js';
import { registerExperiment, type RegisteredExperiment } from './runner.js';

export type { Experiment, ExperimentUnit, ExperimentSummary, Plot, UnitContext, SummaryContext } from './experiment.js';
export {
  runExperiment,
  runExperimentShard,
  prepareExperiment,
  registerExperiment,
  ExperimentError,
  type ExperimentEvent,
  type ExperimentOutcome,
  type ShardOutcome,
  type RunExperimentOptions,
  type RegisteredExperiment,
} from './runner.js';
export { divergencesExperiment, parallelLinesClosedForm } from './divergences.js';
export {
  modeCollapseExperiment,
  aggregateModeCollapse,
  modeCollapseTable,
  scoreModeCollapse,
  PACGAN_TABLE_1,
  MODE_COLLAPSE_METHODS,
  MODE_COLLAPSE_PAPER_STEPS,
  MODE_COLLAPSE_PARAMETERS,
  methodSettings,
  type ModeCollapseMethod,
  type ModeCollapseTraining,
  type GenerateSamples,
  type ModeCollapseParameters,
  type ModeCollapseUnit,
  type ModeCollapseResult,
  type ModeCollapseRow,
} from './mode-collapse.js';
export {
  gaussian1dExperiment,
  bestResponseBranches,
  spuriousEquilibrium,
  type Gaussian1dParameters,
  type Gaussian1dResult,
  type Gaussian1dUnit,
} from './gaussian-1d.js';
export {
  vanishingGradientsExperiment,
  type VanishingGradientsParameters,
  type VanishingGradientsResult,
  type VanishingGradientsUnit,
} from './vanishing-gradients.js';
export { clippingExperiment, type ClippingParameters, type ClippingResult, type ClippingUnit } from './clipping.js';
export { modeCollapseTrainingExperiment, modeCollapseConfig, trainAndSample } from './mode-collapse-training.js';
export { startRun, takeStep, endRun, withRun, contextOf, type InProcessRun } from './in-process.js';
export { markdownTable, formatNumber } from './table.js';
export {
  stackedMnistExperiment,
  stackedMnistConfig,
  STACKED_METHODS,
  type StackedMnistParameters,
  type StackedMnistUnit,
  type StackedMnistResult,
} from './stacked-mnist.js';

/** Every experiment the CLI can run, by name. */
export const EXPERIMENTS: ReadonlyMap<string, RegisteredExperiment> = new Map(
  [
    registerExperiment(divergencesExperiment),
    registerExperiment(gaussian1dExperiment),
    registerExperiment(vanishingGradientsExperiment),
    registerExperiment(clippingExperiment),
    registerExperiment(modeCollapseTrainingExperiment),
    registerExperiment(stackedMnistExperiment),
  ].map((e) => [e.name, e]),
);
