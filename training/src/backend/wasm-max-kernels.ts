// Max over a middle axis, and its gradient, on wasm: what a maxout layer (Dense → reshape [k, width] →
// max over the k pieces, architectures/mlp.ts) costs. The stock Max kernel transposes the pieces
// innermost first; tfjs differentiates max as dy · cast(x == max(x)) with the max broadcast over the
// pieces, three broadcasting kernels (Equal alone was half of a PacGAN-size training step). Here both
// are one SIMD pass each (wasm-simd.ts), bit for bit tfjs' results; layouts the SIMD loop does not
// take (widths not a multiple of 4) go to the stock kernel and to a plain loop.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { maxOverPieces, maxOverPiecesBackprop } from './wasm-simd.js';
import {
  floatHeap,
  addWasmKernel,
  overrideWasmKernel,
  runStockKernel,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasm-backend.js';

export const MAX_BACKPROP = 'GantryMaxBackprop';

/** A tensor seen as [outer, k, inner] with the reduced axes merged into k. */
export interface PiecesLayout {
  outer: number;
  k: number;
  inner: number;
}

/** The [outer, k, inner] view of `shape` reduced over `axes`; undefined unless the axes are adjacent. */
export function piecesLayout(shape: readonly number[], axes: readonly number[]): PiecesLayout | undefined {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((axis, i) => i > 0 && axis !== sorted[i - 1]! + 1)) return undefined;
  const [first, last] = [sorted[0]!, sorted[sorted.length - 1]!];
  const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
  return { outer: size(shape.slice(0, first)), k: size(shape.slice(first, last + 1)), inner: size(shape.slice(last + 1)) };
}

function max(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const { reductionIndices, keepDims } = args.attrs as NamedAttrMap as { reductionIndices: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(reductionIndices, x.shape);
  const layout = piecesLayout(x.shape, axes);
  // Innermost reductions need no transpose: the stock kernel is a plain loop there.
  if (
    x.dtype !== 'float32' ||
    layout === undefined ||
    layout.inner === 1 ||
    layout.inner % 4 !== 0 ||
    layout.k === 0 ||
    layout.outer === 0
  ) {
    return runStockKernel('Max', args);
  }
  const wasm = args.backend as WasmBackend;
  const [reduced] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = wasm.makeOutput(keepDims ? tf.backend_util.expandShapeToKeepDim(reduced, axes) : reduced, 'float32');
  maxOverPieces(wasm, x, out, layout.outer, layout.k, layout.inner);
  return out;
}

function maxBackprop({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const { dy, x, y } = inputs as { dy: TensorInfo; x: TensorInfo; y: TensorInfo };
  const { outer, k, inner } = piecesLayout(x.shape, (attrs as NamedAttrMap).axes as number[])!;
  const dx = wasm.makeOutput(x.shape, 'float32');
  if (!maxOverPiecesBackprop(wasm, x, y, dy, dx, outer, k, inner)) {
    // Views are taken after the allocation: growing the wasm memory detaches older ones.
    const [xs, ys, dys, dxs] = [x, y, dy, dx].map((t) => floatHeap(wasm, t)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    for (let o = 0, e = 0; o < outer; o++) {
      for (let p = 0; p < k; p++) {
        for (let j = 0, c = o * inner; j < inner; j++, e++, c++) dxs[e] = dys[c]! * (xs[e] === ys[c] ? 1 : 0);
      }
    }
  }
  return dx;
}

/** The shape of x reduced over axes with keepDims. */
function keptShape(shape: number[], axes: number[]): number[] {
  return tf.backend_util.expandShapeToKeepDim(tf.backend_util.computeOutAndReduceShapes(shape, axes)[0], axes);
}

/** 1 where x equals its max y (broadcast over the reduced axes), else 0. */
function piecesMask(x: tf.Tensor, y: tf.Tensor, axes: number[], dtype: tf.DataType): tf.Tensor {
  return tf.cast(tf.equal(x, tf.reshape(y, keptShape(x.shape, axes))), dtype);
}

/** dy · (x == max(x)): tfjs' gradient of max, on wasm as one kernel. */
function maxGradient(dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, axes: number[]): tf.Tensor {
  if (tf.getBackend() === 'wasm' && [dy, x, y].every((t) => t.dtype === 'float32') && piecesLayout(x.shape, axes) !== undefined) {
    return tf.engine().runKernel(MAX_BACKPROP, { dy, x, y }, { axes } as unknown as NamedAttrMap) as tf.Tensor;
  }
  return tf.mul(tf.reshape(dy, keptShape(x.shape, axes)), piecesMask(x, y, axes, dy.dtype));
}

/** Registers the wasm kernels and a Max gradient that uses them there (exact to every order). */
export function registerWasmMaxKernels(): void {
  overrideWasmKernel('Max', max);
  addWasmKernel(MAX_BACKPROP, maxBackprop);
  tf.registerGradient({
    kernelName: 'Max',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [tf.Tensor, tf.Tensor];
      const axes = tf.util.parseAxisParam((attrs as { reductionIndices: number | number[] }).reductionIndices, x.shape);
      return { x: () => maxGradient(dy as tf.Tensor, x, y, axes) };
    },
  });
  // The backward pass is linear in dy (its gradient sums the upstream over the pieces equal to the
  // max) and piecewise constant in x and y.
  tf.registerGradient({
    kernelName: MAX_BACKPROP,
    inputsToSave: ['dy', 'x', 'y'],
    gradFunc: (upstream, saved, attrs) => {
      const [dy, x, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const axes = (attrs as { axes: number[] }).axes;
      return {
        dy: () => tf.reshape(tf.sum(tf.mul(upstream as tf.Tensor, piecesMask(x, y, axes, 'float32')), axes), dy.shape),
        x: () => tf.zerosLike(x),
        y: () => tf.zerosLike(y),
      };
    },
  });
}
