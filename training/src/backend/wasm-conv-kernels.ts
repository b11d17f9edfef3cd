// Convolution gradient kernels for tfjs' wasm backend.
//
// The stock wasm backend has no Conv2DBackpropFilter at all (training fails at the first step) and its
// Conv2DBackpropInput is a naive loop. Both are rewritten here as one im2col/col2im pass in JavaScript
// over the wasm heap plus one XNNPACK matmul, laid out so the matmul needs no transposed operand (the
// wasm matmul is ~50x slower with transposeA). Conv2DBackpropInput is also the forward pass of every
// transposed convolution, so generators benefit twice.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { floatHeap, reshaped, runWasmKernel, type WasmBackend } from './wasm-backend.js';

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
 * Writes colsᵀ[tap·channels + c, row] = x[pixel(row, tap), c]. Taps run in the outer loop so each pass
 * over the rows writes into only `inChannels` cache lines at a time.
 */
function im2colTransposed(g: ConvGeometry, input: Float32Array, columnsT: Float32Array, rows: number): void {
  const channels = g.inChannels;
  for (let kh = 0; kh < g.kernelHeight; kh++) {
    for (let kw = 0; kw < g.kernelWidth; kw++) {
      const tapBase = (kh * g.kernelWidth + kw) * channels * rows;
      let row = 0;
      for (let b = 0; b < g.batch; b++) {
        const imageOffset = b * g.inHeight * g.inWidth;
        for (let oh = 0; oh < g.outHeight; oh++) {
          const ih = oh * g.strideHeight - g.padTop + kh;
          const rowInside = ih >= 0 && ih < g.inHeight;
          for (let ow = 0; ow < g.outWidth; ow++, row++) {
            const iw = ow * g.strideWidth - g.padLeft + kw;
            if (!rowInside || iw < 0 || iw >= g.inWidth) continue;
            const pixel = (imageOffset + ih * g.inWidth + iw) * channels;
            let target = tapBase + row;
            for (let c = 0; c < channels; c++, target += rows) columnsT[target] = input[pixel + c];
          }
        }
      }
    }
  }
}

/** dx = 0, then dx[pixel(row, tap), c] += cols[row, tap·channels + c]: the adjoint of im2col. */
function col2im(g: ConvGeometry, columns: Float32Array, dx: Float32Array): void {
  dx.fill(0);
  const channels = g.inChannels;
  const taps = g.kernelHeight * g.kernelWidth * channels;
  let rowOffset = 0;
  for (let b = 0; b < g.batch; b++) {
    const imageOffset = b * g.inHeight * g.inWidth;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++, rowOffset += taps) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        for (let kh = 0; kh < g.kernelHeight; kh++) {
          const ih = ihBase + kh;
          if (ih < 0 || ih >= g.inHeight) continue;
          const tapRow = rowOffset + kh * g.kernelWidth * channels;
          const pixelRow = (imageOffset + ih * g.inWidth) * channels;
          for (let kw = 0; kw < g.kernelWidth; kw++) {
            const iw = iwBase + kw;
            if (iw < 0 || iw >= g.inWidth) continue;
            const source = tapRow + kw * channels;
            const target = pixelRow + iw * channels;
            for (let c = 0; c < channels; c++) dx[target + c] += columns[source + c];
          }
        }
      }
    }
  }
}

function matmul(a: TensorInfo, b: TensorInfo, backend: WasmBackend): TensorInfo {
  return runWasmKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }, backend);
}

function transpose2d(x: TensorInfo, backend: WasmBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm: [1, 0] }, backend);
}

function conv2dBackpropFilter({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }): TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = (attrs as NamedAttrMap).filterShape as [number, number, number, number];
  const g = geometry(x.shape as [number, number, number, number], filterShape, attrs as NamedAttrMap, 'Conv2DBackpropFilter');
  const rows = g.batch * g.outHeight * g.outWidth;
  const taps = g.kernelHeight * g.kernelWidth * g.inChannels;

  // dW[taps, co] = colsᵀ[taps, rows] · dy[rows, co]: the im2col matrix is written transposed so the
  // matmul reads both operands as they lie and its result already has the filter's layout.
  const columnsT = wasm.makeOutput([taps, rows], 'float32');
  const columnData = floatHeap(wasm, columnsT);
  const input = floatHeap(wasm, x);
  columnData.fill(0);
  im2colTransposed(g, input, columnData, rows);
  const filterGrad = matmul(reshaped(columnsT, [1, taps, rows]), reshaped(dy, [1, rows, g.outChannels]), wasm);
  wasm.disposeData(columnsT.dataId);
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
  const dxData = floatHeap(wasm, dx);
  const columnData = floatHeap(wasm, reshaped(columns, [rows, taps]));
  col2im(g, columnData, dxData);
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
