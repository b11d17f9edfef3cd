// Comparison kernels (Equal, Greater, …) on wasm for broadcasting shapes. The stock kernels recompute
// every element's multi-index from its flat offset when the inputs' shapes differ (~280 ns an element
// here), and a maxout layer's gradient (tf.max's: dy · (x == max(x)) with max(x) broadcast over the
// pieces) asks for exactly that: it took half of a PacGAN-size training step. Here the output is
// walked in runs along which both inputs have fixed strides (broadcast-runs.ts), one loop per run.
// Same-shape comparisons stay with the stock kernels, which are plain loops.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { overrideWasmKernel, runStockKernel, type Heap, type WasmBackend, type WasmKernelArgs } from './wasm-backend.js';
import { forEachBroadcastRun } from './broadcast-runs.js';

export const COMPARISON_KERNELS = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'] as const;
type Comparison = (typeof COMPARISON_KERNELS)[number];

/** out[o .. o+n) = compare(a[i + k·sa], b[j + k·sb]) as 0/1, one loop per comparison so each stays monomorphic. */
function compareRun(
  op: Comparison,
  a: Heap,
  b: Heap,
  out: Uint8Array,
  i: number,
  j: number,
  o: number,
  n: number,
  sa: number,
  sb: number,
): void {
  const end = o + n;
  switch (op) {
    case 'Equal':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! === b[j]! ? 1 : 0;
      return;
    case 'NotEqual':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! !== b[j]! ? 1 : 0;
      return;
    case 'Greater':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! > b[j]! ? 1 : 0;
      return;
    case 'GreaterEqual':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! >= b[j]! ? 1 : 0;
      return;
    case 'Less':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! < b[j]! ? 1 : 0;
      return;
    case 'LessEqual':
      for (; o < end; o++, i += sa, j += sb) out[o] = a[i]! <= b[j]! ? 1 : 0;
      return;
  }
}

/** Compares a and b (broadcast to `outShape`) into out, C order. */
export function compareBroadcast(
  op: Comparison,
  a: Heap,
  aShape: readonly number[],
  b: Heap,
  bShape: readonly number[],
  out: Uint8Array,
  outShape: readonly number[],
): void {
  forEachBroadcastRun(aShape, bShape, outShape, (i, j, o, n, sa, sb) => compareRun(op, a, b, out, i, j, o, n, sa, sb));
}

function comparisonKernel(op: Comparison): (args: WasmKernelArgs) => TensorInfo {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (tf.util.arraysEqual(a.shape, b.shape) || a.dtype !== b.dtype) return runStockKernel(op, args);
    const wasm = args.backend as WasmBackend;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = wasm.makeOutput(outShape, 'bool');
    // Views are taken after the allocation: growing the wasm memory detaches older ones.
    compareBroadcast(
      op,
      wasm.typedArrayFromHeap(a),
      a.shape,
      wasm.typedArrayFromHeap(b),
      b.shape,
      wasm.typedArrayFromHeap(out) as Uint8Array,
      outShape,
    );
    return out;
  };
}

const kernels = new Map(COMPARISON_KERNELS.map((op) => [op, comparisonKernel(op)]));

/** Replaces the wasm comparison kernels by ones fast on broadcasting shapes (idempotent). */
export function registerWasmComparisonKernels(): void {
  for (const [op, kernel] of kernels) overrideWasmKernel(op, kernel);
}
