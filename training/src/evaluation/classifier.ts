// The evaluation classifiers: a small CNN per dataset, trained by Gantry itself on tfjs, whose class
// probabilities give the Inception-style score, class coverage and conditional accuracy, and whose
// penultimate layer (`features`, 128 ReLU units) is the feature space of the Fréchet distance and of
// k-NN precision/recall.
//
// conv 5×5·32 (same)·BN·ReLU → max-pool 2 → conv 3×3·64 (same)·BN·ReLU → max-pool 2 → dense 128·ReLU
// (`features`) → dropout → dense 10 (`logits`). Trained with Adam, a cosine learning-rate decay, and
// random shifts of up to `shift` pixels; batches and shifts come from the seeded Rng, so a run repeats.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GantryError, Rng, type RngState } from '@gantry/core';
import { writeFolderAtomic } from '@gantry/files/atomic';
import { loadLayersModelFromFile, serializeLayersModel, type ModelFiles } from '@gantry/export/model-files';
import type { ImageDataset } from '../data/image-dataset.js';
import { inceptionScore, predictedClasses } from './scores.js';

export const FEATURES_LAYER = 'features';
export const LOGITS_LAYER = 'logits';

export interface ClassifierTrainingOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Largest random translation in pixels (each axis), 0 for none. */
  shift: number;
  dropout: number;
  seed: number;
}

export const defaultClassifierTraining: ClassifierTrainingOptions = {
  epochs: 4,
  batchSize: 128,
  learningRate: 1e-3,
  shift: 1,
  dropout: 0.25,
  seed: 1,
};

export function buildClassifier(shape: readonly [number, number, number], classes: number, dropout: number): tfl.LayersModel {
  const input = tfl.input({ shape: [...shape], name: 'image' });
  let x = input as tfl.SymbolicTensor;
  for (const [index, [filters, kernelSize]] of [
    [32, 5],
    [64, 3],
  ].entries()) {
    x = tfl.layers
      .conv2d({ filters, kernelSize, padding: 'same', useBias: false, name: `conv${index + 1}` })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `bn${index + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  const features = tfl.layers.dense({ units: 128, activation: 'relu', name: FEATURES_LAYER }).apply(x) as tfl.SymbolicTensor;
  const dropped = tfl.layers.dropout({ rate: dropout }).apply(features) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: classes, name: LOGITS_LAYER }).apply(dropped) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'classifier' });
}

/** A batch with each image shifted by a random (dy, dx) in [-shift, shift]², the border filled with -1 (black). */
export function shiftedBatch(data: ImageDataset, indices: readonly number[], shift: number, rng: Rng): Float32Array {
  const [height, width, channels] = data.shape;
  const pixels = height * width * channels;
  const out = new Float32Array(indices.length * pixels).fill(-1);
  indices.forEach((from, b) => {
    const dy = shift === 0 ? 0 : rng.nextInt(2 * shift + 1) - shift;
    const dx = shift === 0 ? 0 : rng.nextInt(2 * shift + 1) - shift;
    for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
      const source = from * pixels + (y - dy) * width * channels;
      const target = b * pixels + y * width * channels;
      const x0 = Math.max(0, dx);
      const x1 = Math.min(width, width + dx);
      out.set(data.images.subarray(source + (x0 - dx) * channels, source + (x1 - dx) * channels), target + x0 * channels);
    }
  });
  return out;
}

/** Class probabilities and penultimate features of `images` (NHWC floats in [-1, 1]), in batches. */
export interface ClassifierOutputs {
  probabilities: Float32Array;
  features: Float32Array;
  classes: number;
  featureSize: number;
  count: number;
}

export class EvaluationClassifier {
  private readonly twoHeads: tfl.LayersModel;

  constructor(readonly model: tfl.LayersModel) {
    this.twoHeads = tfl.model({
      inputs: model.inputs,
      outputs: [model.getLayer(FEATURES_LAYER).output as tfl.SymbolicTensor, model.outputs[0]!],
    });
  }

  get classes(): number {
    return (this.model.outputs[0]!.shape[1] as number) ?? 0;
  }

  get inputShape(): [number, number, number] {
    return this.model.inputs[0]!.shape.slice(1) as [number, number, number];
  }

  /** `images`: count × H × W × C floats in [-1, 1]. */
  run(images: Float32Array, count: number, batchSize = 500, onProgress?: (done: number) => void): ClassifierOutputs {
    const shape = this.inputShape;
    const pixels = shape[0] * shape[1] * shape[2];
    if (images.length !== count * pixels) {
      throw new GantryError(
        'classifier-input',
        `the classifier takes ${shape.join('×')} images; got ${images.length} values for ${count} images`,
      );
    }
    const featureSize = this.twoHeads.outputs[0]!.shape[1] as number;
    const probabilities = new Float32Array(count * this.classes);
    const features = new Float32Array(count * featureSize);
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const [f, p] = tf.tidy(() => {
        const x = tf.tensor4d(images.subarray(start * pixels, (start + n) * pixels), [n, ...shape]);
        const [feat, logits] = this.twoHeads.predict(x) as tf.Tensor[];
        return [feat!, tf.softmax(logits!)];
      });
      features.set(f!.dataSync(), start * featureSize);
      probabilities.set(p!.dataSync(), start * this.classes);
      tf.dispose([f!, p!]);
      onProgress?.(start + n);
    }
    return { probabilities, features, classes: this.classes, featureSize, count };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Fraction of images whose most probable class is their label. */
export function accuracy(probabilities: Float32Array, labels: Uint8Array, classes: number): number {
  const predicted = predictedClasses(probabilities, classes);
  return predicted.reduce((correct, c, i) => correct + (c === labels[i] ? 1 : 0), 0) / labels.length;
}

/** The card written beside a classifier's model.json. */
export interface ClassifierCard {
  format: 'gantry-classifier-card/1';
  dataset: string;
  classNames: string[];
  inputShape: [number, number, number];
  pixelRange: [number, number];
  featureLayer: string;
  featureSize: number;
  split: string;
  training: ClassifierTrainingOptions & {
    wallSeconds: number;
    backend: string;
    trainImages: number;
    /** When this classifier was fine-tuned from another: that classifier's folder name and training. */
    from?: { classifier: string; training: ClassifierCard['training'] };
  };
  testAccuracy: number;
  testImages: number;
  /** The Inception-style score of the test split under this classifier. */
  testScore: number;
}

const CHECKPOINT = 'checkpoint';

interface ClassifierProgressState {
  epoch: number;
  rng: RngState;
  wallSeconds: number;
}

export type ClassifierTrainingEvent =
  | { kind: 'batch'; epoch: number; batch: number; batches: number; loss: number }
  | { kind: 'epoch'; epoch: number; testAccuracy: number; testScore: number; seconds: number };

/**
 * Trains a classifier; after each epoch writes `<out>/checkpoint/` (weights and RNG state), from which
 * a later call continues (Adam's moments restart at the resumed epoch). Returns the trained model.
 * With `start`, training continues from that model's weights (fine-tuning) instead of a fresh one;
 * `options.dropout` is then the start model's own.
 */
export async function trainClassifier(
  train: ImageDataset,
  test: ImageDataset,
  options: ClassifierTrainingOptions,
  out: string,
  onEvent: (event: ClassifierTrainingEvent) => void = () => {},
  start?: tfl.LayersModel,
): Promise<{ classifier: EvaluationClassifier; wallSeconds: number }> {
  if (train.labels === undefined || train.classNames === undefined || test.labels === undefined) {
    throw new GantryError('dataset-unlabelled', `${train.name}: a classifier needs labelled images`);
  }
  const classes = train.classNames.length;
  let model = start ?? buildClassifier(train.shape, classes, options.dropout);
  let rng = Rng.fromSeed(options.seed);
  let firstEpoch = 0;
  let wallSeconds = 0;
  const checkpoint = join(out, CHECKPOINT);
  const saved = await readFile(join(checkpoint, 'state.json'), 'utf8').catch(() => null);
  if (saved !== null) {
    const state = JSON.parse(saved) as ClassifierProgressState;
    model.dispose();
    model = await loadLayersModelFromFile(join(checkpoint, 'model.json'));
    rng = Rng.fromState(state.rng);
    firstEpoch = state.epoch;
    wallSeconds = state.wallSeconds;
  }
  const labels = train.labels;
  const batches = Math.floor(train.count / options.batchSize);
  const totalBatches = batches * options.epochs;
  const optimizer = tf.train.adam(options.learningRate);
  for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
    const started = performance.now();
    const order = Array.from({ length: train.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let batch = 0; batch < batches; batch++) {
      // Cosine decay over the whole run, evaluated per batch.
      const progress = (epoch * batches + batch) / totalBatches;
      // tfjs reads Adam's rate on every update but declares it protected.
      (optimizer as unknown as { learningRate: number }).learningRate =
        options.learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
      const indices = order.slice(batch * options.batchSize, (batch + 1) * options.batchSize);
      const images = shiftedBatch(train, indices, options.shift, rng);
      const oneHot = new Float32Array(indices.length * classes);
      indices.forEach((index, b) => (oneHot[b * classes + labels[index]!] = 1));
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(images, [indices.length, ...train.shape]);
        const y = tf.tensor2d(oneHot, [indices.length, classes]);
        return optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
        )!;
      });
      if (batch % 20 === 0) onEvent({ kind: 'batch', epoch, batch, batches, loss: (await loss.data())[0]! });
      loss.dispose();
    }
    const classifier = new EvaluationClassifier(model);
    const outputs = classifier.run(test.images, test.count);
    const seconds = (performance.now() - started) / 1000;
    wallSeconds += seconds;
    onEvent({
      kind: 'epoch',
      epoch: epoch + 1,
      testAccuracy: accuracy(outputs.probabilities, test.labels, classes),
      testScore: inceptionScore(outputs.probabilities, classes),
      seconds,
    });
    const files = await serializeLayersModel(model);
    const state: ClassifierProgressState = { epoch: epoch + 1, rng: rng.getState(), wallSeconds };
    await writeFolderAtomic(checkpoint, async (write) => {
      await write('model.json', files['model.json']);
      await write('weights.bin', files['weights.bin']);
      await write('state.json', JSON.stringify(state));
    });
  }
  optimizer.dispose();
  return { classifier: new EvaluationClassifier(model), wallSeconds };
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** The IEEE binary16 bits nearest to `value` (ties to even), as numpy's float16 rounds. */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = f32Bits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const biased = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (biased === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const exponent = biased - 127 + 15;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa moves into the exponent, as rounding up should (to Inf at the top).
  let half = sign | (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return half;
}

interface WeightsManifestJson {
  weightsManifest: Array<{
    paths: string[];
    weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: object }>;
  }>;
}

/**
 * The model's files with float32 weights stored as float16 (tfjs' `quantization: {dtype: 'float16'}`,
 * which loadLayersModel decodes back to float32): half the bytes, 3 significant digits per weight.
 */
export function float16ModelFiles(files: ModelFiles): ModelFiles {
  const json = JSON.parse(files['model.json']) as WeightsManifestJson;
  const source = new Float32Array(
    files['weights.bin'].buffer.slice(
      files['weights.bin'].byteOffset,
      files['weights.bin'].byteOffset + files['weights.bin'].byteLength,
    ),
  );
  const out = new Uint16Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = float16Bits(source[i]!);
  for (const group of json.weightsManifest) {
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32')
        throw new GantryError(
          'classifier-weights',
          `weight ${spec.name} is ${spec.dtype}; float16 storage takes float32 weights only`,
        );
      spec.quantization = { dtype: 'float16', original_dtype: 'float32' };
    }
  }
  return { 'model.json': JSON.stringify(json), 'weights.bin': new Uint8Array(out.buffer) };
}

/**
 * Writes a classifier's model.json and weights.bin (float16, see float16ModelFiles) and returns the model
 * as written, read back: the figures on its card must be the shipped weights'.
 */
export async function saveClassifierModel(classifier: EvaluationClassifier, out: string): Promise<EvaluationClassifier> {
  await mkdir(out, { recursive: true });
  const files = float16ModelFiles(await serializeLayersModel(classifier.model));
  await writeFile(join(out, 'model.json'), files['model.json']);
  await writeFile(join(out, 'weights.bin'), files['weights.bin']);
  return new EvaluationClassifier(await loadLayersModelFromFile(join(out, 'model.json')));
}

export async function writeClassifierCard(card: ClassifierCard, out: string): Promise<void> {
  await writeFile(join(out, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
}

export async function loadClassifier(folder: string): Promise<{ classifier: EvaluationClassifier; card: ClassifierCard }> {
  let card: ClassifierCard;
  try {
    card = JSON.parse(await readFile(join(folder, 'card.json'), 'utf8')) as ClassifierCard;
  } catch (error) {
    throw new GantryError(
      'classifier-missing',
      `no evaluation classifier in ${folder}: card.json could not be read (${(error as Error).message})`,
    );
  }
  if (card.format !== 'gantry-classifier-card/1') {
    throw new GantryError(
      'classifier-card',
      `${join(folder, 'card.json')}: format is ${JSON.stringify(card.format)}, expected "gantry-classifier-card/1"`,
    );
  }
  const model = await loadLayersModelFromFile(join(folder, 'model.json'));
  return { classifier: new EvaluationClassifier(model), card };
}
