// tfjs-layers runs every Conv2D and Dense through `tf.fused.conv2d` / `tf.fused.matMul`. When their
// activation is linear (ours always is: batch norm or a separate activation layer follows) tfjs keeps
// the fused op even while gradients are recorded, and differentiates it with a custom gradient that
// computes the input, weight and bias gradients all at once, whether the backward pass needs them or
// not. A training step needs far fewer: the G update wants no gradient for D's kernels, the D update
// none for D's input image. That waste was about 6 % of a reference DCGAN step (one of its 13 large
// convolutions, plus the first layer's input gradients).
//
// While gradients are recorded, the two ops are re-routed here to their unfused form (the op, then the
// bias add), whose stock per-input gradients tfjs evaluates only for the inputs on the path to the
// weights being differentiated. Outside gradient recording (inference, export parity) and for
// non-linear activations (where tfjs itself unfuses), the stock functions run unchanged. The fused
// wasm kernel adds the bias inside the convolution, so a recorded forward pass and an inference one can
// differ in the last bits: compare them with a tolerance, never bitwise.
import * as tf from '@tensorflow/tfjs-core';

type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0];
type FusedMatMulArgs = Parameters<typeof tf.fused.matMul>[0];

const stock = { conv2d: tf.fused.conv2d, matMul: tf.fused.matMul };

function recordingLinear(args: { activation?: string; preluActivationWeights?: unknown }): boolean {
  return tf.engine().state.gradientDepth > 0 && (args.activation ?? 'linear') === 'linear' && args.preluActivationWeights == null;
}

function unfusedConv2d(args: FusedConv2dArgs): tf.Tensor {
  if (!recordingLinear(args) || (args.dataFormat ?? 'NHWC') !== 'NHWC') return stock.conv2d(args);
  const y = tf.conv2d(args.x as tf.Tensor4D, args.filter, args.strides, args.pad, 'NHWC', args.dilations, args.dimRoundingMode);
  return args.bias == null ? y : tf.add(y, args.bias);
}

function unfusedMatMul(args: FusedMatMulArgs): tf.Tensor {
  if (!recordingLinear(args)) return stock.matMul(args);
  const y = tf.matMul(args.a, args.b, args.transposeA, args.transposeB);
  return args.bias == null ? y : tf.add(y, args.bias);
}

/**
 * Routes recorded linear fused convolutions and matmuls to their unfused form (see the header).
 * `tf.fused` is a plain object shared by every importer of tfjs-core, tfjs-layers included. Idempotent.
 */
export function registerLazyFusedGradients(): void {
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d; matMul: typeof tf.fused.matMul };
  fused.conv2d = unfusedConv2d as typeof tf.fused.conv2d;
  fused.matMul = unfusedMatMul as typeof tf.fused.matMul;
}

/** Puts the stock fused ops back (tests compare the two). */
export function unregisterLazyFusedGradients(): void {
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d; matMul: typeof tf.fused.matMul };
  fused.conv2d = stock.conv2d;
  fused.matMul = stock.matMul;
}
