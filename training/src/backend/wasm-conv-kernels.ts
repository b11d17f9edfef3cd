// Convolution gradient kernels for tfjs' wasm backend.
//
// The stock wasm backend has no Conv2DBackpropFilter at all (training fails at the first step) and its
// Conv2DBackpropInput is a naive loop. Both are rewritten here as one im2col/col2im pass in JavaScript
// over the wasm heap plus one XNNPACK matmul, laid out so the matmul needs no transposed operand (the
// wasm matmul is ~50x slower with transposeA). Conv2DBackpropInput is also the forward pass of every
// transposed convolution, so generators benefit twice.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm used here (the class is not exported as a type). */
interface WasmBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

type ConvPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

function geometry(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: NamedAttrMap,
  kernelName: string,
): ConvGeometry {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} (wasm, Gantry): dataFormat must be "NHWC", got "${dataFormat}"`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    kernelHeight: info.filterHeight,
    kernelWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Visits every (output position, kernel tap) pair that lands inside the input, handing the caller the
 * offsets of the `inChannels`-long runs it should copy: `rowOffset` into the im2col matrix (one row per
 * output position, columns ordered kh, kw, ci like the filter) and `pixelOffset` into the NHWC input.
 */
function forEachTap(g: ConvGeometry, visit: (rowOffset: number, pixelOffset: number) => void): void {
  const tapsPerRow = g.kernelHeight * g.kernelWidth * g.inChannels;
  let row = 0;
  for (let b = 0; b < g.batch; b++) {
    const imageOffset = b * g.inHeight * g.inWidth;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++, row++) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        for (let kh = 0; kh < g.kernelHeight; kh++) {
          const ih = ihBase + kh;
          if (ih < 0 || ih >= g.inHeight) continue;
          for (let kw = 0; kw < g.kernelWidth; kw++) {
            const iw = iwBase + kw;
            if (iw < 0 || iw >= g.inWidth) continue;
            visit(row * tapsPerRow + (kh * g.kernelWidth + kw) * g.inChannels, (imageOffset + ih * g.inWidth + iw) * g.inChannels);
          }
        }
      }
    }
  }
}

function runWasmKernel(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: WasmBackend): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`the wasm backend has no ${name} kernel, which Gantry's convolution kernels need`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

function matmul(a: TensorInfo, b: TensorInfo, backend: WasmBackend): TensorInfo {
  return runWasmKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }, backend);
}

function transpose2d(x: TensorInfo, backend: WasmBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm: [1, 0] }, backend);
}

/** A view of the same buffer with another shape: kernels only read `dataId` and `shape`. */
function reshaped(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

function conv2dBackpropFilter({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }): TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = (attrs as NamedAttrMap).filterShape as [number, number, number, number];
  const g = geometry(x.shape as [number, number, number, number], filterShape, attrs as NamedAttrMap, 'Conv2DBackpropFilter');
  const rows = g.batch * g.outHeight * g.outWidth;
  const taps = g.kernelHeight * g.kernelWidth * g.inChannels;

  const columns = wasm.makeOutput([rows, taps], 'float32');
  const columnData = wasm.typedArrayFromHeap(columns);
  const input = wasm.typedArrayFromHeap(x);
  columnData.fill(0);
  const run = g.inChannels;
  forEachTap(g, (rowOffset, pixelOffset) => {
    for (let c = 0; c < run; c++) columnData[rowOffset + c] = input[pixelOffset + c];
  });

  // dW[taps, co] = columnsᵀ · dy, computed as (dyᵀ · columns)ᵀ so XNNPACK sees plain operands.
  const dyT = transpose2d(reshaped(dy, [rows, g.outChannels]), wasm);
  const product = matmul(reshaped(dyT, [1, g.outChannels, rows]), reshaped(columns, [1, rows, taps]), wasm);
  const filterGrad = transpose2d(reshaped(product, [g.outChannels, taps]), wasm);
  for (const temp of [columns, dyT, product]) wasm.disposeData(temp.dataId);
  return reshaped(filterGrad, filterShape);
}

function conv2dBackpropInput({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }): TensorInfo {
  const wasm = backend as WasmBackend;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = (attrs as NamedAttrMap).inputShape as [number, number, number, number];
  const g = geometry(inputShape, filter.shape as [number, number, number, number], attrs as NamedAttrMap, 'Conv2DBackpropInput');
  const rows = g.batch * g.outHeight * g.outWidth;
  const taps = g.kernelHeight * g.kernelWidth * g.inChannels;

  // columns[rows, taps] = dy[rows, co] · Wᵀ[co, taps]; then col2im scatters each row back.
  const filterT = transpose2d(reshaped(filter, [taps, g.outChannels]), wasm);
  const columns = matmul(reshaped(dy, [1, rows, g.outChannels]), reshaped(filterT, [1, g.outChannels, taps]), wasm);
  const dx = wasm.makeOutput(inputShape, 'float32');
  const dxData = wasm.typedArrayFromHeap(dx);
  const columnData = wasm.typedArrayFromHeap(reshaped(columns, [rows, taps]));
  dxData.fill(0);
  const run = g.inChannels;
  forEachTap(g, (rowOffset, pixelOffset) => {
    for (let c = 0; c < run; c++) dxData[pixelOffset + c] += columnData[rowOffset + c];
  });
  for (const temp of [filterT, columns]) wasm.disposeData(temp.dataId);
  return dx;
}

export const wasmConvKernels: KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter as KernelConfig['kernelFunc'] },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInput as KernelConfig['kernelFunc'] },
];

/** Replaces the wasm backend's convolution gradient kernels with Gantry's (idempotent). */
export function registerWasmConvKernels(): void {
  for (const config of wasmConvKernels) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
