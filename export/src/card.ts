// The model card an export writes: the facts the exporter gathered (model inputs and output, ONNX file,
// parity, options), assembled and validated against the card schema before anything is written.
import { createHash } from 'node:crypto';
import { parseCard, type ExportSpec, type LatentSpec, type ModelCard } from '@gantry/core';
import { ONNX_FILE } from '@gantry/files/model-folder';

export interface CardFacts {
  name: string;
  description?: string;
  dataset: string;
  latent: LatentSpec & { inputName: string };
  /** A class-conditional generator's class input; `names` one per class when known. */
  classInput?: { name: string; classes: number; names?: readonly string[] };
  output: { name: string; shape: [number, number, number]; range: [number, number] };
  /** The ONNX file's bytes (hashed into the card). */
  onnx: Uint8Array;
  training?: ModelCard['training'];
  parity: ModelCard['parity'];
  metrics?: Record<string, number>;
  /** The export options; the output layout and pixels, opset and batch are also the card's. */
  export: ExportSpec;
}

/** The card for an exported generator, validated (a CardError names the field that does not fit). */
export function buildCard(facts: CardFacts): ModelCard {
  const { classInput, export: options } = facts;
  const card: ModelCard = {
    format: 'gantry-model-card/1',
    name: facts.name,
    description: facts.description ?? '',
    dataset: facts.dataset,
    latent: { size: facts.latent.size, distribution: facts.latent.distribution },
    ...(classInput === undefined
      ? {}
      : {
          classInput: {
            name: classInput.name,
            classes: classInput.classes,
            ...(classInput.names ? { names: [...classInput.names] } : {}),
          },
        }),
    output: { shape: facts.output.shape, layout: options.layout, range: facts.output.range, dtype: options.pixels },
    onnx: {
      file: ONNX_FILE,
      opset: options.opset,
      sha256: createHash('sha256').update(facts.onnx).digest('hex'),
      inputName: facts.latent.inputName,
      outputName: facts.output.name,
      batch: options.batch,
    },
    ...(facts.training === undefined ? {} : { training: facts.training }),
    parity: facts.parity,
    metrics: facts.metrics ?? {},
    export: options,
    createdAt: new Date().toISOString(),
  };
  return parseCard(card, `card for "${facts.name}"`);
}
