// One Generator per served model: the library every front end (gantry sample, gantry generate, the HTTP
// API) calls. Each operation has two halves: `plan*` turns a request into the latent rows and classes
// to run (the meaning of a request lives in @gantry/core's requests.ts, shared with the browser), and
// `run` sends a plan through the model's Batcher, so concurrent callers share onnxruntime runs. Front
// ends can look at a plan's size before paying for it (the HTTP work limit does).

import {
  GantryError,
  generateLatents,
  planArithmetic,
  planInterpolation,
  resolveClasses,
  seedLatents,
  type ArithmeticTerm,
  type ClassRequest,
  type GenerateRequest,
  type InterpolationRequest,
  type ModelCard,
} from '@gantry/core';
import { Batcher, type BatcherOptions } from './batcher.js';
import type { GeneratorSession } from './onnx-runtime.js';
import { OnnxRuntimeError } from './onnx-runtime.js';
import type { ChunkRunner } from './session-thread.js';
import { canonicalSamples, onnxSampleDims, outputDtype, PIXEL_RANGE } from '@gantry/core';

export interface GeneratorOptions extends BatcherOptions {
  /** Largest batch given to onnxruntime at once, bounding memory for large requests (default 64). */
  chunkSize?: number;
}

/** Latent rows and the class of each, ready to run. */
export interface Plan {
  /** rows × latent size, row-major. */
  latents: Float32Array;
  rows: number;
  /** One class per row for a class-conditional model; `null` otherwise. */
  classes: Int32Array | null;
}

export interface Samples extends Plan {
  /** rows × h × w × c float32 NHWC, whatever layout and element type the model was exported with. */
  samples: Float32Array;
  /** One sample's [height, width, channels]. */
  shape: [number, number, number];
  /** [lo, hi] of the sample values: the card's output range, or [0, 255] for uint8 pixel output. */
  range: [number, number];
}

export interface GeneratePlan extends Plan {
  /** The seed of `{n, seed}` requests; `null` when the latents came from `seeds` or `latents`. */
  seed: number | null;
}

export interface ClassChoice {
  /** One class for every sample or one per sample (conditional models only). */
  class?: ClassRequest;
}

export interface InterpolateRequest extends InterpolationRequest {
  /** Conditional models: one class for every frame. */
  class?: number;
  /**
   * Conditional models: one class per key point. A frame takes the class of the key point it is closer
   * to (the class switches at each segment's midpoint), so every key frame shows its own class.
   */
  classes?: readonly number[];
}

export interface InterpolatePlan extends Plan {
  /** The row of each key point among the frames. */
  keyFrames: number[];
}

export interface ArithmeticRequest extends ClassChoice {
  terms: readonly ArithmeticTerm[];
  truncation?: number;
}

/** Rows: each term's mean latent, then the result Σ coef · mean (DCGAN's figure, one row). */
export interface ArithmeticPlanRows extends Plan {
  terms: number;
}

export interface LatentsRequest {
  seeds: readonly number[];
  truncation?: number;
}

export interface RunOptions {
  /** Abandons the work (queued or not yet returned) when it fires. */
  signal?: AbortSignal;
}

export class Generator {
  readonly batcher: Batcher;
  readonly shape: [number, number, number];
  readonly range: [number, number];

  constructor(
    readonly name: string,
    readonly card: ModelCard,
    /** The session the model was checked with: names, provider, output description. */
    private readonly session: GeneratorSession,
    options: GeneratorOptions = {},
    /** What computes the batches: the session itself, or the same model on a worker thread. */
    private readonly runner: ChunkRunner = session,
  ) {
    this.shape = [...card.output.shape];
    this.range = outputDtype(card.output) === 'uint8' ? [...PIXEL_RANGE] : [...card.output.range];
    const chunkSize = options.chunkSize ?? 64;
    const sampleSize = this.shape[0] * this.shape[1] * this.shape[2];
    this.batcher = new Batcher((latents, rows, classes) => this.runBatch(latents, rows, classes, chunkSize), sampleSize, options);
  }

  get provider(): GeneratorSession['provider'] {
    return this.session.provider;
  }

  get skippedProviders(): GeneratorSession['skipped'] {
    return this.session.skipped;
  }

  get onnxPath(): string {
    return this.session.path;
  }

  /** Values in one sample. */
  get sampleSize(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  private classes(request: unknown, rows: number, parameter = 'class'): Int32Array | null {
    return resolveClasses(this.card.classInput, request, rows, { model: this.name, parameter }) ?? null;
  }

  planGenerate(request: GenerateRequest & ClassChoice): GeneratePlan {
    const latents = generateLatents(this.card.latent, request);
    const rows = latents.length / this.card.latent.size;
    const seed = request.seeds === undefined && request.latents === undefined ? (request.seed ?? null) : null;
    return { latents, rows, classes: this.classes(request.class, rows), seed };
  }

  planInterpolate(request: InterpolateRequest): InterpolatePlan {
    const plan = planInterpolation(this.card.latent, request);
    // Open or looped, every key point starts (or ends) exactly one key frame.
    const keyCount = plan.keyFrames.length;
    let classes: Int32Array | null;
    if (request.classes !== undefined) {
      if (request.class !== undefined)
        throw new GantryError(
          'class-request',
          'class and classes cannot both be given: class holds one class for every frame, classes gives one per key point',
        );
      const perKey = this.classes(request.classes, keyCount, 'classes');
      if (perKey === null)
        throw new GantryError('class-request', `classes was given but model "${this.name}" is unconditional: leave it out`);
      classes = new Int32Array(plan.frames);
      for (let frame = 0; frame < plan.frames; frame++) {
        const segment = plan.segment[frame]!;
        classes[frame] = perKey[plan.t[frame]! < 0.5 ? segment : (segment + 1) % keyCount]!;
      }
    } else {
      classes = this.classes(request.class, plan.frames);
    }
    return { latents: plan.latents, rows: plan.frames, classes, keyFrames: plan.keyFrames };
  }

  planArithmetic(request: ArithmeticRequest): ArithmeticPlanRows {
    const plan = planArithmetic(this.card.latent, request.terms, request.truncation);
    const terms = request.terms.length;
    const size = this.card.latent.size;
    const latents = new Float32Array((terms + 1) * size);
    latents.set(plan.termMeans);
    latents.set(plan.result, terms * size);
    return { latents, rows: terms + 1, classes: this.classes(request.class, terms + 1), terms };
  }

  /** The latents the seeds name, for clients doing their own latent math. */
  latents(request: LatentsRequest): Plan {
    const latents = seedLatents(this.card.latent, request.seeds, request.truncation);
    return { latents, rows: latents.length / this.card.latent.size, classes: null };
  }

  /** Runs a plan (through the shared batcher) and returns its samples beside its latents and classes. */
  async run<P extends Plan>(plan: P, options: RunOptions = {}): Promise<P & Samples> {
    const samples = await this.batcher.submit(plan.latents, plan.rows, plan.classes ?? undefined, options.signal);
    return { ...plan, samples, shape: [...this.shape], range: [...this.range] };
  }

  generate(request: GenerateRequest & ClassChoice, options?: RunOptions): Promise<GeneratePlan & Samples> {
    return this.run(this.planGenerate(request), options);
  }

  interpolate(request: InterpolateRequest, options?: RunOptions): Promise<InterpolatePlan & Samples> {
    return this.run(this.planInterpolate(request), options);
  }

  arithmetic(request: ArithmeticRequest, options?: RunOptions): Promise<ArithmeticPlanRows & Samples> {
    return this.run(this.planArithmetic(request), options);
  }

  /** Runs caller-made latents (rows × latent size) with one class for all or one per row. */
  fromLatents(latents: Float32Array, rows: number, classRequest?: ClassRequest, options?: RunOptions): Promise<Plan & Samples> {
    if (!(latents instanceof Float32Array) || latents.length !== rows * this.card.latent.size) {
      throw new GantryError(
        'latent-request',
        `latents must be a Float32Array of rows × latent size = ${rows} × ${this.card.latent.size} values`,
      );
    }
    return this.run({ latents, rows, classes: this.classes(classRequest, rows) }, options);
  }

  private async runBatch(
    latents: Float32Array,
    rows: number,
    classes: Int32Array | undefined,
    chunkSize: number,
  ): Promise<Float32Array> {
    const { card, session } = this;
    const { data, sampleDims } = await this.runner.runInChunks(latents, rows, {
      chunkSize,
      fixedBatch: card.onnx.batch,
      ...(classes !== undefined ? { classes } : {}),
    });
    const expected = onnxSampleDims(card.output);
    if (sampleDims.length !== 3 || sampleDims.some((d, i) => d !== expected[i])) {
      throw new OnnxRuntimeError(
        `${session.path}: output "${session.outputName}" has samples of shape [${sampleDims.join(', ')}] but card.json promises [${expected.join(', ')}] (${card.output.layout})`,
      );
    }
    return canonicalSamples(data, rows, card.output).samples;
  }

  /** Waits for queued work, then releases the onnxruntime session. */
  async close(): Promise<void> {
    await this.batcher.idle();
    await this.runner.release();
  }
}
