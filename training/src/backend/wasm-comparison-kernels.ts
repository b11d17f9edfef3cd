// Comparison kernels (Equal, Greater, …) on wasm for broadcasting shapes. The stock kernels recompute
// every element's multi-index from its flat offset when the inputs' shapes differ (~280 ns an element
// here), and a maxout layer's gradient (tf.max's: dy · (x == max(x)) with max(x) broadcast over the
// pieces) asks for exactly that: it took half of a PacGAN-size training step. Here the shapes are
// reduced to runs of the innermost axis that the two inputs walk with fixed strides, one loop per run.
// Same-shape comparisons stay with the stock kernels, which are plain loops.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { overrideWasmKernel, runStockKernel, type WasmBackend, type WasmKernelArgs } from './wasm-backend.js';

export const COMPARISON_KERNELS = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'] as const;
type Comparison = (typeof COMPARISON_KERNELS)[number];

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * How two shapes broadcast to `outShape`, as few axes as possible: size-1 output axes dropped and
 * neighbours merged where both inputs either span both axes or repeat over both. Strides are in
 * elements, 0 along the axes an input repeats over.
 */
export function broadcastAxes(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): { sizes: number[]; aStrides: number[]; bStrides: number[] } {
  const rank = outShape.length;
  const padded = (shape: readonly number[]): number[] => [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const [a, b] = [padded(aShape), padded(bShape)];
  const sizes: number[] = [];
  const spansA: boolean[] = [];
  const spansB: boolean[] = [];
  for (let d = 0; d < rank; d++) {
    const size = outShape[d]!;
    if (size === 1) continue;
    const [inA, inB] = [a[d] === size, b[d] === size];
    const last = sizes.length - 1;
    if (last >= 0 && spansA[last] === inA && spansB[last] === inB) {
      sizes[last] *= size;
    } else {
      sizes.push(size);
      spansA.push(inA);
      spansB.push(inB);
    }
  }
  const strides = (spans: boolean[]): number[] => {
    const out = new Array<number>(sizes.length).fill(0);
    for (let d = sizes.length - 1, step = 1; d >= 0; d--) {
      if (spans[d]) {
        out[d] = step;
        step *= sizes[d]!;
      }
    }
    return out;
  };
  return { sizes, aStrides: strides(spansA), bStrides: strides(spansB) };
}

/** out[o .. o+n) = compare(a[i + k·sa], b[j + k·sb]) as 0/1, one loop per comparison so each stays monomorphic. */
function compareRun(op: Comparison, a: Heap, b: Heap, out: Uint8Array, i: number, j: number, o: number, n: number, sa: number, sb: number): void {
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
export function compareBroadcast(op: Comparison, a: Heap, aShape: readonly number[], b: Heap, bShape: readonly number[], out: Uint8Array, outShape: readonly number[]): void {
  if (out.length === 0) return;
  const { sizes, aStrides, bStrides } = broadcastAxes(aShape, bShape, outShape);
  if (sizes.length === 0) {
    compareRun(op, a, b, out, 0, 0, 0, 1, 0, 0);
    return;
  }
  const inner = sizes.length - 1;
  const n = sizes[inner]!;
  // An odometer over the outer axes, carrying each input's offset along.
  const index = new Array<number>(inner).fill(0);
  let [i, j] = [0, 0];
  for (let o = 0; o < out.length; o += n) {
    compareRun(op, a, b, out, i, j, o, n, aStrides[inner]!, bStrides[inner]!);
    for (let d = inner - 1; d >= 0; d--) {
      i += aStrides[d]!;
      j += bStrides[d]!;
      if (++index[d]! < sizes[d]!) break;
      index[d] = 0;
      i -= aStrides[d]! * sizes[d]!;
      j -= bStrides[d]! * sizes[d]!;
    }
  }
}

function comparisonKernel(op: Comparison): (args: WasmKernelArgs) => TensorInfo {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (tf.util.arraysEqual(a.shape, b.shape) || a.dtype !== b.dtype) return runStockKernel(op, args);
    const wasm = args.backend as WasmBackend;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = wasm.makeOutput(outShape, 'bool');
    // Views are taken after the allocation: growing the wasm memory detaches older ones.
    compareBroadcast(op, wasm.typedArrayFromHeap(a), a.shape, wasm.typedArrayFromHeap(b), b.shape, wasm.typedArrayFromHeap(out) as Uint8Array, outShape);
    return out;
  };
}

const kernels = new Map(COMPARISON_KERNELS.map((op) => [op, comparisonKernel(op)]));

/** Replaces the wasm comparison kernels by ones fast on broadcasting shapes (idempotent). */
export function registerWasmComparisonKernels(): void {
  for (const [op, kernel] of kernels) overrideWasmKernel(op, kernel);
}
