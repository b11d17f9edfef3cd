// LeakyRelu's backward pass as one kernel on wasm. tfjs differentiates it as
// where(greater(x, 0), dy, mul(dy, alpha)): three broadcasting kernels and two temporaries, together
// about 7 % of a DCGAN training step, where one pass over the heap does.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { floatHeap, type WasmBackend } from './wasm-backend.js';

export const LEAKY_RELU_BACKPROP = 'GantryLeakyReluBackprop';

function leakyReluBackprop({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }): TensorInfo {
  const wasm = backend as WasmBackend;
  const dy = inputs.dy as TensorInfo;
  const x = inputs.x as TensorInfo;
  const alpha = (attrs as NamedAttrMap).alpha as number;
  const out = wasm.makeOutput(x.shape, 'float32');
  const [o, g, v] = [floatHeap(wasm, out), floatHeap(wasm, dy), floatHeap(wasm, x)];
  for (let i = 0; i < o.length; i++) o[i] = v[i]! > 0 ? g[i]! : alpha * g[i]!;
  return out;
}

function backpropOp(dy: tf.Tensor, x: tf.Tensor, alpha: number): tf.Tensor {
  if (tf.getBackend() === 'wasm' && tf.util.arraysEqual(dy.shape, x.shape)) {
    return tf.engine().runKernel(LEAKY_RELU_BACKPROP, { dy, x }, { alpha }) as tf.Tensor;
  }
  return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
}

/** Registers the wasm kernel and a LeakyRelu gradient that uses it there (exact to every order). */
export function registerWasmActivationKernels(): void {
  if (tf.getKernel(LEAKY_RELU_BACKPROP, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: LEAKY_RELU_BACKPROP, backendName: 'wasm', kernelFunc: leakyReluBackprop as KernelConfig['kernelFunc'] });
  }
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
