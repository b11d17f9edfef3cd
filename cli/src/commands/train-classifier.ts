import { basename, join, resolve } from 'node:path';
import {
  classifierDatasets,
  defaultClassifierTraining,
  inceptionScore,
  accuracy,
  loadLabelledSplits,
  saveClassifierModel,
  writeClassifierCard,
  selectBackend,
  trainClassifier,
  FEATURES_LAYER,
  loadClassifier,
  buildClassifier,
  type ClassifierCard,
} from '@gantry/training';
import { choiceOption, integerOption, numberOption, parseCommandArgs, requireOption, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';

export const trainClassifierUsage = `gantry train-classifier --dataset mnist|fashion-mnist --out DIR [--epochs 4] [--seed 1] [--backend auto|wasm|cpu]
                        [--from CLASSIFIER_DIR] [--learning-rate 0.001] [--shift 1] [--dropout 0.25]
  Trains the evaluation classifier gantry eval uses (a small CNN; its 128-unit penultimate layer is the
  feature space of the Fréchet distance and precision/recall) and writes DIR/model.json, weights.bin (float16) and
  card.json (split, accuracy, test-split score). Resumes from DIR/checkpoint/ after an interruption.
  --from continues training a shipped classifier (fine-tuning; its card's training is kept under training.from);
  --learning-rate is the cosine schedule's start, --shift the largest random translation in pixels, --dropout
  the rate before the last layer (with --from: default the shipped classifier's own).`;

export async function trainClassifierCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('train-classifier', argv, {
    dataset: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    from: { type: 'string' },
    'learning-rate': { type: 'string' },
    shift: { type: 'string' },
    dropout: { type: 'string' },
  });
  const dataset = choiceOption(
    'train-classifier',
    'dataset',
    requireOption('train-classifier', 'dataset', args.dataset, 'mnist or fashion-mnist'),
    classifierDatasets,
    'mnist',
  );
  const out = requireOption('train-classifier', 'out', args.out, 'the folder to write the classifier to');
  const backend = await selectBackend(
    choiceOption('train-classifier', 'backend', args.backend, ['auto', 'wasm', 'cpu'] as const, 'auto'),
  );
  console.log(`backend: ${backend.detail}`);
  const start = args.from === undefined ? undefined : await loadClassifier(args.from);
  if (start !== undefined && start.card.dataset !== dataset) {
    throw new UsageError(
      `gantry train-classifier: --from ${args.from} is a ${start.card.dataset} classifier; --dataset is ${dataset}`,
    );
  }
  const options = {
    ...defaultClassifierTraining,
    epochs: integerOption('train-classifier', 'epochs', args.epochs, defaultClassifierTraining.epochs, 1, 1000),
    seed: integerOption('train-classifier', 'seed', args.seed, defaultClassifierTraining.seed, 0, 2 ** 32 - 1),
    learningRate: numberOption(
      'train-classifier',
      'learning-rate',
      args['learning-rate'],
      defaultClassifierTraining.learningRate,
      {
        min: 0,
        max: 1,
        minOpen: true,
      },
    ),
    shift: integerOption('train-classifier', 'shift', args.shift, defaultClassifierTraining.shift, 0, 4),
    dropout: numberOption(
      'train-classifier',
      'dropout',
      args.dropout,
      start?.card.training.dropout ?? defaultClassifierTraining.dropout,
      {
        min: 0,
        max: 1,
        maxOpen: true,
      },
    ),
  };
  let startModel = start?.classifier.model;
  if (start !== undefined && options.dropout !== start.card.training.dropout) {
    // Dropout has no weights: the same network with another rate takes the shipped weights as they are.
    startModel = buildClassifier(start.card.inputShape, start.card.classNames.length, options.dropout);
    startModel.setWeights(start.classifier.model.getWeights());
  }
  const { train, test, splitDescription } = await loadLabelledSplits(dataset);
  console.log(`${dataset}: ${train.count} training and ${test.count} test images (${splitDescription})`);
  const batches = Math.floor(train.count / options.batchSize);
  const bar = new ProgressBar({ total: batches * options.epochs, label: 'train-classifier' });
  const trained = await trainClassifier(
    train,
    test,
    options,
    out,
    (event) => {
      if (event.kind === 'batch')
        bar.update(event.epoch * batches + event.batch + 1, { epoch: String(event.epoch + 1), loss: event.loss.toFixed(4) });
      else
        bar.log(
          `epoch ${event.epoch}: test accuracy ${(100 * event.testAccuracy).toFixed(2)} %, test-split score ${event.testScore.toFixed(3)} (${event.seconds.toFixed(0)} s)`,
        );
    },
    startModel,
  );
  bar.finish();
  const { wallSeconds } = trained;
  // The card describes the shipped (float16) weights, read back from disk.
  const classifier = await saveClassifierModel(trained.classifier, out);
  trained.classifier.dispose();
  const outputs = classifier.run(test.images, test.count);
  const card: ClassifierCard = {
    format: 'gantry-classifier-card/1',
    dataset,
    classNames: train.classNames!,
    inputShape: train.shape,
    pixelRange: [-1, 1],
    featureLayer: FEATURES_LAYER,
    featureSize: outputs.featureSize,
    split: splitDescription,
    training: {
      ...options,
      wallSeconds: Math.round(wallSeconds),
      backend: backend.name,
      trainImages: train.count,
      ...(start === undefined ? {} : { from: { classifier: basename(resolve(args.from!)), training: start.card.training } }),
    },
    testAccuracy: accuracy(outputs.probabilities, test.labels!, outputs.classes),
    testImages: test.count,
    testScore: inceptionScore(outputs.probabilities, outputs.classes),
  };
  await writeClassifierCard(card, out);
  console.log(
    `test accuracy ${(100 * card.testAccuracy).toFixed(2)} %, test-split score ${card.testScore.toFixed(3)}; wrote ${join(out, 'model.json')} and card.json`,
  );
}
