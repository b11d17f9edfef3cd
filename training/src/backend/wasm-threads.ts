// Starts tfjs' multi-threaded wasm build under Node, where tfjs itself never tries it
// (tensorflow/tfjs#3830). Three things stand in its way, each undone after start-up:
// - the feature flag answers "no" for Node: it is set explicitly;
// - the pthread workers are handed to Emscripten as Blob URLs, which Node's worker_threads cannot load:
//   the worker script is written to a file and its path given instead, and inside the worker the Blob of
//   the main script is mapped to the package's copy of that script;
// - the C++ side caps XNNPACK's thread pool at half the logical cores (one thread on a 2-core machine):
//   the core count it reads is raised for the duration of the start-up so the requested count stands.
// XNNPACK partitions its outputs across threads without splitting any sum, so results are the same as
// with one thread (tests compare them).
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

function workerScript(): string {
  const wasmPackage = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const mainScript = join(wasmPackage, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(join(wasmPackage, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The module exports the script with its "\n" escapes already turned into newlines inside string
  // literals; tfjs re-escapes them the same way before use.
  const source = `URL.createObjectURL = () => ${JSON.stringify(mainScript)};\nURL.revokeObjectURL = () => {};\n${wasmWorkerContents.replace(/\n/g, '\\n')}`;
  const path = join(os.tmpdir(), `gantry-tfjs-wasm-worker-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
  if (!existsSync(path)) writeFileSync(path, source);
  return path;
}

interface EmscriptenThreads {
  PThread?: { unusedWorkers: { unref?: () => void }[]; runningWorkers: { unref?: () => void }[] };
}

/**
 * XNNPACK's pool threads stay parked in their workers for the life of the process; unreferenced, they
 * no longer keep Node alive once the program's own work is done.
 */
export function releaseWasmThreadsOnExit(backend: unknown): void {
  const module = (backend as { wasm?: EmscriptenThreads }).wasm;
  for (const worker of [...(module?.PThread?.unusedWorkers ?? []), ...(module?.PThread?.runningWorkers ?? [])]) worker.unref?.();
}

/** The most threads the threaded wasm build is started with. */
export const MAX_WASM_THREADS = 64;

/**
 * Prepares the next `tf.setBackend('wasm')` to start the threaded build with `threads` threads; call
 * the returned function once it has started (or failed).
 */
export function prepareWasmThreads(threads: number): () => void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new RangeError(`wasm threads must be an integer in [1, ${MAX_WASM_THREADS}], got ${String(threads)}`);
  }
  if (threads === 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return () => {};
  }
  const worker = workerScript();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = (object: Blob | MediaSource): string =>
    object instanceof Blob && object.type === 'application/javascript' ? worker : createObjectURL(object as Blob);
  const realCores = cpus();
  os.cpus = () => Array.from({ length: Math.max(realCores.length, 2 * threads) }, (_, i) => realCores[i % realCores.length]!);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  return () => {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  };
}
