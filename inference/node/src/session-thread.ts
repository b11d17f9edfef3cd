// Runs a model's onnxruntime session on a worker thread (see inference-worker.ts): same interface as
// GeneratorSession.runInChunks, so the Generator does not care where its batches are computed.

import { Worker } from 'node:worker_threads';
import { OnnxRuntimeError, type CreateSessionOptions } from './onnx-runtime.js';

export interface ChunkOptions {
  chunkSize: number;
  fixedBatch: number | null;
  classes?: Int32Array;
}

/** What runs a model's batches: a GeneratorSession on this thread, or a WorkerSession. */
export interface ChunkRunner {
  runInChunks(
    latents: Float32Array,
    n: number,
    options: ChunkOptions,
  ): Promise<{ data: Float32Array | Uint8Array; sampleDims: number[] }>;
  release(): Promise<void>;
}

/** @internal the messages between WorkerSession and inference-worker.ts. */
export interface WorkerRequest {
  id: number;
  latents: Float32Array;
  rows: number;
  chunkSize: number;
  fixedBatch: number | null;
  classes: Int32Array | undefined;
}

/** @internal */
export type WorkerReply = { id: number; data: Float32Array | Uint8Array; sampleDims: number[] } | { id: number; error: string };

interface Pending {
  resolve: (value: { data: Float32Array | Uint8Array; sampleDims: number[] }) => void;
  reject: (error: unknown) => void;
}

export class WorkerSession implements ChunkRunner {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly path: string,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined) return;
      this.pending.delete(reply.id);
      if ('error' in reply) waiting.reject(new OnnxRuntimeError(reply.error));
      else waiting.resolve({ data: reply.data, sampleDims: reply.sampleDims });
    });
    const fail = (error: Error): void => {
      this.failure = new OnnxRuntimeError(`${path}: the inference worker stopped: ${error.message}`, { cause: error });
      for (const waiting of this.pending.values()) waiting.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  /** Opens the session on a new worker thread; fails as createSession would. */
  static async open(onnxPath: string, options: CreateSessionOptions): Promise<WorkerSession> {
    const worker = new Worker(new URL('./inference-worker.js', import.meta.url), { workerData: { onnxPath, options } });
    const ready = await new Promise<{ ready: boolean; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!ready.ready) {
      await worker.terminate();
      throw new OnnxRuntimeError(ready.error ?? `${onnxPath}: the inference worker did not start`);
    }
    return new WorkerSession(worker, onnxPath);
  }

  runInChunks(
    latents: Float32Array,
    n: number,
    options: ChunkOptions,
  ): Promise<{ data: Float32Array | Uint8Array; sampleDims: number[] }> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: WorkerRequest = {
        id,
        latents,
        rows: n,
        chunkSize: options.chunkSize,
        fixedBatch: options.fixedBatch,
        classes: options.classes,
      };
      this.worker.postMessage(request);
    });
  }

  async release(): Promise<void> {
    this.worker.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('release');
    // The worker ends once its session is released; a stuck one is stopped.
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
