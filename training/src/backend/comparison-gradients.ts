// Comparison and logical ops are piecewise constant, so their gradient is zero almost everywhere.
// tfjs registers no gradient for them, which is harmless for first-order training but breaks every
// second-order one: the backward pass of Relu / LeakyRelu / Maximum calls Greater, and differentiating
// that backward pass (a gradient penalty, a Hessian-vector product) then fails with
// "gradient function not found for Greater". Registering the true zero gradient fixes that.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers the standard gradients on import; ours only fill the gaps.
import '@tensorflow/tfjs-layers';

export const zeroGradientKernels = ['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'GreaterEqual', 'LogicalAnd', 'LogicalOr'] as const;
export const zeroGradientUnaryKernels = ['LogicalNot'] as const;

/** Registers zero gradients for comparison ops that lack one (idempotent; existing ones are kept). */
export function registerComparisonGradients(): void {
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
