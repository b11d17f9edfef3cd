// Convolution gradient kernels for tfjs' wasm backend.
//
// The stock wasm backend has no Conv2DBackpropFilter at all (training fails at the first step) and its
// Conv2DBackpropInput is a naive loop. Both are rewritten here so that XNNPACK's multi-threaded
// convolution does the arithmetic: the filter gradient is one dilated convolution, the input gradient
// one stride-1 convolution per output phase (s·s of them). With few channels those convolutions are
// too thin for XNNPACK and the copies around them dominate, so there one im2col/col2im pass in
// JavaScript over the wasm heap plus one XNNPACK matmul does the work instead, laid out so the matmul
// needs no transposed operand. Conv2DBackpropInput is also the forward pass of every transposed
// convolution, so generators benefit twice.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import {
  floatHeap,
  addWasmKernel,
  overrideWasmKernel,
  reshaped,
  runWasmKernel,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasm-backend.js';

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

/** cols[row, tap·channels + c] = x[pixel(row, tap), c], zero where the tap falls in the padding. */
function im2col(g: ConvGeometry, input: Float32Array, columns: Float32Array): void {
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
          const tapRow = rowOffset + kh * g.kernelWidth * channels;
          const rowInside = ih >= 0 && ih < g.inHeight;
          const pixelRow = (imageOffset + ih * g.inWidth) * channels;
          for (let kw = 0; kw < g.kernelWidth; kw++) {
            const iw = iwBase + kw;
            const target = tapRow + kw * channels;
            if (rowInside && iw >= 0 && iw < g.inWidth) {
              const source = pixelRow + iw * channels;
              for (let c = 0; c < channels; c++) columns[target + c] = input[source + c]!;
            } else {
              for (let c = 0; c < channels; c++) columns[target + c] = 0;
            }
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

function transpose(x: TensorInfo, perm: number[], backend: WasmBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm }, backend);
}

/** XNNPACK's convolution (the stock wasm Conv2D kernel) with stride 1 and explicit, non-negative padding. */
function conv2dStride1(
  x: TensorInfo,
  filter: TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
  dilations: [number, number],
  backend: WasmBackend,
): TensorInfo {
  const pad = [
    [0, 0],
    [pads.top, pads.bottom],
    [pads.left, pads.right],
    [0, 0],
  ];
  return runWasmKernel(
    'Conv2D',
    { x, filter },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined } as unknown as NamedAttrMap,
    backend,
  );
}

/** The whole wasm heap as floats, so copies between tensors are `copyWithin` on one array. */
function heapFloats(backend: WasmBackend, info: TensorInfo): { heap: Float32Array; offset: number } {
  const view = floatHeap(backend, info);
  return { heap: new Float32Array(view.buffer), offset: view.byteOffset / 4 };
}

/** Copies `length` floats within the heap: a plain loop for short runs (few channels), else copyWithin. */
function copyRun(heap: Float32Array, target: number, source: number, length: number): void {
  if (length < 16) {
    for (let c = 0; c < length; c++) heap[target + c] = heap[source + c]!;
  } else {
    heap.copyWithin(target, source, source + length);
  }
}

/**
 * Conv2DBackpropFilter as one stride-1 dilated XNNPACK convolution:
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − P, ow·s + kw − P, ci] · dy[n, oh, ow, co]
 * is the convolution of x' = x as [Cin, H, W, N] (images become the batch, the batch the channels) with
 * the filter dy' = dy as [Hout, Wout, N, Cout] at dilation s and padding P, giving [Cin, kh, kw, Cout].
 */
function dilatedFilterGradient(
  g: ConvGeometry,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  wasm: WasmBackend,
): TensorInfo {
  const filterGrad = wasm.makeOutput(filterShape, 'float32');
  const images = transpose(reshaped(x, [g.batch, g.inHeight, g.inWidth, g.inChannels]), [3, 1, 2, 0], wasm);
  const taps = transpose(reshaped(dy, [g.batch, g.outHeight, g.outWidth, g.outChannels]), [1, 2, 0, 3], wasm);
  // Padding after the image that makes the output at least kernel-sized; any extra rows (a stride
  // that leaves the image's last rows unread) are cut off below.
  const padBottom = Math.max(0, g.kernelHeight - g.inHeight - g.padTop + g.strideHeight * (g.outHeight - 1));
  const padRight = Math.max(0, g.kernelWidth - g.inWidth - g.padLeft + g.strideWidth * (g.outWidth - 1));
  const result = conv2dStride1(
    images,
    taps,
    { top: g.padTop, bottom: padBottom, left: g.padLeft, right: padRight },
    [g.strideHeight, g.strideWidth],
    wasm,
  );
  const [, rows, cols] = result.shape as [number, number, number, number];
  // [Cin, rows, cols, Cout] → [kh, kw, Cin, Cout], keeping the first kh rows and kw columns.
  const { heap, offset: source } = heapFloats(wasm, result);
  const target = heapFloats(wasm, filterGrad).offset;
  const co = g.outChannels;
  for (let kh = 0; kh < g.kernelHeight; kh++) {
    for (let kw = 0; kw < g.kernelWidth; kw++) {
      for (let ci = 0; ci < g.inChannels; ci++) {
        copyRun(
          heap,
          target + ((kh * g.kernelWidth + kw) * g.inChannels + ci) * co,
          source + ((ci * rows + kh) * cols + kw) * co,
          co,
        );
      }
    }
  }
  for (const temp of [images, taps, result]) wasm.disposeData(temp.dataId);
  return filterGrad;
}

/**
 * dWᵀ[co, taps] = dyᵀ[co, rows] · cols[rows, taps]. XNNPACK copies a matmul's right operand into its
 * own layout first, slowly (~10 ns an element): the im2col matrix, taps wide, is the cheaper one to hand
 * it when channels are few; dy is transposed instead.
 */
function columnFilterGradient(
  g: ConvGeometry,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  wasm: WasmBackend,
): TensorInfo {
  const rows = g.batch * g.outHeight * g.outWidth;
  const taps = g.kernelHeight * g.kernelWidth * g.inChannels;
  const columns = wasm.makeOutput([rows, taps], 'float32');
  im2col(g, floatHeap(wasm, x), floatHeap(wasm, columns));
  const dyT = transpose(reshaped(dy, [rows, g.outChannels]), [1, 0], wasm);
  const filterGradT = matmul(reshaped(dyT, [1, g.outChannels, rows]), reshaped(columns, [1, rows, taps]), wasm);
  const filterGrad = transpose(reshaped(filterGradT, [g.outChannels, taps]), [1, 0], wasm);
  for (const temp of [columns, dyT, filterGradT]) wasm.disposeData(temp.dataId);
  return reshaped(filterGrad, filterShape);
}

/**
 * Input channels from which the XNNPACK convolutions beat im2col (measured on 4×4 stride-2 layers, batch
 * 64). With fewer, the filter gradient's dilated convolution has too few outputs (Cin·kh·kw pixels) to
 * pay for copying dy into a filter, and the input gradient's phase convolutions have Cin output channels,
 * thinner than XNNPACK's 8-wide tiles.
 */
const MIN_CHANNELS_FOR_CONVOLUTION = { filter: 4, input: 8 };

/** How the gradients are computed: by channel count ('auto'), or always one way (tests, benchmarks). */
export type WasmConvStrategy = 'auto' | 'columns' | 'convolution';
let strategy: WasmConvStrategy = 'auto';

export function setWasmConvStrategy(next: WasmConvStrategy): void {
  strategy = next;
}

function useConvolution(gradient: 'filter' | 'input', channels: number): boolean {
  return strategy === 'auto' ? channels >= MIN_CHANNELS_FOR_CONVOLUTION[gradient] : strategy === 'convolution';
}

function conv2dBackpropFilter({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = (attrs as NamedAttrMap).filterShape as [number, number, number, number];
  const g = geometry(x.shape as [number, number, number, number], filterShape, attrs as NamedAttrMap, 'Conv2DBackpropFilter');
  if (g.batch * g.outHeight * g.outWidth === 0) {
    const zeros = wasm.makeOutput(filterShape, 'float32');
    floatHeap(wasm, zeros).fill(0);
    return zeros;
  }
  return useConvolution('filter', g.inChannels)
    ? dilatedFilterGradient(g, x, dy, filterShape, wasm)
    : columnFilterGradient(g, x, dy, filterShape, wasm);
}

/**
 * One axis of one output phase of a strided transposed convolution. Input rows i = s·q + r (the
 * phase r) only meet kernel taps kh = firstTap + s·t, so they are a stride-1 convolution of dy with
 * those taps, flipped: dx[s·q + r] = Σ_j dy[q + j − before] · W[firstTap + s·(taps − 1 − j)].
 */
interface PhaseAxis {
  phase: number;
  firstTap: number;
  taps: number;
  /** Rows q of this phase inside the image. */
  outputs: number;
  /** Explicit padding of dy (XNNPACK takes none below zero). */
  padBefore: number;
  padAfter: number;
  /** Leading rows of the convolution's output that stand for a negative padding and are skipped. */
  skip: number;
  /** Rows of the convolution's output. */
  length: number;
}

function phaseAxis(phase: number, stride: number, pad: number, kernel: number, inSize: number, dySize: number): PhaseAxis {
  const firstTap = (phase + pad) % stride;
  const taps = firstTap < kernel ? Math.ceil((kernel - firstTap) / stride) : 0;
  const outputs = phase < inSize ? Math.ceil((inSize - phase) / stride) : 0;
  const before = taps - 1 - Math.floor((phase + pad) / stride);
  const padBefore = Math.max(0, before);
  const skip = Math.max(0, -before);
  const padAfter = Math.max(0, skip + outputs + taps - 1 - dySize - padBefore);
  return { phase, firstTap, taps, outputs, padBefore, padAfter, skip, length: dySize + padBefore + padAfter - taps + 1 };
}

/** The phase's sub-kernel [tapsH, tapsW, Cout, Cin]: taps flipped, in and out channels swapped. */
function phaseFilter(g: ConvGeometry, filter: TensorInfo, rows: PhaseAxis, cols: PhaseAxis, wasm: WasmBackend): TensorInfo {
  const sub = wasm.makeOutput([rows.taps, cols.taps, g.outChannels, g.inChannels], 'float32');
  const w = floatHeap(wasm, filter);
  const k = floatHeap(wasm, sub);
  const [ci, co] = [g.inChannels, g.outChannels];
  let target = 0;
  for (let jh = 0; jh < rows.taps; jh++) {
    const kh = rows.firstTap + g.strideHeight * (rows.taps - 1 - jh);
    for (let jw = 0; jw < cols.taps; jw++) {
      const kw = cols.firstTap + g.strideWidth * (cols.taps - 1 - jw);
      const tap = (kh * g.kernelWidth + kw) * ci * co;
      for (let o = 0; o < co; o++) {
        for (let i = 0, source = tap + o; i < ci; i++, source += co) k[target++] = w[source]!;
      }
    }
  }
  return sub;
}

/**
 * Conv2DBackpropInput (also the forward pass of a transposed convolution) as s·s stride-1 XNNPACK
 * convolutions, one per output phase, whose results are interleaved into dx.
 */
function phaseInputGradient(
  g: ConvGeometry,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: number[],
  wasm: WasmBackend,
): TensorInfo {
  const rowPhases = Array.from({ length: g.strideHeight }, (_, r) =>
    phaseAxis(r, g.strideHeight, g.padTop, g.kernelHeight, g.inHeight, g.outHeight),
  );
  const colPhases = Array.from({ length: g.strideWidth }, (_, r) =>
    phaseAxis(r, g.strideWidth, g.padLeft, g.kernelWidth, g.inWidth, g.outWidth),
  );
  const dyImage = reshaped(dy, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  const [rows0, cols0] = [rowPhases[0]!, colPhases[0]!];
  if (
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    rows0.taps > 0 &&
    cols0.taps > 0 &&
    rows0.skip === 0 &&
    cols0.skip === 0 &&
    rows0.length === g.inHeight &&
    cols0.length === g.inWidth
  ) {
    // Stride 1: one convolution with the flipped kernel gives dx as it is.
    const sub = phaseFilter(g, filter, rows0, cols0, wasm);
    const dx = conv2dStride1(
      dyImage,
      sub,
      { top: rows0.padBefore, bottom: rows0.padAfter, left: cols0.padBefore, right: cols0.padAfter },
      [1, 1],
      wasm,
    );
    wasm.disposeData(sub.dataId);
    return reshaped(dx, inputShape);
  }
  const dx = wasm.makeOutput(inputShape, 'float32');
  // Pixels that no tap reaches (a kernel smaller than the stride) stay zero.
  if (rowPhases.some((p) => p.taps === 0) || colPhases.some((p) => p.taps === 0)) floatHeap(wasm, dx).fill(0);
  const c = g.inChannels;
  for (const rows of rowPhases) {
    for (const cols of colPhases) {
      if (rows.taps === 0 || cols.taps === 0 || rows.outputs === 0 || cols.outputs === 0) continue;
      const sub = phaseFilter(g, filter, rows, cols, wasm);
      const phase = conv2dStride1(
        dyImage,
        sub,
        { top: rows.padBefore, bottom: rows.padAfter, left: cols.padBefore, right: cols.padAfter },
        [1, 1],
        wasm,
      );
      const { heap, offset: source } = heapFloats(wasm, phase);
      const target = heapFloats(wasm, dx).offset;
      for (let n = 0; n < g.batch; n++) {
        for (let q = 0; q < rows.outputs; q++) {
          const from = source + ((n * rows.length + q + rows.skip) * cols.length + cols.skip) * c;
          const to = target + ((n * g.inHeight + g.strideHeight * q + rows.phase) * g.inWidth + cols.phase) * c;
          for (let qw = 0; qw < cols.outputs; qw++) copyRun(heap, to + qw * g.strideWidth * c, from + qw * c, c);
        }
      }
      for (const temp of [sub, phase]) wasm.disposeData(temp.dataId);
    }
  }
  return dx;
}

/** columns[rows, taps] = dy[rows, co] · Wᵀ[co, taps]; then col2im scatters each row back. */
function columnInputGradient(
  g: ConvGeometry,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: number[],
  wasm: WasmBackend,
): TensorInfo {
  const rows = g.batch * g.outHeight * g.outWidth;
  const taps = g.kernelHeight * g.kernelWidth * g.inChannels;
  const filterT = transpose(reshaped(filter, [taps, g.outChannels]), [1, 0], wasm);
  const columns = matmul(reshaped(dy, [1, rows, g.outChannels]), reshaped(filterT, [1, g.outChannels, taps]), wasm);
  const dx = wasm.makeOutput(inputShape, 'float32');
  col2im(g, floatHeap(wasm, reshaped(columns, [rows, taps])), floatHeap(wasm, dx));
  for (const temp of [filterT, columns]) wasm.disposeData(temp.dataId);
  return dx;
}

function conv2dBackpropInput({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = (attrs as NamedAttrMap).inputShape as [number, number, number, number];
  const g = geometry(inputShape, filter.shape as [number, number, number, number], attrs as NamedAttrMap, 'Conv2DBackpropInput');
  if (g.batch * g.outHeight * g.outWidth * g.outChannels === 0) {
    const zeros = wasm.makeOutput(inputShape, 'float32');
    floatHeap(wasm, zeros).fill(0);
    return zeros;
  }
  // Each phase's convolution has one output channel per input channel of the layer.
  return useConvolution('input', g.inChannels)
    ? phaseInputGradient(g, dy, filter, inputShape, wasm)
    : columnInputGradient(g, dy, filter, inputShape, wasm);
}

/** Adds the convolution filter gradient the wasm backend lacks and replaces its input gradient (idempotent). */
export function registerWasmConvKernels(): void {
  addWasmKernel('Conv2DBackpropFilter', conv2dBackpropFilter);
  overrideWasmKernel('Conv2DBackpropInput', conv2dBackpropInput);
}
