// LeakyRelu on wasm, forward and backward, on vectorised kernels. The stock forward kernel is a scalar
// loop whose branch on the sign of each element mispredicts half the time (ten times slower than a
// SIMD multiply); tfjs differentiates it as where(greater(x, 0), dy, mul(dy, alpha)): three broadcasting
// kernels, the first two scalar. Here the forward pass is XNNPACK's PReLU and the backward pass the
// stock Step kernel (a branch-free loop) times dy. Results are bitwise tfjs', except that a NaN input
// gives a NaN gradient instead of alpha · dy.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import {
  floatHeap,
  addWasmKernel,
  overrideWasmKernel,
  runStockKernel,
  runWasmKernel,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasm-backend.js';

export const LEAKY_RELU_BACKPROP = 'GantryLeakyReluBackprop';

function leakyReluBackprop({ inputs, attrs, backend }: WasmKernelArgs): TensorInfo {
  const wasm = backend as WasmBackend;
  // Step gives 1 where x > 0 and alpha elsewhere; XNNPACK multiplies.
  const slope = runWasmKernel('Step', { x: inputs.x as TensorInfo }, { alpha: (attrs as NamedAttrMap).alpha as number }, wasm);
  const out = runWasmKernel('Multiply', { a: inputs.dy as TensorInfo, b: slope }, {}, wasm);
  wasm.disposeData(slope.dataId);
  return out;
}

/** LeakyRelu as XNNPACK's PReLU with every channel's slope alpha (the stock kernel is a scalar loop). */
function leakyRelu(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const channels = x.shape[x.shape.length - 1] ?? 0;
  if (x.dtype !== 'float32' || channels === 0) return runStockKernel('LeakyRelu', args);
  const wasm = args.backend as WasmBackend;
  const slopes = wasm.makeOutput([channels], 'float32');
  floatHeap(wasm, slopes).fill((args.attrs as NamedAttrMap).alpha as number);
  const out = runWasmKernel('Prelu', { x, alpha: slopes }, {}, wasm);
  wasm.disposeData(slopes.dataId);
  return out;
}

function backpropOp(dy: tf.Tensor, x: tf.Tensor, alpha: number): tf.Tensor {
  if (tf.getBackend() === 'wasm' && tf.util.arraysEqual(dy.shape, x.shape)) {
    return tf.engine().runKernel(LEAKY_RELU_BACKPROP, { dy, x }, { alpha }) as tf.Tensor;
  }
  return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
}

/** Registers the wasm kernels and a LeakyRelu gradient that uses them there (exact to every order). */
export function registerWasmActivationKernels(): void {
  overrideWasmKernel('LeakyRelu', leakyRelu);
  addWasmKernel(LEAKY_RELU_BACKPROP, leakyReluBackprop);
  tf.registerGradient({
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => backpropOp(dy as tf.Tensor, x, (attrs as { alpha: number }).alpha) };
    },
  });
  // The backward pass is linear in dy and piecewise constant in x.
  tf.registerGradient({
    kernelName: LEAKY_RELU_BACKPROP,
    inputsToSave: ['x'],
    gradFunc: (upstream, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return { dy: () => backpropOp(upstream as tf.Tensor, x, (attrs as { alpha: number }).alpha), x: () => tf.zerosLike(x) };
    },
  });
}
