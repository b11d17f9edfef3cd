// Gradients that second-order differentiation (gradient penalties, Hessian-vector products, unrolled
// updates) needs and tfjs gets wrong or lacks.
//
// 1. Comparison and logical ops are piecewise constant, so their gradient is zero almost everywhere.
// tfjs registers no gradient for them, which is harmless for first-order training but breaks every
// second-order one: the backward pass of Relu / LeakyRelu / Maximum calls Greater, and differentiating
// that backward pass (a gradient penalty, a Hessian-vector product) then fails with
// "gradient function not found for Greater". Registering the true zero gradient fixes that.
//
// 2. tfjs computes the gradients of Tanh, Sigmoid and Exp from the op's saved *output*. A second
// backward pass cannot see that output depends on the input, so the f'' term is silently dropped
// (tensorflow/tfjs#3252): a gradient penalty on a tanh critic gets a wrong weight gradient, no error.
// Here they are recomputed from the saved input, which keeps every derivative order exact.
//
// 3. Conv2DBackpropFilter has no gradient in tfjs. Mixed second derivatives ∂²L/∂θG∂θD (best-response
// training, Hessian-vector products) differentiate D's weight gradient with respect to D's input, which
// runs straight through it.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers the standard gradients on import; ours only fill the gaps.
import '@tensorflow/tfjs-layers';

export const zeroGradientKernels = [
  'Greater',
  'Less',
  'LessEqual',
  'Equal',
  'NotEqual',
  'GreaterEqual',
  'LogicalAnd',
  'LogicalOr',
] as const;
export const zeroGradientUnaryKernels = ['LogicalNot'] as const;

const fromInput: { kernelName: string; derivative: (x: tf.Tensor) => tf.Tensor }[] = [
  { kernelName: 'Tanh', derivative: (x) => tf.sub(1, tf.square(tf.tanh(x))) },
  { kernelName: 'Sigmoid', derivative: (x) => tf.mul(tf.sigmoid(x), tf.sub(1, tf.sigmoid(x))) },
  { kernelName: 'Exp', derivative: (x) => tf.exp(x) },
];

/**
 * Registers zero gradients for comparison ops that lack one (existing ones are kept) and replaces the
 * output-based gradients of Tanh, Sigmoid and Exp by input-based ones. Idempotent.
 */
export function registerSecondOrderGradients(): void {
  // dW = Σ x ⊗ dy over positions, so for an upstream G shaped like dW: d<G, dW>/dx is the transposed
  // convolution of dy with G, and d<G, dW>/ddy is the convolution of x with G.
  tf.registerGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (upstream, saved, attrs) => {
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = upstream as tf.Tensor4D;
      const { strides, pad, dimRoundingMode } = attrs as {
        strides: [number, number];
        pad: 'same' | 'valid' | number;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      return {
        x: () => tf.conv2dTranspose(dy, g, x.shape, strides, pad as 'same' | 'valid', dimRoundingMode),
        dy: () => tf.conv2d(x, g, strides, pad, 'NHWC', 1, dimRoundingMode),
      };
    },
  });
  for (const { kernelName, derivative } of fromInput) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => tf.mul(dy as tf.Tensor, derivative(x)) };
      },
    });
  }
  for (const kernelName of zeroGradientKernels) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as [tf.Tensor, tf.Tensor];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
  for (const kernelName of zeroGradientUnaryKernels) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (_dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => tf.zerosLike(x) };
      },
    });
  }
}
