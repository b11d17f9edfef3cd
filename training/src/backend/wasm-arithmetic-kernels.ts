// Elementwise arithmetic (Add, Sub, Multiply, RealDiv, Square, Relu) on small float32 tensors as
// single-threaded SIMD loops (wasm-simd.ts). The stock kernels are XNNPACK's, which hands even a few
// thousand values to its thread pool; on a machine whose other cores are busy each such call then waits
// milliseconds for a worker to be scheduled. An MLP's training step (PacGAN's: batch norm over
// [200, 400], Adam on 400 × 400 weights) makes a few hundred of them: with two threads on a loaded
// 2-core machine they took a third of the step. Larger tensors, where the threads pay, stay with XNNPACK.
// The loops are XNNPACK's own float32 operations, so the results are the same bits.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { broadcastRunCount, forEachBroadcastRun } from './broadcast-runs.js';
import { simdElementwise, SINGLE_THREAD_LIMIT, type SimdBinaryOp, type SimdUnaryOp } from './wasm-simd.js';
import { overrideWasmKernel, runStockKernel, type WasmBackend, type WasmKernelArgs } from './wasm-backend.js';

/**
 * Each run is a call from JavaScript into wasm: a broadcast with short inner runs (a bias of 3 channels
 * over 32×32 pixels: 65 536 runs of 3) is left to XNNPACK's one pass.
 */
const MAX_RUNS = 4096;

const binaryKernels: [string, SimdBinaryOp][] = [
  ['Add', 'add'],
  ['Sub', 'sub'],
  ['Multiply', 'mul'],
  ['RealDiv', 'div'],
];
const unaryKernels: [string, SimdUnaryOp][] = [
  ['Square', 'square'],
  ['Relu', 'relu'],
];

function binaryKernel(name: string, op: SimdBinaryOp): (args: WasmKernelArgs) => TensorInfo {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const wasm = args.backend as WasmBackend;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    const small = size > 0 && size <= SINGLE_THREAD_LIMIT && broadcastRunCount(a.shape, b.shape, outShape) <= MAX_RUNS;
    const simd = a.dtype === 'float32' && b.dtype === 'float32' && small ? simdElementwise(wasm) : undefined;
    if (simd === undefined) return runStockKernel(name, args);
    const out = wasm.makeOutput(outShape, 'float32');
    forEachBroadcastRun(a.shape, b.shape, outShape, (i, j, o, n, sa, sb) => simd.binaryRun(op, a, i, sa, b, j, sb, out, o, n));
    return out;
  };
}

function unaryKernel(name: string, op: SimdUnaryOp): (args: WasmKernelArgs) => TensorInfo {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const wasm = args.backend as WasmBackend;
    const size = tf.util.sizeFromShape(x.shape);
    const simd = x.dtype === 'float32' && size > 0 && size <= SINGLE_THREAD_LIMIT ? simdElementwise(wasm) : undefined;
    if (simd === undefined) return runStockKernel(name, args);
    const out = wasm.makeOutput(x.shape, 'float32');
    simd.unary(op, x, out, size);
    return out;
  };
}

const kernels = new Map([
  ...binaryKernels.map(([name, op]) => [name, binaryKernel(name, op)] as const),
  ...unaryKernels.map(([name, op]) => [name, unaryKernel(name, op)] as const),
]);

/** Replaces the wasm arithmetic kernels by ones that run small tensors on the calling thread (idempotent). */
export function registerWasmArithmeticKernels(): void {
  for (const [name, kernel] of kernels) overrideWasmKernel(name, kernel);
}
