// `gantry export`: a trained generator → models/<name>/generator.onnx + card.json, verified.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents, type LatentSpec, type ModelCard } from '@gantry/latent';
import { writeFileAtomic } from '@gantry/inference-node/atomic';
import { convertLayersModel, type ConvertOptions } from './convert/convert.js';
import { measureParity, ParityError } from './parity.js';

export const ONNX_FILE = 'generator.onnx';
export const CARD_FILE = 'card.json';

export type ExportProgress =
  | { stage: 'convert' }
  | { stage: 'write'; path: string; bytes: number }
  | { stage: 'parity'; samples: number }
  | { stage: 'done'; maxAbsDiff: number; seconds: number };

export interface ExportOptions extends Pick<ConvertOptions, 'opset' | 'batch'> {
  model: tfl.LayersModel;
  /** The model folder to write, e.g. models/mnist-dcgan; its last component is the model's name. */
  outDir: string;
  name: string;
  description?: string;
  dataset: string;
  latent: LatentSpec;
  /** The generator's output range, e.g. [-1, 1] for tanh. */
  outputRange: [number, number];
  training: ModelCard['training'];
  metrics?: Record<string, number>;
  /** Latents checked against tfjs (default 64). */
  paritySamples?: number;
  /** Largest allowed max absolute difference (default 1e-4). */
  parityTolerance?: number;
  /** Seed of the parity latents (default 0). */
  paritySeed?: number;
  onProgress?: (event: ExportProgress) => void;
}

export interface ExportResult {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  maxAbsDiff: number;
}

export async function exportGenerator(options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const samples = options.paritySamples ?? 64;
  const tolerance = options.parityTolerance ?? 1e-4;

  progress({ stage: 'convert' });
  const converted = convertLayersModel(options.model, {
    ...(options.opset !== undefined ? { opset: options.opset } : {}),
    ...(options.batch !== undefined ? { batch: options.batch } : {}),
    metadata: { 'gantry.model': options.name },
  });
  if (converted.outputShape.length !== 3) {
    throw new ParityError(`model "${options.name}" outputs shape [${converted.outputShape.join(', ')}] per sample; a generator must output images [height, width, channels]`, { maxAbsDiff: NaN, samples: 0 });
  }

  // The ONNX file is checked under a temporary name and only then moved into place, so a failed
  // export never leaves a model folder that looks servable.
  await mkdir(options.outDir, { recursive: true });
  const onnxPath = join(options.outDir, ONNX_FILE);
  const candidate = join(options.outDir, `.${ONNX_FILE}.${process.pid}.candidate`);
  await writeFile(candidate, converted.bytes);
  progress({ stage: 'write', path: onnxPath, bytes: converted.bytes.length });
  try {
    progress({ stage: 'parity', samples });
    const parityBatch = options.batch ?? samples;
    const parity = await measureParity(options.model, candidate, sampleLatents(options.latent, parityBatch, options.paritySeed ?? 0), parityBatch);
    if (!(parity.maxAbsDiff <= tolerance)) {
      throw new ParityError(`ONNX export of "${options.name}" disagrees with tfjs: max absolute difference ${parity.maxAbsDiff.toExponential(3)} over ${parity.samples} latents exceeds the limit ${tolerance}`, parity);
    }
    await rename(candidate, onnxPath);
    const card: ModelCard = {
      format: 'gantry-model-card/1',
      name: options.name,
      description: options.description ?? '',
      dataset: options.dataset,
      latent: options.latent,
      output: { shape: converted.outputShape as [number, number, number], layout: 'NHWC', range: options.outputRange },
      onnx: {
        file: ONNX_FILE,
        opset: converted.opset,
        sha256: createHash('sha256').update(converted.bytes).digest('hex'),
        inputName: converted.inputName,
        outputName: converted.outputName,
        batch: options.batch ?? null,
      },
      training: options.training,
      parity: { maxAbsDiff: parity.maxAbsDiff, samples: parity.samples },
      metrics: options.metrics ?? {},
      createdAt: new Date().toISOString(),
    };
    const cardPath = join(options.outDir, CARD_FILE);
    await writeFileAtomic(cardPath, `${JSON.stringify(card, null, 2)}\n`);
    progress({ stage: 'done', maxAbsDiff: parity.maxAbsDiff, seconds: (performance.now() - started) / 1000 });
    return { onnxPath, cardPath, card, maxAbsDiff: parity.maxAbsDiff };
  } finally {
    await rm(candidate, { force: true });
  }
}
