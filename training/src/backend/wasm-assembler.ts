// A few WebAssembly instructions as bytes, and modules of such functions instantiated against tfjs-wasm's
// own memory (shared or not, as that build uses), so that they work on tensors where they lie on the
// heap. Small loops need no toolchain: each function is assembled instruction by instruction.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-backend.js';

export type Bytes = number[];

export function unsigned(n: number): Bytes {
  const out: Bytes = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signed(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vector = (items: Bytes[]): Bytes => [...unsigned(items.length), ...items.flat()];
const name = (text: string): Bytes => vector([...new TextEncoder().encode(text)].map((b) => [b]));
const section = (id: number, body: Bytes): Bytes => [id, ...unsigned(body.length), ...body];

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export const get = (i: number): Bytes => [0x20, ...unsigned(i)];
export const set = (i: number): Bytes => [0x21, ...unsigned(i)];
export const tee = (i: number): Bytes => [0x22, ...unsigned(i)];
export const constant = (v: number): Bytes => [0x41, ...signed(v)];
export const add = [0x6a];
export const mul = [0x6c];
export const shl = [0x74];
export const geU = [0x4f];
export const andBits = [0x71];
export const f64FromU32 = [0xb8];
export const simd = (op: number, ...rest: number[]): Bytes => [0xfd, ...unsigned(op), ...rest];
// memarg: alignment 2^2 (floats), offset 0.
export const load = simd(0x00, 2, 0);
export const store = simd(0x0b, 2, 0);
/** i8x16.shuffle picking float lanes of the pair (a: 0-3, b: 4-7). */
export const shuffle = (lanes: number[]): Bytes => simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
/** Lane-wise float32 arithmetic, each lane rounded as the scalar float32 operation rounds. */
export const f32x4 = {
  splat: simd(0x13),
  sqrt: simd(0xe3),
  add: simd(0xe4),
  sub: simd(0xe5),
  mul: simd(0xe6),
  div: simd(0xe7),
  max: simd(0xe9),
  eq: simd(0x41),
  ne: simd(0x42),
  gt: simd(0x44),
  demoteF64x2Zero: simd(0x5e),
};
/** Scalar float32 at a byte address (memarg: alignment 2^2, offset 0) and arithmetic. */
export const f32 = {
  load: [0x2a, 2, 0],
  store: [0x38, 2, 0],
  add: [0x92],
  sub: [0x93],
  mul: [0x94],
  div: [0x95],
  max: [0x97],
  zero: [0x43, 0, 0, 0, 0],
  one: [0x43, 0x00, 0x00, 0x80, 0x3f],
};
export const f64x2 = { splat: simd(0x14), promoteLowF32x4: simd(0x5f), add: simd(0xf0), div: simd(0xf3) };
export const i32x4 = { splat: simd(0x11) };
export const v128 = { and: simd(0x4e), or: simd(0x50), bitselect: simd(0x52) };

/** `for (i = start; i < limit; i += step) body`, with `i` and `limit` locals. */
export function loop(i: number, limit: number, step: number, body: Bytes, start = 0): Bytes {
  return [
    ...constant(start),
    ...set(i),
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(i),
    ...get(limit),
    ...geU,
    0x0d,
    1,
    ...body,
    ...get(i),
    ...constant(step),
    ...add,
    ...set(i),
    0x0c,
    0,
    0x0b,
    0x0b,
  ];
}

export interface WasmFunction {
  name: string;
  /** Parameter types; locals are numbered after them. */
  params: number[];
  /** Local declarations: how many of which type, in order. */
  locals: [count: number, type: number][];
  /** The instructions, without the final `end`. */
  code: Bytes;
}

function moduleBytes(shared: boolean, functions: WasmFunction[]): BufferSource {
  // Imported memory limits: a shared memory must state its maximum (tfjs' is 4 GiB, 65536 pages).
  const limits = shared ? [0x03, ...unsigned(1), ...unsigned(65536)] : [0x00, ...unsigned(1)];
  const body = (f: WasmFunction): Bytes => {
    const bytes = [...vector(f.locals.map(([count, type]) => [...unsigned(count), type])), ...f.code, 0x0b];
    return [...unsigned(bytes.length), ...bytes];
  };
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), ...vector([])]))),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vector(functions.map((_, i) => unsigned(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]))),
    ...section(10, vector(functions.map(body))),
  ]);
}

interface EmscriptenMemory {
  // The threaded build keeps its (shared) memory as wasmMemory, the plain one exports it from asm.
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

const instances = new WeakMap<WebAssembly.Memory, Map<readonly WasmFunction[], WebAssembly.Exports | null>>();

/**
 * The exports of a module of `functions` working on the backend's memory (one instance per memory and
 * function list), or undefined where that memory cannot be reached.
 */
export function heapInstance<T>(backend: WasmBackend, functions: readonly WasmFunction[]): T | undefined {
  const module = (backend as unknown as EmscriptenMemory).wasm;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (memory === undefined) return undefined;
  let byFunctions = instances.get(memory);
  if (byFunctions === undefined) {
    byFunctions = new Map();
    instances.set(memory, byFunctions);
  }
  let exports = byFunctions.get(functions);
  if (exports === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    try {
      exports = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(shared, [...functions])), { env: { memory } })
        .exports;
    } catch {
      // A runtime without wasm SIMD, or a tfjs build whose memory imports differently: callers fall back to stock kernels.
      exports = null;
    }
    byFunctions.set(functions, exports);
  }
  return exports === null ? undefined : (exports as T);
}

/** Where the tensor's bytes start on the heap. */
export function byteOffset(backend: WasmBackend, info: TensorInfo): number {
  return (backend as unknown as EmscriptenMemory).dataIdMap.get(info.dataId).memoryOffset;
}
