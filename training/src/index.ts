// Public API of @gantry/training.
export * from './backend/select.js';
export {
  parseTrainConfig,
  readTrainConfig,
  trainConfigWarnings,
  configSha256,
  ConfigError,
  trainConfigSchema,
  type TrainConfig,
  type TrainConfigInput,
} from './run/config.js';
export {
  train,
  RunFolderError,
  TrainingDivergedError,
  type TrainEvent,
  type TrainOptions,
  type TrainResult,
} from './run/trainer.js';
export { readRunConfig } from './run/run-folder.js';
export {
  latestCheckpoint,
  listCheckpointSteps,
  checkpointFolder,
  checkpointGeneratorModel,
  checkpointClassNames,
  readCheckpointState,
  sampleCheckpoint,
  type CheckpointState,
} from './run/checkpoint.js';
export { DatasetError } from './data/idx.js';
export {
  loadDataset,
  isPointDataset,
  sampleShape,
  sampleValues,
  type Dataset,
  type LoadDatasetOptions,
} from './data/datasets.js';
export type { ImageDataset, DatasetProgress, ProgressCallback } from './data/image-dataset.js';
export { loadMnist, MNIST_CLASSES } from './data/mnist.js';
export { loadFashionMnist, FASHION_MNIST_CLASSES } from './data/fashion-mnist.js';
export { loadImageFolder, sharpInputExtensions, type ImageFolderOptions } from './data/image-folder.js';
export { drawFakeLabels } from './data/labels.js';
export {
  generateToyDataset,
  toyMixture,
  toyDatasetNames,
  isToyDataset,
  grid25,
  ring8,
  gaussian1d,
  DEFAULT_TOY_POINTS,
  type PointDataset,
  type GaussianMixture,
  type ToyDatasetName,
} from './data/toy.js';
export { pointsToPng, plotRange, samplesToPng } from './run/point-plot.js';
export {
  buildPlayers,
  buildPlayersFor,
  buildGenerator,
  buildDiscriminator,
  conditionalClasses,
  disposePlayers,
  type Players,
} from './run/players.js';
export { alternatingStep, type StepLosses } from './strategies/alternating.js';
export { createStrategy, type Strategy, type StepContext } from './strategies/index.js';
export { objectives, type Objective, type ObjectiveName } from './objectives/index.js';
export { buildDcganGenerator, buildDcganDiscriminator, upsamplingStages, type DcganOptions } from './architectures/dcgan.js';
export * from './metrics/index.js';
export { linePlot, scatterPlot, svgToPng, type LinePlotOptions, type ScatterPlotOptions } from './plots/index.js';
export {
  EXPERIMENTS,
  runExperiment,
  registerExperiment,
  ExperimentError,
  modeCollapseExperiment,
  modeCollapseConfig,
  MODE_COLLAPSE_PARAMETERS,
  type ModeCollapseMethod,
  type Experiment,
  type ExperimentEvent,
  type ExperimentOutcome,
  type ShardOutcome,
  type RunExperimentOptions,
  type RegisteredExperiment,
  type GenerateSamples,
} from './experiments/index.js';
export {
  buildConditionalGenerator,
  buildProjectionDiscriminator,
  buildAuxiliaryClassifierDiscriminator,
  type ConditionalDcganOptions,
} from './architectures/conditional.js';
export { auxiliaryClassifierLoss } from './objectives/auxiliary-classifier.js';
export {
  buildMlpGenerator,
  buildMlpDiscriminator,
  type MlpGeneratorOptions,
  type MlpDiscriminatorOptions,
} from './architectures/mlp.js';
export { buildLinearGenerator, buildLinearDiscriminator, ShiftLayer, type LinearPairOptions } from './architectures/linear.js';
export * from './evaluation/index.js';
export { buildReport } from './report/report.js';
export { loadStackedMnist, stackDigits, STACKED_MNIST_MODES, STACKED_MNIST_DEFAULT_IMAGES } from './data/stacked-mnist.js';
