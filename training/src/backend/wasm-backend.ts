// What Gantry's wasm kernels need from tfjs-backend-wasm, which does not export its backend class as a
// type: buffers on the wasm heap and the stock kernels to delegate to.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

export interface WasmBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32' | 'int32' | 'bool'): TensorInfo;
  /** A view of the tensor's bytes on the wasm heap; invalid after the heap grows (any allocation). */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export function runWasmKernel(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: WasmBackend): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`the wasm backend has no ${name} kernel, which Gantry's kernels need`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

/** A view of the same buffer with another shape: kernels only read `dataId` and `shape`. */
export function reshaped(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** The float32 view of a float32 tensor (the conv kernels only ever see float32). */
export function floatHeap(backend: WasmBackend, info: TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  return view;
}

/** A typed view of a tensor's bytes on the wasm heap, for the dtypes the kernels read. */
export type Heap = Float32Array | Int32Array | Uint8Array;

export type WasmKernelArgs = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown };
type KernelFunc = (args: WasmKernelArgs) => TensorInfo;

const stockKernels = new Map<string, KernelFunc>();

/**
 * Replaces the wasm backend's kernel `name` by `kernelFunc`, which may hand cases it does not speed
 * up to the stock kernel through `runStockKernel` (idempotent; the stock kernel's setup is kept).
 */
/** Registers a wasm kernel that stock tfjs lacks (a gradient kernel, or one of Gantry's own); idempotent. */
export function addWasmKernel(name: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(name, 'wasm') === undefined)
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as KernelConfig['kernelFunc'] });
}

export function overrideWasmKernel(name: string, kernelFunc: KernelFunc): void {
  const current = tf.getKernel(name, 'wasm');
  if (current === undefined) throw new Error(`the wasm backend has no ${name} kernel to replace`);
  if (current.kernelFunc === (kernelFunc as KernelConfig['kernelFunc'])) return;
  if (!stockKernels.has(name)) stockKernels.set(name, current.kernelFunc as KernelFunc);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...current, kernelFunc: kernelFunc as KernelConfig['kernelFunc'] });
}

export function runStockKernel(name: string, args: WasmKernelArgs): TensorInfo {
  const stock = stockKernels.get(name);
  if (stock === undefined) throw new Error(`no stock wasm ${name} kernel was kept`);
  return stock(args);
}
