// Access to a tfjs layers model's trainable weights: as the variables an optimizer updates, and as
// substitutes for one forward pass. Unrolled and best-response training evaluate D at weights that
// are not its variables' values (D after K simulated updates, or under a Hessian-vector product),
// and need gradients to flow into those weight tensors. tfjs-layers has no API for that, but every
// built-in layer reads its weights through LayerVariable.read() when called, so replacing read() on
// each trainable weight for the duration of the call evaluates the model at the substitutes. This
// leans on a tfjs-layers internal: model-weights.test.ts guards it. Non-trainable weights (batch
// norm's moving statistics) are left as they are.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

type LayerVariable = tfl.LayersModel['trainableWeights'][number];

/** The tf.Variables behind a model's trainable weights, in the model's order (the order optimizers key their state by). */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/**
 * Runs `fn` with `model`'s trainable weights replaced by `substitutes` (same order and shapes as
 * model.trainableWeights), then restores them, also when `fn` throws. Calls may not nest for one model.
 */
export function withSubstituteWeights<T>(model: tfl.LayersModel, substitutes: readonly tf.Tensor[], fn: () => T): T {
  const weights = model.trainableWeights;
  if (substitutes.length !== weights.length) {
    throw new RangeError(
      `withSubstituteWeights: ${model.name} has ${weights.length} trainable weights, got ${substitutes.length} substitutes`,
    );
  }
  weights.forEach((weight, i) => {
    const shape = substitutes[i]!.shape;
    if (shape.join(',') !== weight.shape.join(',')) {
      throw new RangeError(
        `withSubstituteWeights: ${weight.name} has shape [${weight.shape.join(', ')}], its substitute [${shape.join(', ')}]`,
      );
    }
    if (Object.hasOwn(weight, 'read')) throw new Error(`withSubstituteWeights: ${model.name}'s weights are already substituted`);
  });
  try {
    weights.forEach((weight, i) => {
      (weight as LayerVariable & { read: () => tf.Tensor }).read = () => substitutes[i]!;
    });
    return fn();
  } finally {
    // Removing the own property uncovers LayerVariable.prototype.read again.
    for (const weight of weights) delete (weight as Partial<LayerVariable>).read;
  }
}
