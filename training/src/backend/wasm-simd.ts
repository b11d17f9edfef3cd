// A few data-movement loops as WebAssembly SIMD, run on tfjs-wasm's own memory. tfjs' wasm Transpose is
// a scalar loop (~5 ns an element here) and JavaScript loops over the heap are no faster, while the
// convolution gradients and transposed matmuls move millions of floats a step between layouts. Here a
// 4 × 4 block is transposed in registers by eight lane shuffles. The module is a few hundred bytes,
// assembled below instruction by instruction (wasm-assembler.ts) and run on the backend's memory.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-backend.js';
import { add, byteOffset, constant, get, heapInstance, I32, load, loop, mul, set, shl, simd, store, V128, type Bytes, type WasmFunction } from './wasm-assembler.js';

/** i8x16.shuffle picking float lanes of the pair (a: 0-3, b: 4-7). */
const shuffle = (lanes: number[]): Bytes => simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));

/**
 * swap(src, dst, n, p, c): dst[c][p][n] = src[n][p][c] for float32 arrays at byte offsets src and dst;
 * n and c multiples of 4.
 */
function swapCode(): Bytes {
  const [src, dst, n, p, c] = [0, 1, 2, 3, 4];
  const [pi, ni, ci, s, d, srcStride, dstStride] = [5, 6, 7, 8, 9, 10, 11];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = [12, 13, 14, 15, 16, 17, 18, 19];
  const offset = (base: number, a: number, b: number, bSize: number, cc: number, cSize: number): Bytes => [
    // base + (((a · bSize + b) · cSize + cc) << 2)
    ...get(base), ...get(a), ...get(bSize), ...mul, ...get(b), ...add, ...get(cSize), ...mul, ...get(cc), ...add, ...constant(2), ...shl, ...add,
  ];
  const loadRow = (k: number, into: number): Bytes => [...get(s), ...get(srcStride), ...constant(k), ...mul, ...add, ...load, ...set(into)];
  const pair = (a: number, b: number, lanes: number[], into: number): Bytes => [...get(a), ...get(b), ...shuffle(lanes), ...set(into)];
  const storeRow = (k: number, a: number, b: number, lanes: number[]): Bytes => [
    ...get(d), ...get(dstStride), ...constant(k), ...mul, ...add, ...get(a), ...get(b), ...shuffle(lanes), ...store,
  ];
  const block: Bytes = [
    ...offset(src, ni, pi, p, ci, c), ...set(s),
    ...loadRow(0, r0), ...loadRow(1, r1), ...loadRow(2, r2), ...loadRow(3, r3),
    ...pair(r0, r1, [0, 4, 1, 5], t0), ...pair(r0, r1, [2, 6, 3, 7], t1),
    ...pair(r2, r3, [0, 4, 1, 5], t2), ...pair(r2, r3, [2, 6, 3, 7], t3),
    ...offset(dst, ci, pi, p, ni, n), ...set(d),
    ...storeRow(0, t0, t2, [0, 1, 4, 5]), ...storeRow(1, t0, t2, [2, 3, 6, 7]),
    ...storeRow(2, t1, t3, [0, 1, 4, 5]), ...storeRow(3, t1, t3, [2, 3, 6, 7]),
  ];
  return [
    ...get(p), ...get(c), ...mul, ...constant(4), ...mul, ...set(srcStride),
    ...get(p), ...get(n), ...mul, ...constant(4), ...mul, ...set(dstStride),
    ...loop(pi, p, 1, loop(ni, n, 4, loop(ci, c, 4, block))),
  ];
}

const swapModule: WasmFunction[] = [{ name: 'swap', params: [I32, I32, I32, I32, I32], locals: [[7, I32], [8, V128]], code: swapCode() }];

interface SimdExports {
  swap(src: number, dst: number, n: number, p: number, c: number): void;
}

/**
 * out[c, p, n] = x[n, p, c] for float32 x seen as [n, p, c] (a matrix transpose when p is 1), written to
 * `out` (same size). Returns false, doing nothing, unless n and c are multiples of 4.
 */
export function swapOuterInner(backend: WasmBackend, x: TensorInfo, out: TensorInfo, n: number, p: number, c: number): boolean {
  if (x.dtype !== 'float32' || n % 4 !== 0 || c % 4 !== 0) return false;
  const module = heapInstance<SimdExports>(backend, swapModule);
  if (module === undefined) return false;
  module.swap(byteOffset(backend, x), byteOffset(backend, out), n, p, c);
  return true;
}
