// Sum and Mean over leading axes on wasm: bias gradients and batch-norm statistics reduce an NHWC
// activation over [0, 1, 2] to one value per channel. The stock kernels only reduce innermost axes, so
// they first transpose the whole activation (the transpose costs ten times the sum). Here the data is
// read as it lies. Up to SINGLE_THREAD_LIMIT values with a multiple of 4 channels (an MLP's activations),
// one single-threaded SIMD pass sums the rows in float64 (wasm-simd.ts): 1.5-4 times faster there than
// the pooling below, and it never waits on the thread pool, which costs milliseconds a call on a busy
// machine. Otherwise XNNPACK's average pooling (multi-threaded; faster on a convolutional network's
// larger activations) sees the rows as an A × B image of one-pixel-wide columns, pools over B, and the
// A partial means are added up in float64. Other reductions go to the stock kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import {
  floatHeap,
  overrideWasmKernel,
  reshaped,
  runStockKernel,
  runWasmKernel,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasm-backend.js';
import { SINGLE_THREAD_LIMIT, sumOverRows } from './wasm-simd.js';

/** How many leading axes `axis` names, if it names exactly axes 0..k-1 with k below the rank; else 0. */
function leadingAxes(axis: number | number[], shape: readonly number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape as number[]))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/** The largest divisor of n not above √n: splits n rows into a near-square A × B. */
function squareishDivisor(n: number): number {
  for (let a = Math.floor(Math.sqrt(n)); a > 1; a--) if (n % a === 0) return a;
  return 1;
}

/** out[c] = Σ_r x[r, c] / divisor, for x (a float32 tensor on the heap) seen as [rows, channels]. */
function sumRows(x: TensorInfo, rows: number, channels: number, divisor: number, out: TensorInfo, wasm: WasmBackend): void {
  const a = squareishDivisor(rows);
  const b = rows / a;
  // XNNPACK pools at least two values; one row per part needs no pooling.
  const pooled =
    b > 1
      ? runWasmKernel(
          'AvgPool',
          { x: reshaped(x, [a, b, 1, channels]) },
          { filterSize: [b, 1], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined } as unknown as NamedAttrMap,
          wasm,
        )
      : x;
  const partial = floatHeap(wasm, reshaped(pooled, [a * channels]));
  const totals = new Float64Array(channels);
  for (let r = 0, base = 0; r < a; r++, base += channels) {
    for (let c = 0; c < channels; c++) totals[c]! += partial[base + c]!;
  }
  const result = floatHeap(wasm, out);
  for (let c = 0; c < channels; c++) result[c] = (totals[c]! * b) / divisor;
  if (pooled !== x) wasm.disposeData(pooled.dataId);
}

function reduceLeading(name: 'Sum' | 'Mean', args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const { axis, keepDims } = args.attrs as NamedAttrMap as { axis: number | number[]; keepDims: boolean };
  const wasm = args.backend as WasmBackend;
  const count = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : 0;
  if (count === 0) {
    const out = runStockKernel(name, args);
    // The stock kernels leave the output unwritten for an empty input; the cpu backend gives zeros.
    if (tf.util.sizeFromShape(x.shape) === 0) wasm.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const rows = tf.util.sizeFromShape(x.shape.slice(0, count));
  const kept = x.shape.slice(count);
  const out = wasm.makeOutput(keepDims ? [...new Array<number>(count).fill(1), ...kept] : kept, 'float32');
  const channels = tf.util.sizeFromShape(kept);
  const divisor = name === 'Mean' ? rows : 1;
  if (rows === 0) floatHeap(wasm, out).fill(0);
  else if (channels > 0 && !(rows * channels <= SINGLE_THREAD_LIMIT && sumOverRows(wasm, x, out, rows, channels, divisor)))
    sumRows(x, rows, channels, divisor, out, wasm);
  return out;
}

function sumLeading(args: WasmKernelArgs): TensorInfo {
  return reduceLeading('Sum', args);
}

function meanLeading(args: WasmKernelArgs): TensorInfo {
  return reduceLeading('Mean', args);
}

/** Replaces the wasm Sum and Mean kernels by ones that reduce leading axes in place (idempotent). */
export function registerWasmReductionKernels(): void {
  overrideWasmKernel('Sum', sumLeading);
  overrideWasmKernel('Mean', meanLeading);
}
