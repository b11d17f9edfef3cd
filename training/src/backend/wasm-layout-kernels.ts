// Layout kernels for tfjs' wasm backend where the stock ones are slow on training's shapes:
// - Tile: batch norm's gradient tiles [1,1,1,C] statistics over whole activations; the stock kernel
//   indexes element by element. Here each block is written once and then doubled with copyWithin.
// - Transpose: the stock kernel moves one element at a time (~5 ns each) where neither axis it swaps is
//   innermost-contiguous. Once size-1 axes are dropped and axes that stay together merged, the conv
//   filter gradients' and transposed matmuls' transposes are [n, p, c] → [c, p, n], which the SIMD swap
//   of wasm-simd.ts does 1.1-3 times faster; others (rows of floats changing places, where the stock
//   kernel copies whole rows) stay with the stock kernel.
// - BatchMatMul with a transposed operand: every Dense gradient asks for one, and XNNPACK then falls
//   off its fast path (≈0.6 GFLOP/s for transposeA vs ≈30 plain). The operand is transposed explicitly
//   and the plain matmul does the work, on whichever side of the product makes that cheaper.
// - UnsortedSegmentSum: missing on wasm, and it is the gradient of Gather, so an Embedding layer
//   (class-conditional models) could not train there.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { swapOuterInner } from './wasm-simd.js';
import {
  addWasmKernel,
  overrideWasmKernel,
  reshaped,
  runStockKernel,
  runWasmKernel,
  type Heap,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasm-backend.js';

/** Repeats `values` (of `shape`) `reps[d]` times along each axis into `out`, C order. */
export function tileInto(values: Heap, shape: readonly number[], reps: readonly number[], out: Heap): void {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]!);
  // Sizes of one input / output block below each axis.
  const inBlock = new Array<number>(rank + 1).fill(1);
  const outBlock = new Array<number>(rank + 1).fill(1);
  for (let d = rank - 1; d >= 0; d--) {
    inBlock[d] = inBlock[d + 1]! * shape[d]!;
    outBlock[d] = outBlock[d + 1]! * outShape[d]!;
  }
  const fill = (axis: number, src: number, dst: number): void => {
    if (axis === rank) {
      out[dst] = values[src]!;
      return;
    }
    const inner = outBlock[axis + 1]!;
    if (axis === rank - 1) {
      out.set(values.subarray(src, src + shape[axis]!), dst);
    } else {
      for (let i = 0; i < shape[axis]!; i++) fill(axis + 1, src + i * inBlock[axis + 1]!, dst + i * inner);
    }
    // One copy of this axis is written; double it until reps[axis] copies fill the block.
    const once = shape[axis]! * inner;
    const total = outBlock[axis]!;
    for (let filled = once; filled < total; filled *= 2)
      out.copyWithin(dst + filled, dst, dst + Math.min(filled, total - filled));
  };
  if (out.length > 0) fill(0, 0, 0);
}

function tile({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const reps = (attrs as NamedAttrMap).reps as number[];
  if (reps.length !== x.shape.length)
    throw new Error(`Tile (wasm, Gantry): reps has ${reps.length} entries for a rank-${x.shape.length} tensor`);
  const out = wasm.makeOutput(
    x.shape.map((d, i) => d * reps[i]!),
    x.dtype as 'float32',
  );
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  tileInto(wasm.typedArrayFromHeap(x), x.shape, reps, wasm.typedArrayFromHeap(out));
  return out;
}

/**
 * The same transpose on fewer axes: size-1 axes dropped, and axes that stay adjacent and in order
 * merged. Returns the merged input shape and the permutation of the merged axes.
 */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  // Axes of size > 1, renumbered in input order.
  const sizes = shape.filter((size) => size !== 1);
  const rank = (axis: number): number => shape.slice(0, axis).filter((size) => size !== 1).length;
  const kept = perm.filter((axis) => shape[axis]! !== 1).map(rank);
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1]! + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  // Merged axes in input order, then the output order as indices into them.
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((group) => group.reduce((size, axis) => size * sizes[axis]!, 1)),
    perm: groups.map((group) => byInput.indexOf(group)),
  };
}

function transpose(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const wasm = args.backend as WasmBackend;
  const perm = (args.attrs as NamedAttrMap).perm as number[];
  if (x.dtype === 'float32') {
    const { shape, perm: merged } = simplifyTranspose(x.shape, perm);
    const key = merged.join('');
    const outShape = perm.map((axis) => x.shape[axis]!);
    if (key === '10' || key === '210') {
      const [n, p, c] = key === '10' ? [shape[0]!, 1, shape[1]!] : (shape as [number, number, number]);
      // swapOuterInner takes only multiples of 4: don't allocate an output it would refuse.
      if (n % 4 !== 0 || c % 4 !== 0) return runStockKernel('Transpose', args);
      const out = wasm.makeOutput(outShape, 'float32');
      if (swapOuterInner(wasm, x, out, n, p, c)) return out;
      wasm.disposeData(out.dataId);
    }
  }
  return runStockKernel('Transpose', args);
}

function transposeLastTwo(x: TensorInfo, backend: WasmBackend): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return runWasmKernel('Transpose', { x }, { perm }, backend);
}

/** Relative costs per float, measured here: packing an XNNPACK matmul's right operand (done afresh for every new tensor) vs a SIMD transpose. */
const PACK_COST = 8;
const TRANSPOSE_COST = 1;

/**
 * Whether op(A)·op(B) with a transposed operand is cheaper as (op(B)ᵀ·op(A)ᵀ)ᵀ. XNNPACK packs the right
 * operand into its own layout first (~8 times a transpose's cost a float), so the product is best
 * taken with the smaller operand on the right, counting the transposes each way needs.
 */
export function swapMatMulOperands(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): boolean {
  if (!transposeA && !transposeB) return false;
  const direct = (transposeA ? m * k : 0) * TRANSPOSE_COST + (transposeB ? k * n : 0) * TRANSPOSE_COST + k * n * PACK_COST;
  const swapped =
    (transposeA ? 0 : m * k) * TRANSPOSE_COST +
    (transposeB ? 0 : k * n) * TRANSPOSE_COST +
    m * k * PACK_COST +
    n * m * TRANSPOSE_COST;
  return swapped < direct;
}

function batchMatMul({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  let a = inputs.a as TensorInfo;
  let b = inputs.b as TensorInfo;
  const plain = { ...attrs, transposeA: false, transposeB: false };
  const temporaries: TensorInfo[] = [];
  const [rankA, rankB] = [a.shape.length, b.shape.length];
  const [m, k] = transposeA ? [a.shape[rankA - 1]!, a.shape[rankA - 2]!] : [a.shape[rankA - 2]!, a.shape[rankA - 1]!];
  const n = transposeB ? b.shape[rankB - 2]! : b.shape[rankB - 1]!;
  const unbatched = tf.util.sizeFromShape(a.shape.slice(0, -2)) === 1 && tf.util.sizeFromShape(b.shape.slice(0, -2)) === 1;
  let out: TensorInfo;
  if (unbatched && swapMatMulOperands(m, k, n, transposeA, transposeB)) {
    // Cᵀ = op(B)ᵀ · op(A)ᵀ, where a transposed operand is already laid out as its transpose's transpose.
    if (!transposeB) {
      b = transposeLastTwo(b, wasm);
      temporaries.push(b);
    }
    if (!transposeA) {
      a = transposeLastTwo(a, wasm);
      temporaries.push(a);
    }
    const product = runStockKernel('BatchMatMul', { inputs: { a: b, b: a }, attrs: plain, backend: wasm });
    temporaries.push(product);
    const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
    out = reshaped(transposeLastTwo(product, wasm), outShape);
  } else {
    if (transposeA) {
      a = transposeLastTwo(a, wasm);
      temporaries.push(a);
    }
    if (transposeB) {
      b = transposeLastTwo(b, wasm);
      temporaries.push(b);
    }
    out = runStockKernel('BatchMatMul', { inputs: { a, b }, attrs: plain, backend: wasm });
  }
  for (const t of temporaries) wasm.disposeData(t.dataId);
  return out;
}

/**
 * Identity shares the input's buffer, as the cpu backend does, where the stock wasm kernel copies it:
 * a training step runs it over a hundred times (custom gradients, optimizers). No wasm kernel writes
 * into its inputs, so sharing is safe.
 */
function identity(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') return runStockKernel('Identity', args);
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** A cast to the tensor's own dtype is an identity; the stock kernel copies there too. */
function cast(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  return (args.attrs as NamedAttrMap).dtype === x.dtype ? identity(args) : runStockKernel('Cast', args);
}

/** Adds each row of `values` (rows of `rowSize`) into row `segmentIds[i]` of `out`; ids outside [0, segments) are dropped, as in TensorFlow. */
function segmentSumInto(values: Heap, segmentIds: Int32Array, rowSize: number, segments: number, out: Heap): void {
  out.fill(0);
  for (let i = 0; i < segmentIds.length; i++) {
    const segment = segmentIds[i]!;
    if (segment < 0 || segment >= segments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) out[to + j] += values[from + j]!;
  }
}

function unsortedSegmentSum({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const segments = (attrs as NamedAttrMap).numSegments as number;
  if (ids.dtype !== 'int32') throw new Error(`UnsortedSegmentSum (wasm, Gantry): segmentIds must be int32, got ${ids.dtype}`);
  const rowShape = x.shape.slice(ids.shape.length);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([segments, ...rowShape], x.dtype as 'float32');
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  segmentSumInto(
    wasm.typedArrayFromHeap(x),
    wasm.typedArrayFromHeap(ids) as Int32Array,
    rowSize,
    segments,
    wasm.typedArrayFromHeap(out),
  );
  return out;
}

/** Replaces the wasm Tile kernel, adds UnsortedSegmentSum, and wraps Transpose, BatchMatMul, Identity and Cast (idempotent). */
export function registerWasmLayoutKernels(): void {
  overrideWasmKernel('Tile', tile);
  addWasmKernel('UnsortedSegmentSum', unsortedSegmentSum);
  overrideWasmKernel('BatchMatMul', batchMatMul);
  overrideWasmKernel('Identity', identity);
  overrideWasmKernel('Cast', cast);
  overrideWasmKernel('Transpose', transpose);
}
