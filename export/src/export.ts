// A trained generator → <outDir>/generator.onnx + <outDir>/card.json, verified against tfjs before
// anything is written. Both files are staged under temporary names and renamed into place together,
// so a failed or interrupted export never leaves a half-written or unverified model behind.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { parseCard, sampleLatents, type LatentSpec, type ModelCard } from '@gantry/latent';
import { stageFile, type StagedFile } from '@gantry/inference-node/atomic';
import { convertLayersModel } from './convert/convert.js';
import { ExportError } from './convert/layers.js';
import { loadLayersModelFromFile } from './model-files.js';
import { checkParity, ParityError } from './parity.js';

export const ONNX_FILE = 'generator.onnx';
export const CARD_FILE = 'card.json';
export const DEFAULT_PARITY_SAMPLES = 64;
export const DEFAULT_PARITY_TOLERANCE = 1e-4;

/** What exportGenerator is doing, for a CLI to print; events arrive in this order. */
export type ExportProgress =
  | { stage: 'load'; path: string }
  | { stage: 'convert' }
  | { stage: 'parity'; samples: number }
  /** generator.onnx (`bytes` long) and card.json are about to be written. */
  | { stage: 'write'; path: string; bytes: number }
  | { stage: 'done'; maxAbsDiff: number; seconds: number };

export interface ExportOptions {
  /** The generator: a tfjs LayersModel, or the path of a tfjs layers model.json (weights beside it). */
  model: tfl.LayersModel | string;
  /** The folder to write generator.onnx and card.json into (created if missing). */
  outDir: string;
  /** The model's name in the card. */
  name: string;
  description?: string;
  /** The dataset the generator was trained on. */
  dataset: string;
  /** The latent distribution the generator expects; its size must match the model's input. */
  latent: LatentSpec;
  /** The range of the generator's raw output, e.g. [-1, 1] for tanh. */
  outputRange: [number, number];
  training: ModelCard['training'];
  metrics?: Record<string, number>;
  /** ONNX opset (default 17). */
  opset?: number;
  /** A fixed batch size, or null (default) for a dynamic batch axis. */
  batch?: number | null;
  /** How many random latents the parity check runs (default 64). */
  paritySamples?: number;
  /** The largest max absolute difference from tfjs that passes (default 1e-4). */
  parityTolerance?: number;
  /** Seed of the parity latents (default 0), so a failing check can be reproduced. */
  paritySeed?: number;
  onProgress?: (event: ExportProgress) => void;
}

export interface ExportResult {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  maxAbsDiff: number;
}

function checkOptions(options: ExportOptions): void {
  for (const key of ['outDir', 'name', 'dataset'] as const) {
    if (typeof options[key] !== 'string' || options[key].length === 0) throw new ExportError(`options.${key} must be a non-empty string, got ${JSON.stringify(options[key])}`);
  }
  const range = options.outputRange;
  if (!(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])) {
    throw new ExportError(`options.outputRange must be [low, high] with finite low < high, got ${JSON.stringify(range)}`);
  }
  const samples = options.paritySamples ?? DEFAULT_PARITY_SAMPLES;
  if (!(Number.isInteger(samples) && samples >= 1 && samples <= 65536)) throw new ExportError(`options.paritySamples must be an integer in [1, 65536], got ${samples}`);
  const tolerance = options.parityTolerance ?? DEFAULT_PARITY_TOLERANCE;
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) throw new ExportError(`options.parityTolerance must be a finite number >= 0, got ${tolerance}`);
}

function modelInputSize(model: tfl.LayersModel): number | null | undefined {
  return model.inputs[0]?.shape[1];
}

/**
 * Converts the generator to ONNX, checks it against tfjs on `paritySamples` random latents (failing
 * with a ParityError above `parityTolerance`), and writes generator.onnx and card.json.
 */
export async function exportGenerator(options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  checkOptions(options);
  const samples = options.paritySamples ?? DEFAULT_PARITY_SAMPLES;
  const tolerance = options.parityTolerance ?? DEFAULT_PARITY_TOLERANCE;

  const loadedHere = typeof options.model === 'string';
  if (typeof options.model === 'string') progress({ stage: 'load', path: options.model });
  const model = typeof options.model === 'string' ? await loadLayersModelFromFile(options.model) : options.model;
  try {
    const inputSize = modelInputSize(model);
    if (inputSize !== options.latent?.size) {
      throw new ExportError(`options.latent.size is ${JSON.stringify(options.latent?.size)} but model "${model.name}" takes latent vectors of size ${inputSize}; they must match`);
    }

    progress({ stage: 'convert' });
    const converted = convertLayersModel(model, {
      ...(options.opset !== undefined ? { opset: options.opset } : {}),
      batch: options.batch ?? null,
      metadata: { 'gantry.model': options.name, 'gantry.dataset': options.dataset },
    });
    if (converted.outputShape.length !== 3) {
      throw new ExportError(`model "${model.name}" outputs shape [batch, ${converted.outputShape.join(', ')}]; a generator must output images [batch, height, width, channels]`);
    }

    progress({ stage: 'parity', samples });
    const latents = sampleLatents(options.latent, samples, options.paritySeed ?? 0);
    const maxAbsDiff = await checkParity(model, converted.bytes, latents, samples);
    if (!(maxAbsDiff <= tolerance)) {
      throw new ParityError(
        `ONNX export of "${options.name}" disagrees with tfjs: max absolute difference ${maxAbsDiff.toExponential(3)} over ${samples} latents exceeds the limit ${tolerance} (parityTolerance)`,
        maxAbsDiff,
      );
    }

    const card = parseCard(
      {
        format: 'gantry-model-card/1',
        name: options.name,
        description: options.description ?? '',
        dataset: options.dataset,
        latent: { size: options.latent.size, distribution: options.latent.distribution },
        output: { shape: converted.outputShape as [number, number, number], layout: 'NHWC', range: options.outputRange },
        onnx: {
          file: ONNX_FILE,
          opset: converted.opset,
          sha256: createHash('sha256').update(converted.bytes).digest('hex'),
          inputName: converted.inputName,
          outputName: converted.outputName,
          batch: converted.batch,
        },
        training: options.training,
        parity: { maxAbsDiff, samples },
        metrics: options.metrics ?? {},
        createdAt: new Date().toISOString(),
      } satisfies ModelCard,
      `card for "${options.name}"`,
    );

    await mkdir(options.outDir, { recursive: true });
    const onnxPath = join(options.outDir, ONNX_FILE);
    const cardPath = join(options.outDir, CARD_FILE);
    const staged: StagedFile[] = [];
    try {
      progress({ stage: 'write', path: onnxPath, bytes: converted.bytes.length });
      staged.push(await stageFile(onnxPath, converted.bytes));
      staged.push(await stageFile(cardPath, `${JSON.stringify(card, null, 2)}\n`));
      // The ONNX file first: a card is what makes a folder servable, and a card whose hash does not
      // match its ONNX file is refused by the runtimes.
      for (const file of staged) await file.commit();
    } finally {
      await Promise.all(staged.map((file) => file.discard()));
    }
    progress({ stage: 'done', maxAbsDiff, seconds: (performance.now() - started) / 1000 });
    return { onnxPath, cardPath, card, maxAbsDiff };
  } finally {
    if (loadedHere) model.dispose();
  }
}
