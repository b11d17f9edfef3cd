// Loads every exported generator under a models folder and runs generation requests against them.
// Each model folder is verified before it is served: the card must validate and the ONNX file must
// hash to the card's sha256, so a half-copied or mismatched export is refused at startup instead of
// producing wrong pictures later.

import { randomInt } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GantryError, MAX_LATENT_ROWS, type ClassRequest, type ModelCard, messageOf } from '@gantry/core';
import {
  CARD_FILE,
  MODEL_FOLDER_LAYOUT,
  ModelLoadError,
  ModelsFolderError,
  findModelFolders,
  readModelFolder,
} from '@gantry/files/model-folder';
import type { BatcherOptions } from './batcher.js';
import { Generator } from './generator.js';
import {
  ProviderUnavailableError,
  createSession,
  type DeviceRequest,
  type ExecutionProvider,
  type GeneratorSession,
  type ProviderAttempt,
} from './onnx-runtime.js';
import { onnxSampleDims, outputDtype } from '@gantry/core';
import { WorkerSession, type ChunkRunner } from './session-thread.js';

// The model-folder format and its errors live in @gantry/files; re-exported for the library's users.
export { CARD_FILE, HashMismatchError, ModelLoadError, ModelsFolderError, sha256File } from '@gantry/files/model-folder';

export const DEFAULT_CHUNK_SIZE = 64;

export interface RegistryOptions extends BatcherOptions {
  /**
   * Compute on a worker thread per model (default true): onnxruntime-node runs synchronously on its
   * thread, so this keeps the caller's event loop (an HTTP server's) free while a batch runs.
   */
  worker?: boolean;
  /** Any model folder that fails its checks stops the load (default: it is skipped and reported). */
  strict?: boolean;
  /** Execution provider request passed to every session (default 'auto'). */
  device?: DeviceRequest;
  /** Largest batch given to the runtime at once, bounding memory for large n (default 64). */
  chunkSize?: number;
  /** Intra-op threads for the CPU provider; onnxruntime's default uses every core. */
  intraOpThreads?: number;
  /** Load only these model folders (by name) instead of every one in the folder. */
  only?: readonly string[];
}

export interface LoadedModel {
  /** The folder name, which is the model's name in the API. */
  name: string;
  folder: string;
  onnxPath: string;
  card: ModelCard;
  provider: ExecutionProvider;
  skippedProviders: readonly ProviderAttempt[];
}

export interface ClassOptions {
  /**
   * For a class-conditional model (card.classInput), required: one class index for every sample, or an
   * array of n, one per sample. Must be left out for an unconditional model.
   */
  class?: ClassRequest;
}

export interface GenerateOptions extends ClassOptions {
  n: number;
  /** Seed of the latents, 0 … 2^32 − 1; a random one is drawn (and returned) when omitted. */
  seed?: number;
}

export interface GenerationResult {
  model: string;
  n: number;
  /** Seed the latents came from; `null` for {@link ModelRegistry.generateFromLatents}. */
  seed: number | null;
  /** One sample's [height, width, channels]. */
  shape: [number, number, number];
  /**
   * [lo, hi] of the sample values, for mapping to pixels: the card's output range, or [0, 255] for a
   * model exported with uint8 pixels.
   */
  range: [number, number];
  /** n × latentSize, row-major. */
  latents: Float32Array;
  /** Each sample's class for a class-conditional model; `null` for an unconditional one. */
  classes: Int32Array | null;
  /** n × h × w × c, float32 NHWC, whatever layout and element type the model was exported with. */
  samples: Float32Array;
}

/** No served model has the requested name. */
export class UnknownModelError extends GantryError {
  override name = 'UnknownModelError';
  constructor(
    readonly requested: string,
    readonly known: readonly string[],
  ) {
    super(
      'unknown-model',
      `unknown model ${JSON.stringify(requested)}; known models: ${known.length ? known.join(', ') : '(none)'}`,
    );
  }
}

/** A model folder that was not served, and why (one line). */
export interface SkippedModel {
  name: string;
  reason: string;
  /** The error itself, rethrown by `strict` loading. */
  error: unknown;
}

interface ModelEntry extends LoadedModel {
  generator: Generator;
  /** The card file's bytes, served to the browser as they are on disk. */
  cardBytes: Buffer;
}

export class ModelRegistry {
  private readonly models: Map<string, ModelEntry>;

  private constructor(
    entries: ModelEntry[],
    readonly folder: string,
    /** Model folders that failed their checks and are not served (empty with `strict`). */
    readonly skipped: readonly SkippedModel[],
  ) {
    this.models = new Map(entries.map((entry) => [entry.name, entry]));
  }

  /**
   * Loads every subfolder of `modelsDir` that contains card.json, checking each card against its ONNX
   * file. A folder that fails is skipped (see {@link skipped}) and the others are served; with
   * `strict`, or when no model is left, the failure is thrown. Fails if the folder is missing or empty.
   */
  static async load(modelsDir: string, options: RegistryOptions = {}): Promise<ModelRegistry> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!(Number.isInteger(chunkSize) && chunkSize >= 1 && chunkSize <= MAX_LATENT_ROWS)) {
      throw new GantryError(
        'registry-option',
        `chunkSize must be an integer in [1, ${MAX_LATENT_ROWS}], got ${String(chunkSize)}`,
      );
    }
    const folder = resolve(modelsDir);
    const found = await findModelFolders(folder, true);
    const missing = (options.only ?? []).filter((name) => !found.includes(name));
    if (missing.length > 0) {
      throw new ModelsFolderError(
        `no model "${missing.join('", "')}" in ${folder} (models there: ${found.join(', ') || 'none'}); ${MODEL_FOLDER_LAYOUT}`,
        folder,
      );
    }
    const modelFolders = options.only === undefined ? found : found.filter((name) => options.only!.includes(name));
    const skipped: SkippedModel[] = options.only === undefined ? await halfCopiedFolders(folder, found) : [];
    if (modelFolders.length === 0 && skipped.length === 0) await findModelFolders(folder); // throws "contains no model"
    const entries: ModelEntry[] = [];
    for (const name of modelFolders) {
      try {
        entries.push(await loadModel(folder, name, { ...options, chunkSize }));
      } catch (error) {
        // Without the provider the user asked for, no model can be served: say so once.
        if (error instanceof ProviderUnavailableError) {
          await Promise.allSettled(entries.map((entry) => entry.generator.close()));
          throw error;
        }
        skipped.push({ name, reason: messageOf(error), error });
      }
    }
    skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (skipped.length > 0 && (options.strict === true || entries.length === 0)) {
      await Promise.allSettled(entries.map((entry) => entry.generator.close()));
      if (skipped.length === 1) throw skipped[0]!.error;
      throw new GantryError(
        'models-invalid',
        `${skipped.length} model folders in ${folder} failed their checks:\n${skipped.map((s) => `  ${s.name}: ${s.reason}`).join('\n')}`,
      );
    }
    return new ModelRegistry(entries, folder, skipped);
  }

  /** Model names, sorted. */
  names(): string[] {
    return [...this.models.keys()];
  }

  /** Every model's card, in name order. */
  cards(): ModelCard[] {
    return [...this.models.values()].map((entry) => entry.card);
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  /** The loaded model called `name`; throws {@link UnknownModelError} listing the known names. */
  get(name: string): LoadedModel {
    const { generator: _generator, cardBytes: _cardBytes, ...model } = this.entry(name);
    return model;
  }

  /** The model's {@link Generator}: every way of making pictures goes through it. */
  generator(name: string): Generator {
    return this.entry(name).generator;
  }

  /** The card file as it is on disk (for clients that verify or cache it). */
  cardBytes(name: string): Buffer {
    return this.entry(name).cardBytes;
  }

  private entry(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (entry === undefined) throw new UnknownModelError(name, this.names());
    return entry;
  }

  /**
   * Samples n latents from the card's distribution with `seed` (a random one when omitted) and runs the
   * generator on them (with `options.class` for a class-conditional model).
   */
  async generate(name: string, options: GenerateOptions): Promise<GenerationResult> {
    const generator = this.generator(name);
    const seed = options.seed ?? randomInt(0, 2 ** 32);
    const result = await generator.generate({
      n: options.n,
      seed,
      ...(options.class !== undefined ? { class: options.class } : {}),
    });
    return {
      model: name,
      n: result.rows,
      seed,
      shape: result.shape,
      range: result.range,
      latents: result.latents,
      classes: result.classes,
      samples: result.samples,
    };
  }

  /**
   * Runs the generator on caller-supplied latents (n × latentSize, row-major), e.g. an interpolation
   * or a latent sum; a class-conditional model needs `options.class`, one class for every row (the
   * class held fixed while the latent moves) or one per row.
   */
  async generateFromLatents(
    name: string,
    latents: Float32Array,
    n: number,
    options: ClassOptions = {},
  ): Promise<GenerationResult> {
    const generator = this.generator(name);
    const latentSize = generator.card.latent.size;
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_LATENT_ROWS))
      throw new GantryError('latent-request', `n must be an integer in [1, ${MAX_LATENT_ROWS}], got ${String(n)}`);
    if (!(latents instanceof Float32Array) || latents.length !== n * latentSize) {
      const got = latents instanceof Float32Array ? String(latents.length) : typeof latents;
      throw new GantryError(
        'latent-request',
        `latents.length must be n × latent size = ${n} × ${latentSize} = ${n * latentSize} for model "${name}", got ${got}`,
      );
    }
    const result = await generator.fromLatents(latents, n, options.class);
    return {
      model: name,
      n,
      seed: null,
      shape: result.shape,
      range: result.range,
      latents,
      classes: result.classes,
      samples: result.samples,
    };
  }

  /** Finishes queued work and releases every session; the registry must not be used afterwards. */
  async close(): Promise<void> {
    const entries = [...this.models.values()];
    this.models.clear();
    await Promise.allSettled(entries.map((entry) => entry.generator.close()));
  }
}

/**
 * Sub-folders that look like a model being copied or exported by hand (an .onnx file, or files, but no
 * card.json): reported, since a model that silently vanishes from the list is hard to debug.
 */
async function halfCopiedFolders(folder: string, models: readonly string[]): Promise<SkippedModel[]> {
  const out: SkippedModel[] = [];
  for (const name of (await readdir(folder)).sort()) {
    if (name.startsWith('.') || models.includes(name)) continue;
    const files = await readdir(join(folder, name)).catch(() => null);
    if (files === null || !files.some((file) => file.endsWith('.onnx'))) continue;
    const reason = `${join(folder, name)} holds ${files.filter((f) => f.endsWith('.onnx')).join(', ')} but no ${CARD_FILE}; an export or copy that did not finish? (${MODEL_FOLDER_LAYOUT})`;
    out.push({ name, reason, error: new ModelLoadError(reason, join(folder, name, CARD_FILE)) });
  }
  return out;
}

/**
 * How the ONNX model's inputs and output disagree with its card, or null: every input must be the
 * latent or the card's class input, and the output must have the card's element type and layout.
 */
function interfaceMismatch(session: GeneratorSession, card: ModelCard): string | null {
  const known = [card.onnx.inputName, ...(card.classInput !== undefined ? [card.classInput.name] : [])];
  const extra = session.inputNames.filter((input) => !known.includes(input));
  if (extra.length > 0) {
    const described =
      card.classInput === undefined
        ? `a latent input "${card.onnx.inputName}" only (no classInput)`
        : `inputs "${known.join('" and "')}"`;
    return `has input(s) "${extra.join('", "')}" that the card does not describe (it describes ${described})`;
  }
  const input = session.inputInfo;
  if (input !== null) {
    const size = input.dims[1];
    if (input.type !== 'float32' || input.dims.length !== 2 || (size !== null && size !== card.latent.size)) {
      const shown = input.dims.map((d, i) => d ?? (i === 0 ? 'batch' : '?')).join(', ');
      return `has latent input "${session.inputName}" of type ${input.type} [${shown}] but the card says latent.size ${card.latent.size} (float32 [batch, ${card.latent.size}])`;
    }
  }
  const info = session.outputInfo;
  if (info === null) return null;
  const dtype = outputDtype(card.output);
  if (info.type !== dtype)
    return `has output "${session.outputName}" of type ${info.type} but the card says output.dtype ${dtype}`;
  const expected = onnxSampleDims(card.output);
  const dims = info.dims.slice(1);
  if (dims.length !== 3 || dims.some((d, i) => d !== null && d !== expected[i])) {
    const shown = dims.map((d) => d ?? '?').join(', ');
    return `has output "${session.outputName}" with samples [${shown}] but the card promises [${expected.join(', ')}] (output.shape ${JSON.stringify(card.output.shape)}, layout ${card.output.layout})`;
  }
  return null;
}

/** What the card promises that the ONNX file cannot show without a run: a valid range and finite output. */
function cardRangeFault(card: ModelCard): string | null {
  const [lo, hi] = card.output.range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
    return `output.range is ${JSON.stringify(card.output.range)}; expected [lo, hi] with lo < hi`;
  return null;
}

async function loadModel(
  modelsFolder: string,
  name: string,
  options: RegistryOptions & { chunkSize: number },
): Promise<ModelEntry> {
  const { folder, onnxPath, card, cardPath } = await readModelFolder(modelsFolder, name);
  const rangeFault = cardRangeFault(card);
  if (rangeFault !== null) throw new ModelLoadError(`model "${name}": ${cardPath}: ${rangeFault}`, cardPath);
  const cardBytes = await readFile(cardPath);

  const sessionOptions = {
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
    inputName: card.onnx.inputName,
    outputName: card.onnx.outputName,
    ...(card.classInput !== undefined ? { classInputName: card.classInput.name } : {}),
    // The batches' threads share the cores with the callers' work (HTTP, encoding): no busy-waiting.
    allowSpinning: false,
  };
  const session = await createSession(onnxPath, sessionOptions).catch((error: unknown) => {
    // Keep the provider error's type: callers offer a different device for it.
    if (error instanceof ProviderUnavailableError) throw error;
    throw new ModelLoadError(`model "${name}": ${messageOf(error)}`, onnxPath, { cause: error });
  });
  const mismatch = interfaceMismatch(session, card);
  if (mismatch !== null) {
    await session.release();
    throw new ModelLoadError(`model "${name}": ${onnxPath} ${mismatch}; re-export the model or fix ${cardPath}`, onnxPath);
  }
  let runner: ChunkRunner = session;
  if (options.worker !== false) {
    // Checked here; computed there. The worker asks for the provider this thread got.
    try {
      runner = await WorkerSession.open(onnxPath, { ...sessionOptions, device: session.provider });
    } finally {
      await session.release();
    }
  }
  const generator = new Generator(name, card, session, options, runner);
  // One real run: shapes the runtime could not describe statically, and a latent size the graph
  // rejects, fail here instead of on every request.
  try {
    const trial = await generator.fromLatents(
      new Float32Array(card.latent.size),
      1,
      card.classInput === undefined ? undefined : 0,
    );
    if (!trial.samples.every(Number.isFinite)) throw new Error('the output of a zero latent holds NaN or infinite values');
  } catch (error) {
    await runner.release();
    throw new ModelLoadError(
      `model "${name}": a trial run of ${onnxPath} failed: ${messageOf(error)}; re-export the model or fix ${cardPath}`,
      onnxPath,
      { cause: error },
    );
  }
  return { name, folder, onnxPath, card, provider: session.provider, skippedProviders: session.skipped, generator, cardBytes };
}

/** One model folder, for commands that use a single model: its Generator and how to release it. */
export async function openModelFolder(
  modelDir: string,
  options: Omit<RegistryOptions, 'only' | 'strict'> = {},
): Promise<{ generator: Generator; close(): Promise<void> }> {
  const folder = resolve(modelDir);
  const registry = await ModelRegistry.load(dirname(folder), { ...options, only: [basename(folder)], strict: true });
  return { generator: registry.generator(basename(folder)), close: () => registry.close() };
}
