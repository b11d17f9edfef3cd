// The only module that touches onnxruntime-node. It is loaded lazily (dynamic import on the first
// session), so code that only needs the image or npy helpers from this package never loads the
// native runtime, and a broken runtime install fails with a clear message at the point of use.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GantryError, messageOf } from '@gantry/core';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

type OrtModule = typeof import('onnxruntime-node');

/** What the caller asks for; 'auto' tries CUDA first and falls back to CPU. */
export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
/** The execution provider a session actually runs on. */
export type ExecutionProvider = 'cpu' | 'cuda';

export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda'];
/** Providers tried, in order, for device 'auto'. */
export const AUTO_PROVIDER_ORDER: readonly ExecutionProvider[] = ['cuda', 'cpu'];

export const CUDA_INSTALL_HINT =
  'install the CUDA build of onnxruntime-node with `npm install onnxruntime-node --onnxruntime-node-install=cuda12` ' +
  '(or set ONNXRUNTIME_NODE_INSTALL=cuda12 before npm install; a project .npmrc with onnxruntime-node-install=skip ' +
  'must be overridden), on linux/x64 with CUDA 12 and cuDNN 9 installed';

export interface CreateSessionOptions {
  device?: DeviceRequest;
  /** Name of the float32 [n, latentSize] input; defaults to the model's first input. */
  inputName?: string;
  /** Name of the image output (float32 or uint8, NHWC or NCHW); defaults to the model's first output. */
  outputName?: string;
  /**
   * Name of a class-conditional generator's int64 class input ([batch] or [batch, 1]); {@link GeneratorSession.run}
   * then takes one class index per sample. Leave out for a generator with a latent input only.
   */
  classInputName?: string;
  /** Intra-op thread count for the CPU provider; onnxruntime picks one per core when omitted. */
  intraOpThreads?: number;
  /**
   * Whether idle intra-op threads spin waiting for work (onnxruntime's default, true). A server sharing
   * its cores with HTTP work does better without: spinning burns the CPU the requests need.
   */
  allowSpinning?: boolean;
}

/** A provider that was tried and skipped before the session's provider was found. */
export interface ProviderAttempt {
  provider: ExecutionProvider;
  reason: string;
}

export interface BatchOutput {
  /** float32 values or uint8 pixels, as the model exports them. */
  data: Float32Array | Uint8Array;
  dims: number[];
}

/** A model input or output as the runtime describes it; a symbolic (named) axis is `null`. */
export interface TensorInfo {
  type: string;
  dims: (number | null)[];
}

/** How class indices are fed: the input's name and whether it is [batch] (rank 1) or [batch, 1] (rank 2). */
export interface ClassInputFeed {
  name: string;
  rank: 1 | 2;
}

/** A tensor of one of the element types Gantry's models use, for {@link GeneratorSession.runTensors}. */
export interface RawTensor {
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: number[];
}

/** The requested execution provider cannot run here; the message says how to install it. */
export class ProviderUnavailableError extends GantryError {
  override name = 'ProviderUnavailableError';
  constructor(
    message: string,
    readonly provider: ExecutionProvider,
    options?: { cause?: unknown },
  ) {
    super('provider-unavailable', message, options);
  }
}

/** onnxruntime refused a model or a run; the message names the file. */
export class OnnxRuntimeError extends GantryError {
  override name = 'OnnxRuntimeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('onnxruntime', message, options);
  }
}

let ortPromise: Promise<OrtModule> | undefined;

function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node').catch((error: unknown) => {
    ortPromise = undefined;
    throw new OnnxRuntimeError(
      `could not load onnxruntime-node (is it installed for ${process.platform}/${process.arch}?): ${messageOf(error)}`,
      { cause: error },
    );
  });
  return ortPromise;
}

/**
 * Whether the CUDA provider libraries that `--onnxruntime-node-install=cuda12` downloads are
 * present next to the native binding. The default install lacks them, and asking onnxruntime for
 * CUDA then prints a loud native error before failing, so 'auto' checks first and skips quietly.
 */
export function cudaProviderInstalled(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  let packageDist: string;
  try {
    packageDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  } catch {
    return false;
  }
  const binFolder = join(packageDist, '..', 'bin', 'napi-v6', process.platform, process.arch);
  return ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'].every((file) =>
    existsSync(join(binFolder, file)),
  );
}

/** A loaded generator model bound to one execution provider. */
export class GeneratorSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    readonly path: string,
    readonly provider: ExecutionProvider,
    /** Providers tried before `provider`, with the reason each was skipped. */
    readonly skipped: readonly ProviderAttempt[],
    readonly inputName: string,
    readonly outputName: string,
    /** Every input of the model, in its order. */
    readonly inputNames: readonly string[],
    /** The class input, for a session opened with `classInputName`; otherwise `null`. */
    readonly classInput: ClassInputFeed | null,
    /** The chosen output's element type and dims (batch axis included), when the runtime reports them. */
    readonly outputInfo: TensorInfo | null,
    /** The latent input's element type and dims (batch axis included), when the runtime reports them. */
    readonly inputInfo: TensorInfo | null,
  ) {}

  /** @internal use {@link createSession}. */
  static async open(source: string | Uint8Array, options: CreateSessionOptions = {}): Promise<GeneratorSession> {
    // Error messages name the file, or say the model came from memory (an export being verified).
    const onnxPath = typeof source === 'string' ? source : 'in-memory ONNX model';
    const device = options.device ?? 'auto';
    if (!DEVICE_REQUESTS.includes(device)) {
      throw new RangeError(
        `device must be one of ${DEVICE_REQUESTS.map((d) => `"${d}"`).join(', ')}, got ${JSON.stringify(device)}`,
      );
    }
    if (options.intraOpThreads !== undefined && !(Number.isInteger(options.intraOpThreads) && options.intraOpThreads >= 1)) {
      throw new RangeError(`intraOpThreads must be a positive integer, got ${String(options.intraOpThreads)}`);
    }
    const ort = await loadOrt();
    const candidates: readonly ExecutionProvider[] = device === 'auto' ? AUTO_PROVIDER_ORDER : [device];
    const skipped: ProviderAttempt[] = [];
    for (const provider of candidates) {
      const last = provider === candidates[candidates.length - 1];
      if (provider === 'cuda' && !cudaProviderInstalled()) {
        const reason = `the CUDA execution provider binaries are not installed for onnxruntime-node; ${CUDA_INSTALL_HINT}`;
        if (device === 'cuda') throw new ProviderUnavailableError(`${onnxPath}: cannot use device "cuda": ${reason}`, 'cuda');
        skipped.push({ provider, reason });
        continue;
      }
      try {
        const sessionOptions = {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
          ...(options.allowSpinning === false ? { extra: { 'session.intra_op.allow_spinning': '0' } } : {}),
        } as const;
        const session =
          typeof source === 'string'
            ? await ort.InferenceSession.create(source, sessionOptions)
            : await ort.InferenceSession.create(source, sessionOptions);
        let names: { inputName: string; outputName: string; classInput: ClassInputFeed | null };
        try {
          names = pickNames(session, onnxPath, options);
        } catch (error) {
          await session.release();
          throw error;
        }
        const outputInfo = tensorInfo(session.outputMetadata, names.outputName);
        const inputInfo = tensorInfo(session.inputMetadata, names.inputName);
        return new GeneratorSession(
          ort,
          session,
          onnxPath,
          provider,
          skipped,
          names.inputName,
          names.outputName,
          [...session.inputNames],
          names.classInput,
          outputInfo,
          inputInfo,
        );
      } catch (error) {
        if (error instanceof OnnxRuntimeError) throw error;
        if (provider === 'cuda') {
          const reason = `onnxruntime could not start the CUDA execution provider (${messageOf(error)}); check the GPU driver, or ${CUDA_INSTALL_HINT}`;
          if (last)
            throw new ProviderUnavailableError(`${onnxPath}: cannot use device "cuda": ${reason}`, 'cuda', { cause: error });
          skipped.push({ provider, reason });
          continue;
        }
        throw new OnnxRuntimeError(`${onnxPath}: onnxruntime could not load the model on ${provider}: ${messageOf(error)}`, {
          cause: error,
        });
      }
    }
    // Unreachable: the last candidate either returns or throws.
    throw new OnnxRuntimeError(`${onnxPath}: no execution provider available (tried ${candidates.join(', ')})`);
  }

  /**
   * Runs n latents (row-major, n × latentSize), with n class indices for a class-conditional model, in
   * batches of at most `chunkSize`, or of exactly `fixedBatch` for a model exported with a fixed batch
   * axis (the last batch padded with zero latents and class 0), and returns the n samples
   * concatenated, with one sample's dims.
   */
  async runInChunks(
    latents: Float32Array,
    n: number,
    { chunkSize, fixedBatch, classes }: { chunkSize: number; fixedBatch: number | null; classes?: Int32Array },
  ): Promise<{ data: Float32Array | Uint8Array; sampleDims: number[] }> {
    const latentSize = latents.length / n;
    const chunk = fixedBatch ?? chunkSize;
    let samples: Float32Array | Uint8Array | undefined;
    let sampleDims: number[] = [];
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const batch = fixedBatch ?? count;
      const input = padRows(latents.subarray(start * latentSize, (start + count) * latentSize), batch * latentSize);
      const classRows = classes === undefined ? undefined : padRows(classes.subarray(start, start + count), batch);
      const output = await this.run(input, batch, classRows);
      if (output.dims[0] !== batch)
        throw new OnnxRuntimeError(`${this.path}: output batch ${output.dims[0]} for an input batch of ${batch}`);
      sampleDims = output.dims.slice(1);
      const sampleSize = output.data.length / batch;
      samples ??= output.data instanceof Uint8Array ? new Uint8Array(n * sampleSize) : new Float32Array(n * sampleSize);
      if (samples.constructor !== output.data.constructor)
        throw new OnnxRuntimeError(`${this.path}: output "${this.outputName}" changed its element type between batches`);
      samples.set(output.data.subarray(0, count * sampleSize), start * sampleSize);
    }
    return { data: samples ?? new Float32Array(0), sampleDims };
  }

  /**
   * Runs one batch: `latents` is float32 [n, latentSize] row-major and, for a session with a class
   * input, `classes` holds the n class indices. Returns the image output as the model lays it out
   * (float32 or uint8; NHWC or NCHW).
   */
  async run(latents: Float32Array, n: number, classes?: Int32Array): Promise<BatchOutput> {
    if (!(latents instanceof Float32Array)) throw new TypeError(`latents must be a Float32Array, got ${typeof latents}`);
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a positive integer, got ${String(n)}`);
    if (latents.length % n !== 0) {
      throw new RangeError(`latents.length (${latents.length}) must be a multiple of n (${n})`);
    }
    const feeds: Record<string, Tensor> = { [this.inputName]: new this.ort.Tensor('float32', latents, [n, latents.length / n]) };
    if (this.classInput !== null) {
      const { name, rank } = this.classInput;
      if (classes === undefined)
        throw new TypeError(
          `${this.path}: the model is class-conditional (input "${name}"); pass classes, one class index per sample`,
        );
      if (!(classes instanceof Int32Array) || classes.length !== n)
        throw new RangeError(
          `classes must be an Int32Array of n = ${n} class indices, got ${classes instanceof Int32Array ? `${classes.length} values` : typeof classes}`,
        );
      feeds[name] = new this.ort.Tensor(
        'int64',
        BigInt64Array.from(classes, (c) => BigInt(c)),
        rank === 1 ? [n] : [n, 1],
      );
    } else if (classes !== undefined) {
      throw new TypeError(
        `${this.path}: classes were given but the session has no class input (open it with classInputName for a class-conditional model)`,
      );
    }
    let outputs: InferenceSession.ReturnType;
    try {
      outputs = await this.session.run(feeds, [this.outputName]);
    } catch (error) {
      throw new OnnxRuntimeError(`${this.path}: inference failed for input [${n}, ${latents.length / n}]: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const output = outputs[this.outputName];
    if (output === undefined) throw new OnnxRuntimeError(`${this.path}: the model returned no output "${this.outputName}"`);
    const data = output.data;
    if (
      !((output.type === 'float32' && data instanceof Float32Array) || (output.type === 'uint8' && data instanceof Uint8Array))
    ) {
      throw new OnnxRuntimeError(
        `${this.path}: output "${this.outputName}" is ${output.type}; expected float32 values or uint8 pixels`,
      );
    }
    return { data, dims: output.dims.map(Number) };
  }

  /**
   * Runs the model on named inputs of any type Gantry uses (float32, int64, uint8) and returns every
   * output as the runtime gives it. The exporter's parity check needs this for models with a class
   * input or uint8 pixel output; serving goes through {@link run}.
   */
  async runTensors(feeds: Record<string, RawTensor>): Promise<Record<string, RawTensor>> {
    const inputs: Record<string, Tensor> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) {
      const type = data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : 'uint8';
      inputs[name] = new this.ort.Tensor(type, data, dims);
    }
    let outputs: InferenceSession.ReturnType;
    try {
      outputs = await this.session.run(inputs);
    } catch (error) {
      throw new OnnxRuntimeError(`${this.path}: inference failed: ${messageOf(error)}`, { cause: error });
    }
    const result: Record<string, RawTensor> = {};
    for (const [name, tensor] of Object.entries(outputs)) {
      const data = tensor.data;
      if (!(data instanceof Float32Array || data instanceof BigInt64Array || data instanceof Uint8Array)) {
        throw new OnnxRuntimeError(`${this.path}: output "${name}" is ${tensor.type}; expected float32, int64 or uint8`);
      }
      result[name] = { data, dims: tensor.dims.map(Number) };
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** `values` padded with zeros to `length` (the same array when it is long enough). */
function padRows<T extends Float32Array | Int32Array>(values: T, length: number): T {
  if (values.length >= length) return values;
  const padded = new (values.constructor as new (length: number) => T)(length);
  padded.set(values);
  return padded;
}

function tensorInfo(metadata: readonly InferenceSession.ValueMetadata[] | undefined, name: string): TensorInfo | null {
  const value = metadata?.find((m) => m.name === name);
  if (value === undefined || !value.isTensor) return null;
  return { type: value.type, dims: value.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)) };
}

/** The class input's rank, from the runtime's description: int64 [batch] or [batch, 1]. */
function classInputFeed(session: InferenceSession, onnxPath: string, name: string): ClassInputFeed {
  const info = tensorInfo(session.inputMetadata, name);
  // A runtime that does not describe its inputs gets the exporter's layout.
  if (info === null) return { name, rank: 2 };
  const rankOk = info.dims.length === 1 || (info.dims.length === 2 && (info.dims[1] === 1 || info.dims[1] === null));
  if (info.type !== 'int64' || !rankOk) {
    const shown = info.dims.map((d, i) => (d === null ? (i === 0 ? 'batch' : '?') : d)).join(', ');
    throw new OnnxRuntimeError(
      `${onnxPath}: class input "${name}" is ${info.type} [${shown}]; expected int64 class indices of shape [batch] or [batch, 1]`,
    );
  }
  return { name, rank: info.dims.length as 1 | 2 };
}

function pickNames(
  session: InferenceSession,
  onnxPath: string,
  options: CreateSessionOptions,
): { inputName: string; outputName: string; classInput: ClassInputFeed | null } {
  const choose = (wanted: string | undefined, available: readonly string[], kind: 'input' | 'output'): string => {
    const name = wanted ?? available[0];
    if (name === undefined || !available.includes(name)) {
      throw new OnnxRuntimeError(
        `${onnxPath}: the model has no ${kind} named ${JSON.stringify(name)}; its ${kind}s are ${JSON.stringify(available)}`,
      );
    }
    return name;
  };
  const inputName = choose(options.inputName, session.inputNames, 'input');
  const outputName = choose(options.outputName, session.outputNames, 'output');
  if (options.classInputName === undefined) return { inputName, outputName, classInput: null };
  const className = choose(options.classInputName, session.inputNames, 'input');
  if (className === inputName)
    throw new OnnxRuntimeError(
      `${onnxPath}: the class input and the latent input are both ${JSON.stringify(inputName)}; they must be different inputs`,
    );
  return { inputName, outputName, classInput: classInputFeed(session, onnxPath, className) };
}

/**
 * Opens an ONNX generator. device 'auto' tries CUDA then CPU and reports the provider it got in
 * `session.provider` (and why others were skipped in `session.skipped`); an explicit 'cuda' that
 * cannot start throws {@link ProviderUnavailableError} with installation instructions.
 */
export function createSession(source: string | Uint8Array, options: CreateSessionOptions = {}): Promise<GeneratorSession> {
  return GeneratorSession.open(source, options);
}
