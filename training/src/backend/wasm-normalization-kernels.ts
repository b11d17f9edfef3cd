// Batch normalisation's forward kernel on wasm. The stock FusedBatchNorm is a scalar loop with a
// float64 division per element (several times slower than a SIMD multiply over the same data); with
// per-channel statistics it is (x − mean) · a + offset with a = scale / √(variance + ε) computed once
// per channel, three broadcasting XNNPACK kernels. Other shapes go to the stock kernel.
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

function fusedBatchNorm(args: WasmKernelArgs): TensorInfo {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const channels = x!.shape[x!.shape.length - 1] ?? 0;
  const perChannel = (t: TensorInfo | undefined): boolean =>
    t === undefined || (t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) === channels);
  if (x!.dtype !== 'float32' || tf.util.sizeFromShape(x!.shape) === 0 || ![mean, variance, offset, scale].every(perChannel)) {
    return runStockKernel('FusedBatchNorm', args);
  }
  const wasm = args.backend as WasmBackend;
  const epsilon = (args.attrs as NamedAttrMap).varianceEpsilon as number;
  const factors = wasm.makeOutput([channels], 'float32');
  const [a, v] = [floatHeap(wasm, factors), floatHeap(wasm, variance!)];
  const s = scale === undefined ? undefined : floatHeap(wasm, scale);
  for (let c = 0; c < channels; c++) a[c] = (s === undefined ? 1 : s[c]!) / Math.sqrt(v[c]! + epsilon);
  const centred = runWasmKernel('Sub', { a: x!, b: reshaped(mean!, [channels]) }, {}, wasm);
  const scaled = runWasmKernel('Multiply', { a: centred, b: factors }, {}, wasm);
  wasm.disposeData(centred.dataId);
  wasm.disposeData(factors.dataId);
  if (offset === undefined) return scaled;
  const out = runWasmKernel('Add', { a: scaled, b: reshaped(offset, [channels]) }, {}, wasm);
  wasm.disposeData(scaled.dataId);
  return out;
}

/** Replaces the wasm FusedBatchNorm kernel (idempotent). */
export function registerWasmNormalizationKernels(): void {
  overrideWasmKernel('FusedBatchNorm', fusedBatchNorm);
}
