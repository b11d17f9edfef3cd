// AC-GAN's class term (Odena et al. 2017): the mean softmax cross-entropy of D's class logits c
// against the class labels y, −log softmax(c)_y = logsumexp(c) − c_y. Written from logSumExp and a
// one-hot mask rather than tf.losses.softmaxCrossEntropy: that op's custom gradient is computed from a
// saved log-softmax that a second backward pass cannot trace (tfjs 4.22 throws "Cannot compute
// gradient"), and unrolled and best-response training differentiate D's loss twice.
import * as tf from '@tensorflow/tfjs-core';

/** Mean softmax cross-entropy of class logits [batch, classes] against integer labels [batch] or [batch, 1]. */
export function auxiliaryClassifierLoss(classLogits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (classLogits.rank !== 2)
    throw new RangeError(
      `auxiliaryClassifierLoss: class logits must be [batch, classes], got shape [${classLogits.shape.join(', ')}]`,
    );
  const [batch, classes] = classLogits.shape as [number, number];
  if (labels.size !== batch || labels.shape[0] !== batch) {
    throw new RangeError(
      `auxiliaryClassifierLoss: labels must hold one class per sample ([${batch}] or [${batch}, 1]), got shape [${labels.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.reshape(tf.cast(labels, 'int32'), [batch]) as tf.Tensor1D, classes);
    const labelLogits = tf.sum(tf.mul(oneHot, classLogits), 1);
    return tf.mean(tf.sub(tf.logSumExp(classLogits, 1), labelLogits));
  });
}
