// Public API of @gantry/training.
export * from './backend/select.js';
export { parseTrainConfig, readTrainConfig, configSha256, ConfigError, trainConfigSchema, type TrainConfig, type TrainConfigInput } from './run/config.js';
export { train, RunFolderError, type TrainEvent, type TrainOptions, type TrainResult } from './run/trainer.js';
export { latestCheckpoint, listCheckpointSteps, checkpointFolder, type CheckpointState } from './run/checkpoint.js';
export { DatasetError } from './data/idx.js';
export { loadDataset, type LoadDatasetOptions } from './data/datasets.js';
export type { ImageDataset, DatasetProgress, ProgressCallback } from './data/image-dataset.js';
export { loadMnist, MNIST_CLASSES } from './data/mnist.js';
export { loadFashionMnist, FASHION_MNIST_CLASSES } from './data/fashion-mnist.js';
export { loadImageFolder, sharpInputExtensions, type ImageFolderOptions } from './data/image-folder.js';
export { drawFakeLabels } from './data/labels.js';
export { buildPlayers, disposePlayers, type Players } from './run/players.js';
export { alternatingStep, type StepLosses } from './strategies/alternating.js';
export { buildDcganGenerator, buildDcganDiscriminator, upsamplingStages, type DcganOptions } from './architectures/dcgan.js';
export * from './metrics/index.js';
export { linePlot, scatterPlot, svgToPng, type LinePlotOptions, type ScatterPlotOptions } from './plots/index.js';
export {
  EXPERIMENTS,
  runExperiment,
  registerExperiment,
  ExperimentError,
  modeCollapseExperiment,
  type Experiment,
  type ExperimentEvent,
  type ExperimentOutcome,
  type RegisteredExperiment,
  type GenerateSamples,
} from './experiments/index.js';
export {
  buildConditionalGenerator,
  buildProjectionDiscriminator,
  buildAuxiliaryClassifierDiscriminator,
  auxiliaryClassifierLoss,
  type ConditionalDcganOptions,
} from './architectures/conditional.js';
