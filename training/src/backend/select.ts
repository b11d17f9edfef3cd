// Chooses the TensorFlow.js backend for training. The native TensorFlow bindings are optional
// packages a user installs (their install downloads libtensorflow), so they are imported by a
// computed name: the project builds and tests without them.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import { registerSecondOrderGradients } from './second-order-gradients.js';
import { registerLazyFusedGradients } from './lazy-fused-gradients.js';
import { registerWasmConvKernels } from './wasm-conv-kernels.js';
import { registerWasmLayoutKernels } from './wasm-layout-kernels.js';
import { registerWasmActivationKernels } from './wasm-activation-kernels.js';
import { registerWasmReductionKernels } from './wasm-reduction-kernels.js';
import { registerWasmNormalizationKernels } from './wasm-normalization-kernels.js';
import { registerWasmComparisonKernels } from './wasm-comparison-kernels.js';
import { registerWasmMaxKernels } from './wasm-max-kernels.js';
import { registerWasmArithmeticKernels } from './wasm-arithmetic-kernels.js';
import { MAX_WASM_THREADS, prepareWasmThreads, releaseWasmThreadsOnExit } from './wasm-threads.js';

export { MAX_WASM_THREADS };

export const backendChoices = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

export interface SelectedBackend {
  /** The tfjs backend name now active: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** Human-readable account of the choice, printed by the CLI. */
  detail: string;
}

const nativePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryNative(): Promise<{ pkg: string } | { errors: string[] }> {
  const errors: string[] = [];
  for (const pkg of nativePackages) {
    try {
      await import(pkg as string);
      if (await tf.setBackend('tensorflow')) return { pkg };
      errors.push(`${pkg}: loaded but the 'tensorflow' backend did not initialise`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      errors.push(code === 'ERR_MODULE_NOT_FOUND' ? `${pkg}: not installed` : `${pkg}: ${(error as Error).message}`);
    }
  }
  return { errors };
}

export interface BackendOptions {
  /**
   * Threads for the wasm backend's matmuls and convolutions; default: GANTRY_WASM_THREADS, else one
   * per core. Fixed for the process once the wasm backend has started.
   */
  wasmThreads?: number;
}

function defaultWasmThreads(): number {
  const fromEnv = process.env.GANTRY_WASM_THREADS;
  // Hosts with more cores than the threaded build takes still start it, with the most it takes.
  if (fromEnv === undefined || fromEnv === '') return Math.min(MAX_WASM_THREADS, os.cpus().length);
  const threads = Number(fromEnv);
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new RangeError(`GANTRY_WASM_THREADS must be an integer in [1, ${MAX_WASM_THREADS}], got ${JSON.stringify(fromEnv)}`);
  }
  return threads;
}

let wasmStarted = false;

async function activate(name: 'wasm' | 'cpu', options: BackendOptions): Promise<boolean> {
  // The wasm module starts once per process; later calls only switch back to it.
  const restore = name === 'wasm' && !wasmStarted ? prepareWasmThreads(options.wasmThreads ?? defaultWasmThreads()) : () => {};
  try {
    const ok = await tf.setBackend(name);
    if (name === 'wasm' && ok && !wasmStarted) {
      wasmStarted = true;
      releaseWasmThreadsOnExit(tf.backend());
    }
    return ok;
  } catch {
    return false;
  } finally {
    restore();
  }
}

function describeBackend(name: string): string {
  return name === 'wasm' ? `wasm (${getThreadsCount()} thread${getThreadsCount() === 1 ? '' : 's'})` : name;
}

/**
 * Activates a backend: `auto` prefers tfjs-node-gpu, then tfjs-node, then wasm, then cpu.
 * Also registers what training needs on every backend (gradients exact to second order) and the
 * convolution gradient kernels the wasm backend lacks.
 */
export async function selectBackend(choice: BackendChoice, options: BackendOptions = {}): Promise<SelectedBackend> {
  if (!backendChoices.includes(choice)) {
    throw new RangeError(`backend must be one of ${backendChoices.join(', ')}; got ${JSON.stringify(choice)}`);
  }
  registerSecondOrderGradients();
  registerLazyFusedGradients();
  registerWasmConvKernels();
  registerWasmLayoutKernels();
  registerWasmActivationKernels();
  registerWasmReductionKernels();
  registerWasmNormalizationKernels();
  registerWasmComparisonKernels();
  registerWasmMaxKernels();
  registerWasmArithmeticKernels();
  const notes: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    const native = await tryNative();
    if ('pkg' in native) return { name: 'tensorflow', detail: `tensorflow (native, from ${native.pkg})` };
    if (choice === 'tensorflow') {
      throw new Error(
        `backend "tensorflow" needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node installed: ` +
          `${native.errors.join('; ')}. Install one with "npm install @tensorflow/tfjs-node" (needs internet access ` +
          `to download libtensorflow), or use --backend wasm.`,
      );
    }
    notes.push(...native.errors);
  }
  for (const name of choice === 'cpu' ? (['cpu'] as const) : (['wasm', 'cpu'] as const)) {
    if (choice !== 'auto' && choice !== name) continue;
    if (await activate(name, options)) {
      const why = choice === 'auto' ? ` (auto: ${notes.join('; ')})` : '';
      return { name, detail: `${describeBackend(name)}${why}` };
    }
    notes.push(`${name}: failed to initialise`);
  }
  throw new Error(`no TensorFlow.js backend could be started for "${choice}": ${notes.join('; ')}`);
}
