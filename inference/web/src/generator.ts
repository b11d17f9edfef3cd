// A Gantry generator in the browser: the model card and ONNX file fetched from a model folder, run with
// onnxruntime-web on WebGPU or WebAssembly. Requests mean what they mean everywhere (core's requests.ts),
// so seed 7 here is seed 7 in Node; export variants (layout, pixel type, fixed batch, class input) are
// read from the card and the model as core's samples.ts describes.

import {
  GantryError,
  canonicalSamples,
  generateLatents,
  padRows,
  parseCard,
  planArithmetic,
  planBatches,
  planInterpolation,
  resolveClasses,
  type ArithmeticPlan,
  type ArithmeticTerm,
  type ClassRequest,
  type GenerateRequest,
  type InterpolationPlan,
  type InterpolationRequest,
  type ModelCard,
  messageOf,
} from '@gantry/core';
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import {
  browserEnvironment,
  chooseBackend,
  type Backend,
  type BackendChoice,
  type BrowserEnvironment,
  type DeviceRequest,
} from './backend.js';
import { sampleRgba, drawGrid, drawImage, type SampleShape } from './images.js';
import { fetchModel } from './model-cache.js';
import { SerialQueue } from './serial-queue.js';

type Ort = typeof import('onnxruntime-web');

/** Where loading is; `fraction` is an estimate of the whole load in [0, 1] for a progress bar. */
export type LoadProgress =
  | { stage: 'card'; url: string; fraction: number }
  | { stage: 'download'; loaded: number; total: number | null; cached: boolean; fraction: number }
  | { stage: 'runtime'; backend: Backend; threads: number; fraction: number }
  | { stage: 'ready'; backend: Backend; milliseconds: number; fraction: 1 };

export interface LoadOptions {
  device?: DeviceRequest;
  onProgress?: (progress: LoadProgress) => void;
  /** WebAssembly threads; default every core when cross-origin isolated, else 1 (see backend.ts). */
  threads?: number;
  /** Keep the ONNX file in the Cache API, keyed by its SHA-256 (default true). */
  cache?: boolean;
  /** Where onnxruntime-web's .wasm/.mjs files are (a URL prefix); default: beside onnxruntime-web's module. */
  wasmPaths?: string;
  /** Largest batch per run for a model with a dynamic batch axis (default 64). */
  batchSize?: number;
  fetch?: typeof fetch;
  /**
   * Run onnxruntime-web's WebAssembly in a worker (env.wasm.proxy; default true on wasm, where it keeps the
   * page responsive during a run and lets threads wait without spinning the main thread; WebGPU runs unproxied).
   */
  proxy?: boolean;
  /** Extra onnxruntime-web session options (merged over Gantry's: all graph optimizations, errors-only logging). */
  sessionOptions?: InferenceSession.SessionOptions;
}

/** Options of a run: the class of every sample (conditional models only). */
export interface ClassOption {
  class?: ClassRequest;
}

/** n generated samples with their latents, as numbers (NHWC) and as pictures. */
export class Samples {
  constructor(
    /** n × latent size. */
    readonly latents: Float32Array,
    readonly classes: Int32Array | undefined,
    /** n × h × w × c, NHWC, values in `range`. */
    readonly values: Float32Array,
    readonly range: [number, number],
    readonly shape: SampleShape,
    /** Wall time of the model runs. */
    readonly milliseconds: number,
  ) {}

  get count(): number {
    return this.values.length / (this.shape[0] * this.shape[1] * this.shape[2]);
  }

  /** Sample `index` as ImageData. */
  image(index = 0): ImageData {
    return new ImageData(sampleRgba(this.values, index, this.shape, this.range), this.shape[1], this.shape[0]);
  }

  images(): ImageData[] {
    return Array.from({ length: this.count }, (_, i) => this.image(i));
  }

  /** Draws sample `index` into `canvas` at its own size. */
  draw(canvas: HTMLCanvasElement | OffscreenCanvas, index = 0): void {
    drawImage(canvas, this.image(index));
  }

  /** Draws every sample as a grid into `canvas`. */
  drawGrid(canvas: HTMLCanvasElement | OffscreenCanvas, columns?: number, gap = 0): void {
    drawGrid(canvas, this.images(), columns, gap);
  }
}

export interface Interpolation extends InterpolationPlan {
  samples: Samples;
}

export interface Arithmetic extends ArithmeticPlan {
  /** The picture of each term's mean latent, then the picture of the result (terms + 1 samples). */
  samples: Samples;
}

const ortModules: Partial<Record<Backend, Promise<Ort>>> = {};
/** The thread count each onnxruntime-web build was started with in this page (fixed from then on). */
const runtimeThreads: Partial<Record<Backend, number>> = {};

/** onnxruntime-web's build for a backend: the WebGPU build (asyncify) or the smaller, faster wasm-only one. */
function loadOrt(backend: Backend): Promise<Ort> {
  ortModules[backend] ??= (
    backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm')
  ) as Promise<Ort>;
  return ortModules[backend]!;
}

/** The card URL for a model folder URL ('models/x/' or 'models/x') or a card URL ('…/card.json'). */
export function cardUrl(modelUrl: string, base: string): URL {
  const url = new URL(modelUrl, base);
  if (url.pathname.endsWith('.json')) return url;
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL('card.json', url);
}

function pageBase(): string {
  return (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
}

export class Generator {
  private readonly queue = new SerialQueue();

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly card: ModelCard,
    readonly url: string,
    readonly backendChoice: BackendChoice,
    /** Whether the ONNX file came from the Cache API. */
    readonly fromCache: boolean,
    private readonly classRank: 1 | 2,
    private readonly batchSize: number,
  ) {}

  /** Loads the model at `modelUrl` (a model folder or its card.json), relative to the page. */
  static async load(
    modelUrl: string,
    options: LoadOptions = {},
    env: BrowserEnvironment = browserEnvironment(),
  ): Promise<Generator> {
    const started = performance.now();
    const batchSize = options.batchSize ?? 64;
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new GantryError('batch-size', `batchSize must be a positive integer, got ${String(batchSize)}`);
    const report = options.onProgress ?? (() => undefined);
    const doFetch = options.fetch ?? fetch.bind(globalThis);
    const cardAt = cardUrl(modelUrl, pageBase());
    report({ stage: 'card', url: cardAt.href, fraction: 0 });
    // The backend is chosen while the card downloads: both wait on the browser.
    const choicePromise = chooseBackend(options.device ?? 'auto', env, options.threads);
    const ortPromise = choicePromise.then((choice) => loadOrt(choice.backend));
    ortPromise.catch(() => undefined);
    let response: Response;
    try {
      response = await doFetch(cardAt.href);
    } catch (error) {
      throw new GantryError('model-download', `${cardAt.href}: could not download the model card: ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (!response.ok)
      throw new GantryError(
        'model-download',
        `${cardAt.href}: the server answered ${response.status}; expected the model's card.json`,
      );
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new GantryError('card-invalid', `${cardAt.href}: not JSON: ${messageOf(error)}`, { cause: error });
    }
    let card: ModelCard;
    try {
      card = parseCard(json, cardAt.href);
    } catch (error) {
      throw new GantryError('card-invalid', messageOf(error), { cause: error });
    }
    const onnxUrl = new URL(card.onnx.file.split('/').map(encodeURIComponent).join('/'), cardAt).href;
    const { bytes, cached } = await fetchModel(onnxUrl, card.onnx.sha256, {
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      fetch: doFetch,
      onProgress: (p) => report({ stage: 'download', ...p, fraction: 0.05 + 0.75 * (p.total === null ? 0 : p.loaded / p.total) }),
    });
    let choice = await choicePromise;
    const ort = await ortPromise;
    // These are read when the runtime first starts in the page; later changes are ignored by onnxruntime,
    // so a later generator reports the thread count it really runs with.
    const running = runtimeThreads[choice.backend];
    if (running === undefined) {
      runtimeThreads[choice.backend] = choice.threads;
      ort.env.wasm.numThreads = choice.threads;
      if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
      ort.env.wasm.proxy = choice.backend === 'wasm' && (options.proxy ?? true);
    } else if (running !== choice.threads) {
      choice = {
        ...choice,
        threads: running,
        reason: `${choice.reason}; but onnxruntime-web already runs with ${running} in this page`,
      };
    }
    report({ stage: 'runtime', backend: choice.backend, threads: choice.threads, fraction: 0.8 });
    // onnxruntime's warnings (such as shape ops placed on the CPU beside WebGPU) are not the page's errors.
    ort.env.logLevel = 'error';
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [choice.backend],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...options.sessionOptions,
      });
    } catch (error) {
      throw new GantryError(
        'model-load',
        `${onnxUrl}: onnxruntime-web could not load the model on ${choice.backend}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const classRank = Generator.checkInputs(session, card, onnxUrl);
    report({ stage: 'ready', backend: choice.backend, milliseconds: performance.now() - started, fraction: 1 });
    return new Generator(ort, session, card, cardAt.href, choice, cached, classRank, batchSize);
  }

  /** Checks the card's names against the model and reads the class input's rank ([batch] or [batch, 1]). */
  private static checkInputs(session: InferenceSession, card: ModelCard, onnxUrl: string): 1 | 2 {
    const { inputName, outputName } = card.onnx;
    if (!session.inputNames.includes(inputName))
      throw new GantryError(
        'model-load',
        `${onnxUrl}: card.json's onnx.inputName "${inputName}" is not an input of the model (${session.inputNames.join(', ')})`,
      );
    if (!session.outputNames.includes(outputName))
      throw new GantryError(
        'model-load',
        `${onnxUrl}: card.json's onnx.outputName "${outputName}" is not an output of the model ` +
          `(${session.outputNames.join(', ')})`,
      );
    const classInput = card.classInput;
    if (classInput === undefined) return 2;
    if (!session.inputNames.includes(classInput.name))
      throw new GantryError(
        'model-load',
        `${onnxUrl}: card.json's classInput.name "${classInput.name}" is not an input of the model`,
      );
    const info = session.inputMetadata?.find((m) => m.name === classInput.name);
    // A runtime that does not describe its inputs gets the exporter's layout, [batch, 1].
    return info?.isTensor && info.shape.length === 1 ? 1 : 2;
  }

  get backend(): Backend {
    return this.backendChoice.backend;
  }

  /** Runs queued or in progress on this model. */
  get pending(): number {
    return this.queue.pending;
  }

  /** The class names of a conditional model (from the card, or "0", "1", …); empty for an unconditional one. */
  get classNames(): string[] {
    const input = this.card.classInput;
    if (input === undefined) return [];
    return input.names ?? Array.from({ length: input.classes }, (_, i) => String(i));
  }

  /** The latent rows a request names (core's generateLatents). */
  latents(request: GenerateRequest): Float32Array {
    return generateLatents(this.card.latent, request);
  }

  /** Pictures for a request: `seeds`, `latents`, or `n` rows from `seed`, with a class for conditional models. */
  generate(request: GenerateRequest & ClassOption): Promise<Samples> {
    return this.run(this.latents(request), request.class);
  }

  /** Frames through key points (core's planInterpolation), rendered. */
  async interpolate(request: InterpolationRequest & ClassOption): Promise<Interpolation> {
    const plan = planInterpolation(this.card.latent, request);
    return { ...plan, samples: await this.run(plan.latents, request.class) };
  }

  /** DCGAN's vector arithmetic (core's planArithmetic): the pictures of each term's mean and of the result. */
  async arithmetic(terms: readonly ArithmeticTerm[], options: ClassOption & { truncation?: number } = {}): Promise<Arithmetic> {
    const plan = planArithmetic(this.card.latent, terms, options.truncation);
    const rows = new Float32Array(plan.termMeans.length + plan.result.length);
    rows.set(plan.termMeans);
    rows.set(plan.result, plan.termMeans.length);
    return { ...plan, samples: await this.run(rows, options.class) };
  }

  /** Renders explicit latent rows (n × latent size). Runs are queued: one at a time per model. */
  run(latents: Float32Array, classRequest?: ClassRequest): Promise<Samples> {
    const size = this.card.latent.size;
    if (!(latents instanceof Float32Array) || latents.length === 0 || latents.length % size !== 0) {
      throw new GantryError(
        'latent-request',
        `latents must be a non-empty Float32Array of n × ${size} values (the model's latent size)`,
      );
    }
    const n = latents.length / size;
    let classes: Int32Array | undefined;
    try {
      classes = resolveClasses(this.card.classInput, classRequest, n, { model: this.card.name });
    } catch (error) {
      throw new GantryError('class-request', messageOf(error), { cause: error });
    }
    return this.queue.run(() => this.runNow(latents, n, classes));
  }

  private async runNow(latents: Float32Array, n: number, classes: Int32Array | undefined): Promise<Samples> {
    const { card } = this;
    const size = card.latent.size;
    const started = performance.now();
    let raw: Float32Array | Uint8Array | undefined;
    for (const { start, count, batch } of planBatches(n, { chunkSize: this.batchSize, fixedBatch: card.onnx.batch })) {
      const feeds: Record<string, Tensor> = {
        [card.onnx.inputName]: new this.ort.Tensor(
          'float32',
          padRows(latents.slice(start * size, (start + count) * size), batch * size),
          [batch, size],
        ),
      };
      if (classes !== undefined && card.classInput !== undefined) {
        const indices = BigInt64Array.from(padRows(classes.slice(start, start + count), batch), (c) => BigInt(c));
        feeds[card.classInput.name] = new this.ort.Tensor('int64', indices, this.classRank === 1 ? [batch] : [batch, 1]);
      }
      let output: Tensor | undefined;
      try {
        output = (await this.session.run(feeds, [card.onnx.outputName]))[card.onnx.outputName];
      } catch (error) {
        throw new GantryError(
          'inference',
          `${card.name}: onnxruntime-web failed on a batch of ${batch} on ${this.backend}: ${messageOf(error)}`,
          { cause: error },
        );
      }
      const data = output?.data;
      if (!(data instanceof Float32Array || data instanceof Uint8Array)) {
        throw new GantryError(
          'inference',
          `${card.name}: output "${card.onnx.outputName}" is ${output?.type ?? 'missing'}; ` +
            'expected float32 values or uint8 pixels',
        );
      }
      const sampleSize = data.length / batch;
      raw ??= data instanceof Uint8Array ? new Uint8Array(n * sampleSize) : new Float32Array(n * sampleSize);
      raw.set(data.subarray(0, count * sampleSize), start * sampleSize);
      output?.dispose();
    }
    const milliseconds = performance.now() - started;
    let canonical: ReturnType<typeof canonicalSamples>;
    try {
      canonical = canonicalSamples(raw!, n, card.output);
    } catch (error) {
      throw new GantryError('inference', `${card.name}: ${messageOf(error)}`, { cause: error });
    }
    return new Samples(latents, classes, canonical.samples, canonical.range, card.output.shape, milliseconds);
  }

  /** Frees the session; the generator cannot run afterwards. */
  release(): Promise<void> {
    return this.queue.run(() => this.session.release());
  }
}
