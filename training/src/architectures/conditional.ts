// Class-conditional DCGANs for labelled data, so a user can ask the generator for a given class.
//
// Generator G(z, y): y → Embedding(classes, embeddingSize), concatenated with z, then the DCGAN
// generator stack (Mirza & Osindero 2014). Two inputs: `latent` [batch, latentSize] float32 and
// `label` [batch, 1] int32.
//
// Discriminators, over the DCGAN feature extractor φ (the flattened conv features):
// - projection (Miyato & Koyama 2018): D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩; inputs `image` and `label`,
//   one logit out. It is trained with any unconditional objective, the label going in beside the image.
// - auxiliary classifier (AC-GAN, Odena et al. 2017): D(x) = [real/fake logit, class logits]; input
//   `image` only, two outputs [batch, 1] and [batch, classes].
//
// Training contract (for the strategy that drives these models):
// - Real batches carry their labels: the label of each drawn image, data.labels[index].
// - Fake batches draw labels from the data's own class frequencies (drawFakeLabels in data/labels.ts),
//   so a projection D cannot tell fakes by their label mix alone.
// - Projection: D loss = objective.discriminatorLoss(D(x, y), D(G(z, y'), y')), G loss =
//   objective.generatorLoss(D(G(z, y'), y')) — the unconditional objectives, unchanged.
// - AC-GAN: with [s, c] = D(x), D loss = objective.discriminatorLoss(s_real, s_fake) +
//   λ·(auxiliaryClassifierLoss(c_real, y) + auxiliaryClassifierLoss(c_fake, y')), G loss =
//   objective.generatorLoss(s_fake) + λ·auxiliaryClassifierLoss(c_fake, y'); λ = 1 in the paper.
// - Gradient penalties act on the image input only, with the labels held fixed.
// The class term lives in objectives/auxiliary-classifier.ts; strategies/game.ts composes the losses.
import * as tfl from '@tensorflow/tfjs-layers';
import {
  dcganDiscriminatorFeatureLayers,
  dcganDiscriminatorSeed,
  dcganGeneratorLayers,
  dcganInitializer,
  dcganLogitLayer,
  type DcganOptions,
} from './dcgan.js';

export interface ConditionalDcganOptions extends DcganOptions {
  /** Number of classes; labels are 0 … classes-1. */
  classes: number;
  /** Size of G's label embedding (concatenated with the latent); D's projection embedding has φ's size. */
  embeddingSize: number;
}

export const LATENT_INPUT = 'latent';
export const LABEL_INPUT = 'label';
export const IMAGE_INPUT = 'image';

/** Initialiser seeds of the label embeddings and the class head, clear of the DCGAN layers' seeds. */
const embeddingSeedOffset = 2000;

function checkConditionalOptions(o: ConditionalDcganOptions): void {
  if (!(Number.isInteger(o.classes) && o.classes >= 2))
    throw new RangeError(
      `classes must be an integer >= 2 (a conditional model needs labelled data with several classes); got ${o.classes}`,
    );
  if (!(Number.isInteger(o.embeddingSize) && o.embeddingSize >= 1))
    throw new RangeError(`embeddingSize must be a positive integer; got ${o.embeddingSize}`);
}

function labelInput(): tfl.SymbolicTensor {
  return tfl.input({ shape: [1], dtype: 'int32', name: LABEL_INPUT });
}

function applyAll(layers: tfl.layers.Layer[], input: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
}

/** The label's embedding row as a [batch, size] tensor. */
function embedLabel(
  label: tfl.SymbolicTensor,
  classes: number,
  size: number,
  initializer: ReturnType<typeof tfl.initializers.glorotUniform>,
  name: string,
): tfl.SymbolicTensor {
  const embedded = tfl.layers
    .embedding({ inputDim: classes, outputDim: size, embeddingsInitializer: initializer, name })
    .apply(label) as tfl.SymbolicTensor;
  return tfl.layers.flatten().apply(embedded) as tfl.SymbolicTensor;
}

/** G(z, y): inputs [latent, label], output images in [-1, 1]. */
export function buildConditionalGenerator(o: ConditionalDcganOptions): tfl.LayersModel {
  checkConditionalOptions(o);
  const latent = tfl.input({ shape: [o.latentSize], name: LATENT_INPUT });
  const label = labelInput();
  // N(0, 1) rows put the label code on the scale of the latent it is concatenated with.
  const code = embedLabel(
    label,
    o.classes,
    o.embeddingSize,
    tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: o.seed + embeddingSeedOffset }),
    'label_embedding',
  );
  const joined = tfl.layers.concatenate().apply([latent, code]) as tfl.SymbolicTensor;
  return tfl.model({ name: 'generator', inputs: [latent, label], outputs: applyAll(dcganGeneratorLayers(o), joined) });
}

function imageFeatures(o: ConditionalDcganOptions): { image: tfl.SymbolicTensor; features: tfl.SymbolicTensor } {
  const image = tfl.input({ shape: o.imageShape, name: IMAGE_INPUT });
  return { image, features: applyAll(dcganDiscriminatorFeatureLayers(o, false), image) };
}

/** Projection discriminator D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩: inputs [image, label], one logit. */
export function buildProjectionDiscriminator(o: ConditionalDcganOptions): tfl.LayersModel {
  checkConditionalOptions(o);
  const { image, features } = imageFeatures(o);
  const label = labelInput();
  const featureSize = features.shape[1] as number;
  const classEmbedding = embedLabel(
    label,
    o.classes,
    featureSize,
    tfl.initializers.glorotUniform({ seed: dcganDiscriminatorSeed(o) + embeddingSeedOffset }),
    'class_projection',
  );
  const unconditional = dcganLogitLayer(o).apply(features) as tfl.SymbolicTensor;
  const projection = tfl.layers.dot({ axes: 1 }).apply([features, classEmbedding]) as tfl.SymbolicTensor;
  return tfl.model({
    name: 'discriminator',
    inputs: [image, label],
    outputs: tfl.layers.add().apply([unconditional, projection]) as tfl.SymbolicTensor,
  });
}

/** AC-GAN discriminator D(x) = [real/fake logit [batch, 1], class logits [batch, classes]]. */
export function buildAuxiliaryClassifierDiscriminator(o: ConditionalDcganOptions): tfl.LayersModel {
  checkConditionalOptions(o);
  const { image, features } = imageFeatures(o);
  const logit = dcganLogitLayer(o).apply(features) as tfl.SymbolicTensor;
  const classLogits = tfl.layers
    .dense({
      units: o.classes,
      kernelInitializer: dcganInitializer(dcganDiscriminatorSeed(o) + embeddingSeedOffset),
      name: 'class_logits',
    })
    .apply(features) as tfl.SymbolicTensor;
  return tfl.model({ name: 'discriminator', inputs: image, outputs: [logit, classLogits] });
}
