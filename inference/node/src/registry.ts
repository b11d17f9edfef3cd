// Loads every exported generator under a models folder and runs generation requests against them.
// Each model folder is verified before it is served: the card must validate and the ONNX file must
// hash to the card's sha256, so a half-copied or mismatched export is refused at startup instead of
// producing wrong pictures later.

import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { MAX_LATENT_ROWS, assertSeed, resolveClasses, sampleLatents, type ClassRequest, type ModelCard } from '@gantry/core';
import { MODEL_FOLDER_LAYOUT, ModelLoadError, ModelsFolderError, findModelFolders, readModelFolder } from '@gantry/files/model-folder';
import { ProviderUnavailableError, createSession, type DeviceRequest, type ExecutionProvider, type GeneratorSession, type ProviderAttempt } from './onnx-runtime.js';
import { canonicalSamples, onnxSampleDims, outputDtype } from './samples.js';

// The model-folder format and its errors live in @gantry/files; re-exported for the library's users.
export { CARD_FILE, HashMismatchError, ModelLoadError, ModelsFolderError, sha256File } from '@gantry/files/model-folder';

export const DEFAULT_CHUNK_SIZE = 64;

export interface RegistryOptions {
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

export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
  constructor(
    readonly requested: string,
    readonly known: readonly string[],
  ) {
    super(`unknown model ${JSON.stringify(requested)}; known models: ${known.length ? known.join(', ') : '(none)'}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface ModelEntry extends LoadedModel {
  session: GeneratorSession;
  /** Tail of this model's run queue: runs are serialized so concurrent requests cannot pile up batches. */
  queue: Promise<unknown>;
}

export class ModelRegistry {
  private readonly models: Map<string, ModelEntry>;

  private constructor(
    entries: ModelEntry[],
    readonly folder: string,
    private readonly chunkSize: number,
  ) {
    this.models = new Map(entries.map((entry) => [entry.name, entry]));
  }

  /**
   * Loads every subfolder of `modelsDir` that contains card.json (others are ignored). Fails if the
   * folder is missing or has no model, or if any model's card, hash or ONNX file is bad.
   */
  static async load(modelsDir: string, options: RegistryOptions = {}): Promise<ModelRegistry> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!(Number.isInteger(chunkSize) && chunkSize >= 1 && chunkSize <= MAX_LATENT_ROWS)) {
      throw new RangeError(`chunkSize must be an integer in [1, ${MAX_LATENT_ROWS}], got ${String(chunkSize)}`);
    }
    const folder = resolve(modelsDir);
    const found = await findModelFolders(folder, options.only !== undefined && options.only.length > 0);
    const missing = (options.only ?? []).filter((name) => !found.includes(name));
    if (missing.length > 0) {
      throw new ModelsFolderError(`no model "${missing.join('", "')}" in ${folder} (models there: ${found.join(', ') || 'none'}); ${MODEL_FOLDER_LAYOUT}`, folder);
    }
    const modelFolders = options.only === undefined ? found : found.filter((name) => options.only!.includes(name));
    const entries: ModelEntry[] = [];
    try {
      for (const name of modelFolders) entries.push(await loadModel(folder, name, options));
    } catch (error) {
      await Promise.allSettled(entries.map((entry) => entry.session.release()));
      throw error;
    }
    return new ModelRegistry(entries, folder, chunkSize);
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
    const { session: _session, queue: _queue, ...model } = this.entry(name);
    return model;
  }

  private entry(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (entry === undefined) throw new UnknownModelError(name, this.names());
    return entry;
  }

  /**
   * Samples n latents from the card's distribution with `seed` and runs the generator on them (with
   * `options.class` for a class-conditional model).
   */
  async generate(name: string, options: GenerateOptions): Promise<GenerationResult> {
    const entry = this.entry(name);
    const { n } = options;
    assertRowCount(n);
    const seed = options.seed ?? randomInt(0, 2 ** 32);
    assertSeed(seed);
    // Checked before sampling, so a bad class costs nothing.
    resolveClasses(entry.card.classInput, options.class, n, { model: name });
    const latents = sampleLatents(entry.card.latent, n, seed);
    return { ...(await this.generateFromLatents(name, latents, n, options)), seed };
  }

  /**
   * Runs the generator on caller-supplied latents (n × latentSize, row-major), e.g. an interpolation
   * or a latent sum; a class-conditional model needs `options.class`, one class for every row (the
   * class held fixed while the latent moves) or one per row.
   */
  async generateFromLatents(name: string, latents: Float32Array, n: number, options: ClassOptions = {}): Promise<GenerationResult> {
    const entry = this.entry(name);
    const { card } = entry;
    if (!(latents instanceof Float32Array)) throw new TypeError(`latents must be a Float32Array, got ${describeType(latents)}`);
    assertRowCount(n);
    const latentSize = card.latent.size;
    if (latents.length !== n * latentSize) {
      throw new RangeError(`latents.length must be n × latent size = ${n} × ${latentSize} = ${n * latentSize} for model "${name}", got ${latents.length}`);
    }
    const classes = resolveClasses(card.classInput, options.class, n, { model: name });
    const run = entry.queue.then(() => this.runChunks(entry, latents, n, classes));
    entry.queue = run.catch(() => undefined);
    const { samples, range } = await run;
    return { model: name, n, seed: null, shape: [...card.output.shape], range, latents, classes: classes ?? null, samples };
  }

  private async runChunks(entry: ModelEntry, latents: Float32Array, n: number, classes: Int32Array | undefined): Promise<ReturnType<typeof canonicalSamples>> {
    const { card, session } = entry;
    const { data, sampleDims } = await session.runInChunks(latents, n, { chunkSize: this.chunkSize, fixedBatch: card.onnx.batch, ...(classes !== undefined ? { classes } : {}) });
    const expected = onnxSampleDims(card.output);
    if (sampleDims.length !== 3 || sampleDims.some((d, i) => d !== expected[i])) {
      throw new ModelLoadError(
        `${entry.onnxPath}: output "${session.outputName}" has samples of shape [${sampleDims.join(', ')}] but card.json promises [${expected.join(', ')}] (${card.output.layout})`,
        entry.onnxPath,
      );
    }
    try {
      return canonicalSamples(data, n, card.output);
    } catch (error) {
      throw new ModelLoadError(`${entry.onnxPath}: ${messageOf(error)}`, entry.onnxPath, { cause: error });
    }
  }

  /** Releases every session; the registry must not be used afterwards. */
  async close(): Promise<void> {
    const entries = [...this.models.values()];
    this.models.clear();
    await Promise.allSettled(entries.map(async (entry) => {
      await entry.queue;
      await entry.session.release();
    }));
  }
}

function assertRowCount(n: number): void {
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_LATENT_ROWS)) {
    throw new RangeError(`n must be an integer in [1, ${MAX_LATENT_ROWS}], got ${String(n)}`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * How the ONNX model's inputs and output disagree with its card, or null: every input must be the
 * latent or the card's class input, and the output must have the card's element type and layout.
 */
function interfaceMismatch(session: GeneratorSession, card: ModelCard): string | null {
  const known = [card.onnx.inputName, ...(card.classInput !== undefined ? [card.classInput.name] : [])];
  const extra = session.inputNames.filter((input) => !known.includes(input));
  if (extra.length > 0) {
    const described = card.classInput === undefined ? `a latent input "${card.onnx.inputName}" only (no classInput)` : `inputs "${known.join('" and "')}"`;
    return `has input(s) "${extra.join('", "')}" that the card does not describe (it describes ${described})`;
  }
  const info = session.outputInfo;
  if (info === null) return null;
  const dtype = outputDtype(card.output);
  if (info.type !== dtype) return `has output "${session.outputName}" of type ${info.type} but the card says output.dtype ${dtype}`;
  const expected = onnxSampleDims(card.output);
  const dims = info.dims.slice(1);
  if (dims.length !== 3 || dims.some((d, i) => d !== null && d !== expected[i])) {
    const shown = dims.map((d) => d ?? '?').join(', ');
    return `has output "${session.outputName}" with samples [${shown}] but the card promises [${expected.join(', ')}] (output.shape ${JSON.stringify(card.output.shape)}, layout ${card.output.layout})`;
  }
  return null;
}

async function loadModel(modelsFolder: string, name: string, options: RegistryOptions): Promise<ModelEntry> {
  const { folder, onnxPath, card, cardPath } = await readModelFolder(modelsFolder, name);

  const session = await createSession(onnxPath, {
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
    inputName: card.onnx.inputName,
    outputName: card.onnx.outputName,
    ...(card.classInput !== undefined ? { classInputName: card.classInput.name } : {}),
  }).catch((error: unknown) => {
    // Keep the provider error's type: callers offer a different device for it.
    if (error instanceof ProviderUnavailableError) throw error;
    throw new ModelLoadError(`model "${name}": ${messageOf(error)}`, onnxPath, { cause: error });
  });
  const mismatch = interfaceMismatch(session, card);
  if (mismatch !== null) {
    await session.release();
    throw new ModelLoadError(`model "${name}": ${onnxPath} ${mismatch}; re-export the model or fix ${cardPath}`, onnxPath);
  }
  return {
    name,
    folder,
    onnxPath,
    card,
    provider: session.provider,
    skippedProviders: session.skipped,
    session,
    queue: Promise.resolve(),
  };
}
