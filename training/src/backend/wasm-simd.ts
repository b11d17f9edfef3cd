// A few loops as WebAssembly SIMD, run on tfjs-wasm's own memory, where tfjs' kernels are scalar or
// take detours and JavaScript loops over the heap are no faster (~4 ns an element here):
// - swap: tfjs' wasm Transpose is a scalar loop (~5 ns an element), while the convolution gradients and
//   transposed matmuls move millions of floats a step between layouts. Here a 4 × 4 block is
//   transposed in registers by eight lane shuffles.
// - maxPieces / maxPiecesBackprop: a max over a middle axis (a maxout layer's max over its pieces) and
//   its gradient, which tfjs computes by a transpose, and by a broadcasting Equal, Cast and Multiply.
// - sumColumns: sums over leading axes (bias gradients, batch-norm statistics), accumulated in float64
//   row by row as tfjs' cpu backend does, where the stock kernels transpose first.
// - add/sub/mul/div runs, square, relu: elementwise arithmetic as XNNPACK does it, but on the calling
//   thread: XNNPACK hands even a few thousand values to its thread pool, which costs milliseconds a
//   call when the machine's other cores are busy.
// The module is a few hundred bytes, assembled instruction by instruction (wasm-assembler.ts),
// single-threaded (so results never depend on the thread count), and run on the backend's memory.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-backend.js';
import {
  add,
  andBits,
  byteOffset,
  constant,
  f32,
  f32x4,
  f64FromU32,
  f64x2,
  geU,
  get,
  heapInstance,
  I32,
  i32x4,
  load,
  loop,
  mul,
  set,
  shl,
  shuffle,
  store,
  tee,
  v128,
  V128,
  type Bytes,
  type WasmFunction,
} from './wasm-assembler.js';

/**
 * swap(src, dst, n, p, c): dst[c][p][n] = src[n][p][c] for float32 arrays at byte offsets src and dst;
 * n and c multiples of 4.
 */
function swapBody(): Body {
  const [src, dst, n, p, c] = [0, 1, 2, 3, 4];
  const [pi, ni, ci, s, d, srcStride, dstStride] = [5, 6, 7, 8, 9, 10, 11];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = [12, 13, 14, 15, 16, 17, 18, 19];
  const offset = (base: number, a: number, b: number, bSize: number, cc: number, cSize: number): Bytes => [
    // base + (((a · bSize + b) · cSize + cc) << 2)
    ...get(base),
    ...get(a),
    ...get(bSize),
    ...mul,
    ...get(b),
    ...add,
    ...get(cSize),
    ...mul,
    ...get(cc),
    ...add,
    ...constant(2),
    ...shl,
    ...add,
  ];
  const loadRow = (k: number, into: number): Bytes => [
    ...get(s),
    ...get(srcStride),
    ...constant(k),
    ...mul,
    ...add,
    ...load,
    ...set(into),
  ];
  const pair = (a: number, b: number, lanes: number[], into: number): Bytes => [
    ...get(a),
    ...get(b),
    ...shuffle(lanes),
    ...set(into),
  ];
  const storeRow = (k: number, a: number, b: number, lanes: number[]): Bytes => [
    ...get(d),
    ...get(dstStride),
    ...constant(k),
    ...mul,
    ...add,
    ...get(a),
    ...get(b),
    ...shuffle(lanes),
    ...store,
  ];
  const block: Bytes = [
    ...offset(src, ni, pi, p, ci, c),
    ...set(s),
    ...loadRow(0, r0),
    ...loadRow(1, r1),
    ...loadRow(2, r2),
    ...loadRow(3, r3),
    ...pair(r0, r1, [0, 4, 1, 5], t0),
    ...pair(r0, r1, [2, 6, 3, 7], t1),
    ...pair(r2, r3, [0, 4, 1, 5], t2),
    ...pair(r2, r3, [2, 6, 3, 7], t3),
    ...offset(dst, ci, pi, p, ni, n),
    ...set(d),
    ...storeRow(0, t0, t2, [0, 1, 4, 5]),
    ...storeRow(1, t0, t2, [2, 3, 6, 7]),
    ...storeRow(2, t1, t3, [0, 1, 4, 5]),
    ...storeRow(3, t1, t3, [2, 3, 6, 7]),
  ];
  const code: Bytes = [
    ...get(p),
    ...get(c),
    ...mul,
    ...constant(4),
    ...mul,
    ...set(srcStride),
    ...get(p),
    ...get(n),
    ...mul,
    ...constant(4),
    ...mul,
    ...set(dstStride),
    ...loop(pi, p, 1, loop(ni, n, 4, loop(ci, c, 4, block))),
  ];
  return functionBody(7, 8, code);
}

type Body = Pick<WasmFunction, 'locals' | 'code'>;

/** A function's i32 and v128 locals (after its parameters) and its instructions. */
function functionBody(i32Locals: number, v128Locals: number, code: Bytes): Body {
  return {
    locals: [
      [i32Locals, I32],
      [v128Locals, V128],
    ],
    code,
  };
}

/**
 * maxPieces(src, dst, outer, k, inner): dst[o][j] = max over p of src[o][p][j], float32, inner a
 * multiple of 4. As tfjs' cpu backend: pieces in order, a NaN wins, and a later piece replaces the
 * running max only when strictly greater (so max(-0, 0) is -0).
 */
function maxPiecesBody(): Body {
  const [src, dst, outer, k, inner] = [0, 1, 2, 3, 4];
  const [o, p, j, rowBytes, base, at] = [5, 6, 7, 8, 9, 10];
  const [best, value] = [11, 12];
  const piece: Bytes = [
    ...get(base),
    ...get(p),
    ...get(rowBytes),
    ...mul,
    ...add,
    ...load,
    ...tee(value),
    ...get(best),
    ...get(value),
    ...get(best),
    ...f32x4.gt,
    ...get(value),
    ...get(value),
    ...f32x4.ne,
    ...v128.or,
    ...v128.bitselect,
    ...set(best),
  ];
  const column: Bytes = [
    // base: src[o][0][j]; at: dst[o][j]
    ...get(src),
    ...get(o),
    ...get(k),
    ...mul,
    ...get(inner),
    ...mul,
    ...get(j),
    ...add,
    ...constant(2),
    ...shl,
    ...add,
    ...set(base),
    ...get(base),
    ...load,
    ...set(best),
    ...loop(p, k, 1, piece, 1),
    ...get(dst),
    ...get(o),
    ...get(inner),
    ...mul,
    ...get(j),
    ...add,
    ...constant(2),
    ...shl,
    ...add,
    ...set(at),
    ...get(at),
    ...get(best),
    ...store,
  ];
  const code: Bytes = [...get(inner), ...constant(2), ...shl, ...set(rowBytes), ...loop(o, outer, 1, loop(j, inner, 4, column))];
  return functionBody(6, 2, code);
}

/**
 * maxPiecesBackprop(x, y, dy, dx, outer, k, inner): dx[o][p][j] = dy[o][j] · (x[o][p][j] == y[o][j] ? 1 : 0),
 * float32, inner a multiple of 4: tfjs' gradient of max, bit for bit (every piece equal to the max
 * gets the whole dy; dy · 0 keeps a NaN or infinite dy's NaN).
 */
function maxPiecesBackpropBody(): Body {
  const [x, y, dy, dx, outer, k, inner] = [0, 1, 2, 3, 4, 5, 6];
  const [o, p, j, column, element] = [7, 8, 9, 10, 11];
  const [ones] = [12];
  const address = (base: number, index: number): Bytes => [...get(base), ...get(index), ...constant(2), ...shl, ...add];
  const lanes: Bytes = [
    // column: (o·inner + j); element: ((o·k + p)·inner + j)
    ...get(o),
    ...get(inner),
    ...mul,
    ...get(j),
    ...add,
    ...set(column),
    ...get(o),
    ...get(k),
    ...mul,
    ...get(p),
    ...add,
    ...get(inner),
    ...mul,
    ...get(j),
    ...add,
    ...set(element),
    ...address(dx, element),
    ...address(dy, column),
    ...load,
    ...address(x, element),
    ...load,
    ...address(y, column),
    ...load,
    ...f32x4.eq,
    ...get(ones),
    ...v128.and,
    ...f32x4.mul,
    ...store,
  ];
  const code: Bytes = [...f32.one, ...f32x4.splat, ...set(ones), ...loop(o, outer, 1, loop(p, k, 1, loop(j, inner, 4, lanes)))];
  return functionBody(5, 1, code);
}

/**
 * sumColumns(src, dst, scratch, rows, cols, divisor): dst[j] = (Σ_r src[r][j]) / divisor, float32 in and
 * out, summed in float64 in row order into `scratch` (8·cols bytes); cols a multiple of 4.
 */
function sumColumnsBody(): Body {
  const [src, dst, scratch, rows, cols, divisor] = [0, 1, 2, 3, 4, 5];
  const [r, j, row, at] = [6, 7, 8, 9];
  const [value, scale] = [10, 11];
  // at: scratch + 8j, the float64 sums of columns j, j+1 (low) and j+2, j+3 (high, 16 bytes on).
  const sumAt = (column: number): Bytes => [...get(scratch), ...get(column), ...constant(3), ...shl, ...add, ...set(at)];
  const accumulate = (high: boolean): Bytes => [
    ...get(at),
    ...(high ? [...constant(16), ...add] : []),
    ...get(at),
    ...(high ? [...constant(16), ...add] : []),
    ...load,
    ...get(value),
    ...(high ? [...get(value), ...shuffle([2, 3, 0, 1])] : []),
    ...f64x2.promoteLowF32x4,
    ...f64x2.add,
    ...store,
  ];
  const zero: Bytes = [
    ...sumAt(j),
    ...get(at),
    ...constant(0),
    ...i32x4.splat,
    ...store,
    ...get(at),
    ...constant(16),
    ...add,
    ...constant(0),
    ...i32x4.splat,
    ...store,
  ];
  const addRow: Bytes = [
    ...get(row),
    ...get(j),
    ...constant(2),
    ...shl,
    ...add,
    ...load,
    ...set(value),
    ...sumAt(j),
    ...accumulate(false),
    ...accumulate(true),
  ];
  const finish: Bytes = [
    ...sumAt(j),
    ...get(dst),
    ...get(j),
    ...constant(2),
    ...shl,
    ...add,
    ...get(at),
    ...load,
    ...get(scale),
    ...f64x2.div,
    ...f32x4.demoteF64x2Zero,
    ...get(at),
    ...constant(16),
    ...add,
    ...load,
    ...get(scale),
    ...f64x2.div,
    ...f32x4.demoteF64x2Zero,
    ...shuffle([0, 1, 4, 5]),
    ...store,
  ];
  const code: Bytes = [
    ...loop(j, cols, 4, zero),
    ...loop(r, rows, 1, [
      ...get(src),
      ...get(r),
      ...get(cols),
      ...mul,
      ...constant(2),
      ...shl,
      ...add,
      ...set(row),
      ...loop(j, cols, 4, addRow),
    ]),
    ...get(divisor),
    ...f64FromU32,
    ...f64x2.splat,
    ...set(scale),
    ...loop(j, cols, 4, finish),
  ];
  return functionBody(4, 2, code);
}

export const SIMD_BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;
export type SimdBinaryOp = (typeof SIMD_BINARY_OPS)[number];
/** How a run reads its operands: both advancing, or one of them a single repeated value. */
export type RunLayout = 'vv' | 'vs' | 'sv';
export const SIMD_UNARY_OPS = ['square', 'relu'] as const;
export type SimdUnaryOp = (typeof SIMD_UNARY_OPS)[number];

const binaryInstructions: Record<SimdBinaryOp, { vector: Bytes; scalar: Bytes }> = {
  add: { vector: f32x4.add, scalar: f32.add },
  sub: { vector: f32x4.sub, scalar: f32.sub },
  mul: { vector: f32x4.mul, scalar: f32.mul },
  div: { vector: f32x4.div, scalar: f32.div },
};

/** `for (i = start; i < limit; i += 4) vector` then `for (; i < limit; i++) scalar`: floats at byte offsets base + 4i. */
function vectorThenScalar(i: number, n: number, whole: number, vector: Bytes, scalar: Bytes): Bytes {
  return [
    ...get(n),
    ...constant(-4),
    ...andBits,
    ...set(whole),
    ...loop(i, whole, 4, vector),
    // The tail continues from i = whole.
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(i),
    ...get(n),
    ...geU,
    0x0d,
    1,
    ...scalar,
    ...get(i),
    ...constant(1),
    ...add,
    ...set(i),
    0x0c,
    0,
    0x0b,
    0x0b,
  ];
}

/**
 * {op}_{layout}(a, b, out, n): out[k] = a[k] op b[k] for k < n (vv), with b[0] for every b[k] (vs) or
 * a[0] for every a[k] (sv); float32 at byte offsets.
 */
function binaryBody(op: SimdBinaryOp, layout: RunLayout): Body {
  const [a, b, out, n] = [0, 1, 2, 3];
  const [i, whole] = [4, 5];
  const [repeated] = [6];
  const at = (base: number): Bytes => [...get(base), ...get(i), ...constant(2), ...shl, ...add];
  const vectorOperand = (base: number, advancing: boolean): Bytes => (advancing ? [...at(base), ...load] : get(repeated));
  const scalarOperand = (base: number, advancing: boolean): Bytes => [...(advancing ? at(base) : get(base)), ...f32.load];
  const [aAdvances, bAdvances] = [layout !== 'sv', layout !== 'vs'];
  const code: Bytes = [
    ...(layout === 'vv' ? [] : [...get(layout === 'vs' ? b : a), ...f32.load, ...f32x4.splat, ...set(repeated)]),
    ...vectorThenScalar(
      i,
      n,
      whole,
      [...at(out), ...vectorOperand(a, aAdvances), ...vectorOperand(b, bAdvances), ...binaryInstructions[op].vector, ...store],
      [
        ...at(out),
        ...scalarOperand(a, aAdvances),
        ...scalarOperand(b, bAdvances),
        ...binaryInstructions[op].scalar,
        ...f32.store,
      ],
    ),
  ];
  return functionBody(2, 1, code);
}

/** {op}(x, out, n): out[k] = x[k]² (square) or max(x[k], 0) (relu, as Math.max: NaN stays NaN, −0 gives 0); float32 at byte offsets. */
function unaryBody(op: SimdUnaryOp): Body {
  const [x, out, n] = [0, 1, 2];
  const [i, whole] = [3, 4];
  const [zero] = [5];
  const at = (base: number): Bytes => [...get(base), ...get(i), ...constant(2), ...shl, ...add];
  const vector =
    op === 'square' ? [...at(x), ...load, ...at(x), ...load, ...f32x4.mul] : [...at(x), ...load, ...get(zero), ...f32x4.max];
  const scalar =
    op === 'square'
      ? [...at(x), ...f32.load, ...at(x), ...f32.load, ...f32.mul]
      : [...at(x), ...f32.load, ...f32.zero, ...f32.max];
  const code: Bytes = [
    ...constant(0),
    ...i32x4.splat,
    ...set(zero),
    ...vectorThenScalar(i, n, whole, [...at(out), ...vector, ...store], [...at(out), ...scalar, ...f32.store]),
  ];
  return functionBody(2, 1, code);
}

/**
 * The largest tensor (values) the single-threaded loops here take over from tfjs' multi-threaded
 * kernels: an MLP's activations and weights, not a convolutional network's. Measured on 2 cores for
 * the elementwise ops and the sums alike.
 */
export const SINGLE_THREAD_LIMIT = 262_144;

const fn = (name: string, params: number, body: Body): WasmFunction => ({
  name,
  params: new Array<number>(params).fill(I32),
  ...body,
});

const functions: WasmFunction[] = [
  fn('swap', 5, swapBody()),
  fn('maxPieces', 5, maxPiecesBody()),
  fn('maxPiecesBackprop', 7, maxPiecesBackpropBody()),
  fn('sumColumns', 6, sumColumnsBody()),
  ...SIMD_BINARY_OPS.flatMap((op) =>
    (['vv', 'vs', 'sv'] as const).map((layout) => fn(`${op}_${layout}`, 4, binaryBody(op, layout))),
  ),
  ...SIMD_UNARY_OPS.map((op) => fn(op, 3, unaryBody(op))),
];

interface SimdExports {
  swap(src: number, dst: number, n: number, p: number, c: number): void;
  maxPieces(src: number, dst: number, outer: number, k: number, inner: number): void;
  maxPiecesBackprop(x: number, y: number, dy: number, dx: number, outer: number, k: number, inner: number): void;
  sumColumns(src: number, dst: number, scratch: number, rows: number, cols: number, divisor: number): void;
}

type ElementwiseExports = Record<`${SimdBinaryOp}_${RunLayout}`, (a: number, b: number, out: number, n: number) => void> &
  Record<SimdUnaryOp, (x: number, out: number, n: number) => void>;

function simdFor(backend: WasmBackend): (SimdExports & ElementwiseExports) | undefined {
  return heapInstance<SimdExports & ElementwiseExports>(backend, functions);
}

/**
 * out[c, p, n] = x[n, p, c] for float32 x seen as [n, p, c] (a matrix transpose when p is 1), written to
 * `out` (same size). Returns false, doing nothing, unless n and c are multiples of 4.
 */
export function swapOuterInner(backend: WasmBackend, x: TensorInfo, out: TensorInfo, n: number, p: number, c: number): boolean {
  if (x.dtype !== 'float32' || n % 4 !== 0 || c % 4 !== 0) return false;
  const simd = simdFor(backend);
  if (simd === undefined) return false;
  simd.swap(byteOffset(backend, x), byteOffset(backend, out), n, p, c);
  return true;
}

/**
 * out[o, j] = max over p of x[o, p, j] for float32 x seen as [outer, k, inner] (see maxPiecesBody).
 * Returns false, doing nothing, unless inner is a multiple of 4 and k ≥ 1.
 */
export function maxOverPieces(
  backend: WasmBackend,
  x: TensorInfo,
  out: TensorInfo,
  outer: number,
  k: number,
  inner: number,
): boolean {
  if (x.dtype !== 'float32' || inner % 4 !== 0 || k < 1) return false;
  const simd = simdFor(backend);
  if (simd === undefined) return false;
  simd.maxPieces(byteOffset(backend, x), byteOffset(backend, out), outer, k, inner);
  return true;
}

/**
 * dx[o, p, j] = dy[o, j] · (x[o, p, j] == y[o, j]) for float32 x, dx seen as [outer, k, inner] and y, dy
 * as [outer, inner]. Returns false, doing nothing, unless inner is a multiple of 4.
 */
export function maxOverPiecesBackprop(
  backend: WasmBackend,
  x: TensorInfo,
  y: TensorInfo,
  dy: TensorInfo,
  dx: TensorInfo,
  outer: number,
  k: number,
  inner: number,
): boolean {
  if ([x, y, dy].some((t) => t.dtype !== 'float32') || inner % 4 !== 0) return false;
  const simd = simdFor(backend);
  if (simd === undefined) return false;
  simd.maxPiecesBackprop(
    byteOffset(backend, x),
    byteOffset(backend, y),
    byteOffset(backend, dy),
    byteOffset(backend, dx),
    outer,
    k,
    inner,
  );
  return true;
}

/**
 * out[j] = Σ_r x[r, j] / divisor for float32 x seen as [rows, cols], summed in float64 in row order.
 * Returns false, doing nothing, unless cols is a multiple of 4.
 */
export function sumOverRows(
  backend: WasmBackend,
  x: TensorInfo,
  out: TensorInfo,
  rows: number,
  cols: number,
  divisor: number,
): boolean {
  if (x.dtype !== 'float32' || cols % 4 !== 0 || !(Number.isInteger(divisor) && divisor >= 1 && divisor < 2 ** 32)) return false;
  const simd = simdFor(backend);
  if (simd === undefined) return false;
  const scratch = backend.makeOutput([2 * cols], 'float32');
  simd.sumColumns(byteOffset(backend, x), byteOffset(backend, out), byteOffset(backend, scratch), rows, cols, divisor);
  backend.disposeData(scratch.dataId);
  return true;
}

/** Elementwise float32 loops on the calling thread, addressed by tensor and element offset. */
export interface SimdElementwise {
  /** out[o + k] = a[i + k·sa] op b[j + k·sb] for k < n, with sa, sb ∈ {0, 1} not both 0. */
  binaryRun(
    op: SimdBinaryOp,
    a: TensorInfo,
    i: number,
    sa: number,
    b: TensorInfo,
    j: number,
    sb: number,
    out: TensorInfo,
    o: number,
    n: number,
  ): void;
  unary(op: SimdUnaryOp, x: TensorInfo, out: TensorInfo, n: number): void;
}

export function simdElementwise(backend: WasmBackend): SimdElementwise | undefined {
  const simd = simdFor(backend);
  if (simd === undefined) return undefined;
  return {
    binaryRun(op, a, i, sa, b, j, sb, out, o, n) {
      const layout: RunLayout = sa === 0 ? 'sv' : sb === 0 ? 'vs' : 'vv';
      simd[`${op}_${layout}`](
        byteOffset(backend, a) + 4 * i,
        byteOffset(backend, b) + 4 * j,
        byteOffset(backend, out) + 4 * o,
        n,
      );
    },
    unary(op, x, out, n) {
      simd[op](byteOffset(backend, x), byteOffset(backend, out), n);
    },
  };
}
