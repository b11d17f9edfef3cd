// A generator → <outDir>/generator.onnx + <outDir>/card.json (and, if asked, a Triton model
// repository), verified before anything is written: parity with tfjs through onnxruntime-node, then
// ONNX's checker with full shape inference. Both files are written to a new folder beside the model
// folder, which is then swapped in with one rename (writeModelFolder), so a failed or interrupted export
// never leaves a half-written, unverified or mismatched model behind.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents, type LatentSpec, type ModelCard } from '@gantry/core';
import { checkFolderPath, type FolderSteps } from '@gantry/files/atomic';
import { CARD_FILE, ONNX_FILE, writeModelFolder } from '@gantry/files/model-folder';
import { decodeModel } from '@gantry/files/onnx';
import { buildCard } from './card.js';
import { findPythonWithOnnx, ONNX_CHECKER_INSTALL_HINT, OnnxCheckerError, runOnnxChecker } from './checker.js';
import {
  convertLayersModel,
  DEFAULT_OPSET,
  type ConvertedInput,
  type OutputLayout,
  type OutputPixels,
} from './convert/convert.js';
import { ExportError } from './errors.js';
import { loadLayersModelFromFile, saveModelFiles } from './model-files.js';
import type { WeightStorage } from './onnx/graph.js';
import { checkParity, ParityError, type ParityFeed } from './parity.js';
import { convertWithTf2onnx } from './tf2onnx.js';
import { checkTritonSettings, writeTritonModel } from './triton.js';

export { CARD_FILE, ONNX_FILE };
export const DEFAULT_PARITY_SAMPLES = 64;
/** The parity limit for float32 weights; the shipped generator reaches about 2e-6. */
export const DEFAULT_PARITY_TOLERANCE = 1e-5;
/** The parity limit for float16 weights, which are rounded to 11 significant bits. */
export const FLOAT16_PARITY_TOLERANCE = 1e-2;

export type Converter = 'gantry' | 'tf2onnx';
export const CONVERTERS: readonly Converter[] = ['gantry', 'tf2onnx'];
/** 'auto' runs ONNX's checker when python3 can import onnx and says so when it cannot; 'require' fails then. */
export type CheckerMode = 'auto' | 'require' | 'skip';

/** What exportGenerator is doing, for a CLI to print; events arrive in this order. */
export type ExportProgress =
  | { stage: 'load'; path: string }
  | { stage: 'convert'; converter: Converter }
  | { stage: 'parity'; samples: number }
  /** ONNX's checker runs in `python`. */
  | { stage: 'check'; python: string }
  /** Something the user should know that does not stop the export. */
  | { stage: 'warning'; message: string }
  /** The Triton model folder was written. */
  | { stage: 'triton'; path: string }
  /** generator.onnx (`bytes` long) and card.json are about to be written. */
  | { stage: 'write'; path: string; bytes: number }
  | { stage: 'done'; maxAbsDiff: number; seconds: number };

export interface ExportOptions {
  /** The generator: a tfjs LayersModel, or the path of any tfjs layers model.json (weights beside it). */
  model: tfl.LayersModel | string;
  /** The folder to write generator.onnx and card.json into (created if missing). */
  outDir: string;
  /** The model's name in the card (and in a Triton repository). */
  name: string;
  description?: string;
  /** The dataset the generator was trained on. */
  dataset: string;
  /** The latent distribution the generator expects; a size, when given, must match the model's latent input. */
  latent: Omit<LatentSpec, 'size'> & { size?: number };
  /** The range of the generator's raw output, e.g. [-1, 1] for tanh. */
  outputRange: [number, number];
  /** A class-conditional generator's class names, one per class index (recorded in the card). */
  classNames?: readonly string[];
  /** How Gantry trained it; left out for a model trained elsewhere. */
  training?: ModelCard['training'];
  metrics?: Record<string, number>;
  /** 'gantry' (default): the own writer; 'tf2onnx': tensorflowjs_converter + tf2onnx, if installed. */
  converter?: Converter;
  /** ONNX opset (default 17). */
  opset?: number;
  /** A fixed batch size, or null (default) for a dynamic batch axis. */
  batch?: number | null;
  /** Layout of the image output (default NHWC). */
  layout?: OutputLayout;
  /** 'uint8': the model outputs pixels, outputRange mapped to 0…255 (default float32 values). */
  pixels?: OutputPixels;
  /** Weight storage (default float32; float16 halves the file). */
  weights?: WeightStorage;
  /** Fold BatchNormalization into the convolution or Dense before it where exact (default false). */
  foldBatchNorm?: boolean;
  /** How many random samples the parity check runs (default 64). */
  paritySamples?: number;
  /** The largest max absolute difference from tfjs that passes (default 1e-5, or 1e-2 with float16 weights). */
  parityTolerance?: number;
  /** Seed of the parity latents (default 0), so a failing check can be reproduced. */
  paritySeed?: number;
  /** Whether ONNX's checker must run (default 'auto'). */
  onnxChecker?: CheckerMode;
  /** Also write a Triton model repository entry `<dir>/<name>/` (needs a dynamic batch). */
  triton?: { dir: string; maxBatchSize?: number };
  onProgress?: (event: ExportProgress) => void;
  /** Replacement file-system steps for writing the model folder (fault-injection tests). */
  folderSteps?: Partial<FolderSteps>;
}

export interface ExportResult {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  maxAbsDiff: number;
  /** The Triton model folder, when one was written. */
  tritonPath?: string;
}

function checkOptions(options: ExportOptions): void {
  for (const key of ['outDir', 'name', 'dataset'] as const) {
    if (typeof options[key] !== 'string' || options[key].length === 0)
      throw new ExportError(`options.${key} must be a non-empty string, got ${JSON.stringify(options[key])}`);
  }
  const range = options.outputRange;
  if (!(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])) {
    throw new ExportError(`options.outputRange must be [low, high] with finite low < high, got ${JSON.stringify(range)}`);
  }
  const samples = options.paritySamples ?? DEFAULT_PARITY_SAMPLES;
  if (!(Number.isInteger(samples) && samples >= 1 && samples <= 65536))
    throw new ExportError(`options.paritySamples must be an integer in [1, 65536], got ${samples}`);
  const tolerance = options.parityTolerance ?? DEFAULT_PARITY_TOLERANCE;
  if (!(Number.isFinite(tolerance) && tolerance >= 0))
    throw new ExportError(`options.parityTolerance must be a finite number >= 0, got ${tolerance}`);
  const converter = options.converter ?? 'gantry';
  if (!CONVERTERS.includes(converter))
    throw new ExportError(`options.converter must be one of ${CONVERTERS.join(', ')}, got ${JSON.stringify(converter)}`);
  if (!['auto', 'require', 'skip'].includes(options.onnxChecker ?? 'auto'))
    throw new ExportError(`options.onnxChecker must be "auto", "require" or "skip", got ${JSON.stringify(options.onnxChecker)}`);
  if (converter === 'tf2onnx') {
    const ownOnly = [
      ...((options.batch ?? null) !== null ? ['a fixed batch'] : []),
      ...((options.layout ?? 'NHWC') !== 'NHWC' ? ['layout NCHW'] : []),
      ...((options.pixels ?? 'float32') !== 'float32' ? ['uint8 pixels'] : []),
      ...((options.weights ?? 'float32') !== 'float32' ? ['float16 weights'] : []),
      ...(options.foldBatchNorm === true ? ['batch norm folding'] : []),
    ];
    if (ownOnly.length > 0)
      throw new ExportError(
        `--converter tf2onnx writes the model as tf2onnx makes it; ${ownOnly.join(', ')} ${ownOnly.length === 1 ? 'is' : 'are'} only available with --converter gantry`,
      );
  }
  if (options.triton !== undefined && (options.batch ?? null) !== null) {
    throw new ExportError(
      `a Triton repository needs a dynamic batch axis (Triton forms the batches itself, up to max_batch_size); export without a fixed batch (${options.batch})`,
    );
  }
  if (options.triton !== undefined)
    checkTritonSettings({
      name: options.name,
      ...(options.triton.maxBatchSize !== undefined ? { maxBatchSize: options.triton.maxBatchSize } : {}),
    });
}

/** The latent input and the optional class input of a generator, checked against the options. */
function generatorInputs(
  model: tfl.LayersModel,
  inputs: readonly ConvertedInput[],
  options: ExportOptions,
): { latent: ConvertedInput; classInput?: ConvertedInput } {
  const latents = inputs.filter((input) => input.kind === 'latent');
  const classes = inputs.filter((input) => input.kind === 'class');
  if (latents.length !== 1 || classes.length > 1) {
    throw new ExportError(
      `model "${model.name}" has ${latents.length} latent input(s) and ${classes.length} class input(s); a generator takes one latent vector and at most one class index (read by Embedding layers)`,
    );
  }
  const latent = latents[0]!;
  if (latent.shape.length !== 1)
    throw new ExportError(
      `model "${model.name}" takes latent input [batch, ${latent.shape.join(', ')}]; a generator takes latent vectors [batch, size]`,
    );
  const size = options.latent?.size;
  if (size !== undefined && latent.shape[0] !== size) {
    throw new ExportError(
      `options.latent.size is ${JSON.stringify(size)} but model "${model.name}" takes latent input [batch, ${latent.shape.join(', ')}]; it must be [batch, ${size}]`,
    );
  }
  const classInput = classes[0];
  if (classInput !== undefined && (classInput.shape.length !== 1 || classInput.shape[0] !== 1)) {
    throw new ExportError(
      `model "${model.name}" takes class input [batch, ${classInput.shape.join(', ')}]; a class-conditional generator takes one class index per sample, [batch, 1]`,
    );
  }
  return classInput === undefined ? { latent } : { latent, classInput };
}

interface Converted {
  bytes: Uint8Array;
  inputs: ConvertedInput[];
  outputName: string;
  outputShape: number[];
}

/** tf2onnx keeps tfjs' output layout and float32 weights; names come from the graph it wrote. */
async function convertExternally(model: tfl.LayersModel, source: tfl.LayersModel | string, opset: number): Promise<Converted> {
  if (model.inputs.length !== 1)
    throw new ExportError(
      `--converter tf2onnx exports generators with one latent input; model "${model.name}" has ${model.inputs.length} inputs (use --converter gantry)`,
    );
  let modelJson = typeof source === 'string' ? source : undefined;
  const work = modelJson === undefined ? await mkdtemp(join(tmpdir(), 'gantry-export-')) : undefined;
  try {
    if (work !== undefined) modelJson = await saveModelFiles(model, work);
    const bytes = await convertWithTf2onnx(modelJson!, opset);
    const graph = decodeModel(bytes).graph;
    const shape = model.inputs[0]!.shape.slice(1) as number[];
    return {
      bytes,
      inputs: [{ name: graph.input[0]!.name, kind: 'latent', shape }],
      outputName: graph.output[0]!.name,
      outputShape: model.outputs[0]!.shape.slice(1) as number[],
    };
  } finally {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }
}

/** Runs ONNX's checker on the model (from a temporary file); returns the onnx version, or null when skipped. */
async function check(bytes: Uint8Array, mode: CheckerMode, progress: (event: ExportProgress) => void): Promise<string | null> {
  if (mode === 'skip') return null;
  const python = findPythonWithOnnx();
  if (python === null) {
    if (mode === 'require')
      throw new OnnxCheckerError(`ONNX's checker is required but no python3 here can import onnx; ${ONNX_CHECKER_INSTALL_HINT}`);
    progress({
      stage: 'warning',
      message: `ONNX's checker was skipped: no python3 here can import onnx (${ONNX_CHECKER_INSTALL_HINT}); the card records onnxChecker: null`,
    });
    return null;
  }
  progress({ stage: 'check', python });
  const work = await mkdtemp(join(tmpdir(), 'gantry-check-'));
  try {
    const path = join(work, ONNX_FILE);
    await writeFile(path, bytes);
    const report = await runOnnxChecker([path], python);
    const failure = report.failures[0];
    if (failure !== undefined)
      throw new OnnxCheckerError(
        `ONNX's checker (onnx ${report.onnxVersion}, full_check) rejects the exported model: ${failure.error}`,
      );
    return report.onnxVersion;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Converts the generator to ONNX, checks it against tfjs on `paritySamples` random inputs (failing
 * with a ParityError above `parityTolerance`) and with ONNX's checker, and writes generator.onnx and
 * card.json (and the Triton repository entry if asked).
 */
export async function exportGenerator(options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  checkOptions(options);
  await checkFolderPath(options.outDir, 'the model folder (--out)');
  const converter = options.converter ?? 'gantry';
  const opset = options.opset ?? DEFAULT_OPSET;
  const layout = options.layout ?? 'NHWC';
  const pixels = options.pixels ?? 'float32';
  const weights = options.weights ?? 'float32';
  const samples = options.paritySamples ?? DEFAULT_PARITY_SAMPLES;
  const tolerance = options.parityTolerance ?? (weights === 'float16' ? FLOAT16_PARITY_TOLERANCE : DEFAULT_PARITY_TOLERANCE);

  const loadedHere = typeof options.model === 'string';
  if (typeof options.model === 'string') progress({ stage: 'load', path: options.model });
  const model = typeof options.model === 'string' ? await loadLayersModelFromFile(options.model) : options.model;
  try {
    progress({ stage: 'convert', converter });
    const converted: Converted =
      converter === 'tf2onnx'
        ? await convertExternally(model, options.model, opset)
        : convertLayersModel(model, {
            opset,
            batch: options.batch ?? null,
            layout,
            pixels,
            outputRange: options.outputRange,
            weights,
            foldBatchNorm: options.foldBatchNorm === true,
            metadata: { 'gantry.model': options.name, 'gantry.dataset': options.dataset },
          });
    const { latent, classInput } = generatorInputs(model, converted.inputs, options);
    if (options.classNames !== undefined && options.classNames.length !== (classInput?.classes ?? 0)) {
      throw new ExportError(
        `classNames: ${options.classNames.length} names given, but model "${model.name}" ${classInput === undefined ? 'has no class input' : `has ${classInput.classes} classes`}`,
      );
    }
    const latentSpec: LatentSpec = { size: latent.shape[0]!, distribution: options.latent.distribution };
    if (converted.outputShape.length !== 3) {
      throw new ExportError(
        `model "${model.name}" outputs shape [batch, ${converted.outputShape.join(', ')}]; a generator must output images [batch, height, width, channels]`,
      );
    }

    progress({ stage: 'parity', samples });
    const seed = options.paritySeed ?? 0;
    const feeds: ParityFeed[] = converted.inputs.map((input) =>
      // Every class in turn, so each row of the embedding table is exercised.
      input.kind === 'class'
        ? Int32Array.from({ length: samples }, (_, i) => i % input.classes!)
        : sampleLatents(latentSpec, samples, seed),
    );
    const maxAbsDiff = await checkParity(model, converted.bytes, feeds, samples, {
      layout,
      pixels,
      outputRange: options.outputRange,
    });
    if (!(maxAbsDiff <= tolerance)) {
      throw new ParityError(
        `ONNX export of "${options.name}" disagrees with tfjs: max absolute difference ${maxAbsDiff.toExponential(3)} over ${samples} samples exceeds the limit ${tolerance} (parityTolerance)`,
        maxAbsDiff,
      );
    }

    const onnxChecker = await check(converted.bytes, options.onnxChecker ?? 'auto', progress);
    const seconds = Number(((performance.now() - started) / 1000).toFixed(3));
    const card = buildCard({
      name: options.name,
      ...(options.description === undefined ? {} : { description: options.description }),
      dataset: options.dataset,
      latent: { ...latentSpec, inputName: latent.name },
      ...(classInput === undefined
        ? {}
        : {
            classInput: {
              name: classInput.name,
              classes: classInput.classes!,
              ...(options.classNames ? { names: options.classNames } : {}),
            },
          }),
      output: {
        name: converted.outputName,
        shape: converted.outputShape as [number, number, number],
        range: options.outputRange,
      },
      onnx: converted.bytes,
      ...(options.training === undefined ? {} : { training: options.training }),
      parity: { maxAbsDiff, samples },
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      export: {
        converter,
        opset,
        batch: options.batch ?? null,
        layout,
        pixels,
        weights,
        foldBatchNorm: options.foldBatchNorm === true,
        parityTolerance: tolerance,
        onnxChecker,
        seconds,
      },
    });

    let tritonPath: string | undefined;
    if (options.triton !== undefined) {
      const [h, w, c] = converted.outputShape as [number, number, number];
      tritonPath = await writeTritonModel(
        options.triton.dir,
        {
          name: options.name,
          inputs: converted.inputs.map((input) => ({
            name: input.name,
            type: input.kind === 'class' ? 'int64' : 'float32',
            dims: input.shape,
          })),
          output: { name: converted.outputName, type: pixels, dims: layout === 'NCHW' ? [c, h, w] : [h, w, c] },
          ...(options.triton.maxBatchSize !== undefined ? { maxBatchSize: options.triton.maxBatchSize } : {}),
        },
        converted.bytes,
      );
      progress({ stage: 'triton', path: tritonPath });
    }

    const onnxPath = join(options.outDir, ONNX_FILE);
    const cardPath = join(options.outDir, CARD_FILE);
    progress({ stage: 'write', path: onnxPath, bytes: converted.bytes.length });
    await writeModelFolder(options.outDir, card, converted.bytes, options.folderSteps ? { steps: options.folderSteps } : {});
    progress({ stage: 'done', maxAbsDiff, seconds: (performance.now() - started) / 1000 });
    return { onnxPath, cardPath, card, maxAbsDiff, ...(tritonPath !== undefined ? { tritonPath } : {}) };
  } finally {
    if (loadedHere) model.dispose();
  }
}
