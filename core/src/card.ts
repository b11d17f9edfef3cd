// The model card is the contract between export and every runtime: inference trusts it, so it is
// validated field by field with errors that name the field and what is allowed. The zod schema below is
// the single definition: the TypeScript types are inferred from it. It is written with zod/mini, whose
// functions tree-shake, because the browser package bundles it: classic zod adds about 90 KB gzipped.

import * as z from 'zod/mini';
import { GantryError } from './errors.js';

/** A card that does not match the schema; the message names the file, the field and what is allowed. */
export class CardError extends GantryError {
  override name = 'CardError';
  constructor(message: string) {
    super('card-invalid', message);
  }
}

// Every check of one field shares one description of what is allowed, so a failure says it once.
const allowed = (text: string) => ({ error: text });
const integerAtLeast = (min: number) =>
  z.int(allowed(`an integer >= ${min}`)).check(z.minimum(min, allowed(`an integer >= ${min}`)));
const numberAtLeast = (min: number) =>
  z.number(allowed(`a finite number >= ${min}`)).check(z.minimum(min, allowed(`a finite number >= ${min}`)));
const nonEmptyString = z.string(allowed('a non-empty string')).check(z.minLength(1, allowed('a non-empty string')));
const choice = <const T extends readonly [string, ...string[]]>(values: T, suffix = '') =>
  z.enum(values, allowed(values.map((v) => JSON.stringify(v)).join(' or ') + suffix));
const batchText = allowed('null (dynamic) or a positive integer');
const dynamicBatch = z.union([z.null(), z.int(batchText).check(z.positive(batchText))], batchText);
const positiveTriple = allowed('an array of 3 positive integers');
const positiveInteger = z.int(positiveTriple).check(z.positive(positiveTriple));
const finiteNumber = (text: string) => z.number(allowed(text));
const layout = choice(['NHWC', 'NCHW']);

const latentSchema = z.object(
  {
    /** Number of latent dimensions. */
    size: integerAtLeast(1),
    /** `normal`: N(0, 1) per dimension; `uniform`: U[-1, 1) per dimension. */
    distribution: choice(['normal', 'uniform']),
  },
  allowed('an object'),
);

const outputSchema = z.object(
  {
    /** Shape of one sample without the batch axis: [height, width, channels], whatever the layout. */
    shape: z.tuple([positiveInteger, positiveInteger, positiveInteger], positiveTriple),
    /** Axis order of the ONNX output: NHWC (tfjs' order) or NCHW (channels first). */
    layout,
    /** Range of the generator's raw output values, e.g. [-1, 1] for tanh. */
    range: z.tuple(
      [finiteNumber('an array of 2 numbers'), finiteNumber('an array of 2 numbers')],
      allowed('an array of 2 numbers'),
    ),
    /**
     * Element type of the ONNX output: 'float32' (absent in older cards) holds the raw values; 'uint8'
     * holds pixels, `range` mapped to 0…255 inside the model.
     */
    dtype: z.optional(choice(['float32', 'uint8'], ' (or absent)')),
  },
  allowed('an object'),
);

/**
 * A class-conditional generator's second input: int64 class indices, 0 … classes − 1, of shape [batch, 1]
 * (what Gantry's exporter writes) or [batch]; runtimes read the rank from the ONNX file.
 */
const classInputSchema = z
  .object(
    {
      /** The ONNX input's name. */
      name: nonEmptyString,
      classes: integerAtLeast(1),
      /** What each class index means (e.g. the training data's class folders), when known. */
      names: z.optional(z.array(nonEmptyString, allowed('an array of non-empty strings, one per class'))),
    },
    allowed('an object'),
  )
  .check((ctx) => {
    const { names, classes } = ctx.value;
    if (names !== undefined && names.length !== classes) {
      ctx.issues.push({
        code: 'custom',
        input: names,
        path: ['names'],
        message: `an array of ${classes} non-empty strings, one per class`,
      });
    }
  });

const checkerText = allowed('the onnx version that checked the model, or null');

/** How the ONNX file was produced: every export option, so the export can be repeated. */
const exportSchema = z.object(
  {
    converter: choice(['gantry', 'tf2onnx']),
    opset: integerAtLeast(7),
    /** `null` when the batch axis is dynamic. */
    batch: dynamicBatch,
    layout,
    pixels: choice(['float32', 'uint8']),
    /** Storage of the weights in the file; float16 weights are cast to float32 inside the model. */
    weights: choice(['float32', 'float16']),
    /** Whether BatchNormalization layers were folded into the convolution or Dense before them. */
    foldBatchNorm: z.boolean(allowed('true or false')),
    /** The parity limit the export was held to (max absolute difference from tfjs). */
    parityTolerance: numberAtLeast(0),
    /** The onnx package version whose checker (full_check) passed the model; `null` when it was not run. */
    onnxChecker: z.union([z.null(), z.string(checkerText).check(z.minLength(1, checkerText))], checkerText),
    /** Wall time of the export (load, convert, verify, write), in seconds. */
    seconds: numberAtLeast(0),
  },
  allowed('an object'),
);

const onnxSchema = z.object(
  {
    file: nonEmptyString,
    opset: integerAtLeast(7),
    sha256: z.string(allowed('64 lowercase hex digits')).check(z.regex(/^[0-9a-f]{64}$/, allowed('64 lowercase hex digits'))),
    inputName: nonEmptyString,
    outputName: nonEmptyString,
    /** `null` when the batch axis is dynamic. */
    batch: dynamicBatch,
  },
  allowed('an object'),
);

export const modelCardSchema = z.object({
  format: z.literal('gantry-model-card/1', allowed('"gantry-model-card/1"')),
  name: nonEmptyString,
  description: z._default(z.catch(z.string(), ''), ''),
  dataset: nonEmptyString,
  latent: latentSchema,
  /** Present for class-conditional generators only. */
  classInput: z.optional(classInputSchema),
  output: outputSchema,
  onnx: onnxSchema,
  /** Absent for a generator exported from a tfjs model.json that Gantry did not train. */
  training: z.optional(
    z.object(
      {
        configSha256: nonEmptyString,
        steps: integerAtLeast(0),
        wallSeconds: numberAtLeast(0),
        backend: nonEmptyString,
      },
      allowed('an object'),
    ),
  ),
  parity: z.object({ maxAbsDiff: numberAtLeast(0), samples: integerAtLeast(0) }, allowed('an object')),
  /** Absent in cards written before export options were recorded. */
  export: z.optional(exportSchema),
  metrics: z._default(z.record(z.string(), z.number(allowed('a number')), allowed('an object of numbers')), {}),
  createdAt: nonEmptyString,
});

export type ModelCard = z.output<typeof modelCardSchema>;
export type LatentSpec = ModelCard['latent'];
export type LatentDistribution = LatentSpec['distribution'];
export type OutputSpec = ModelCard['output'];
export type ClassInputSpec = NonNullable<ModelCard['classInput']>;
export type ExportSpec = NonNullable<ModelCard['export']>;
export type OnnxSpec = ModelCard['onnx'];

function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}

/** The value at `path` inside parsed JSON, or undefined where the path leaves it (for messages about a field's value). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Validates parsed JSON as a model card; `where` names the file in error messages. */
export function parseCard(json: unknown, where = 'card.json'): ModelCard {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CardError(`${where}: expected a JSON object, got ${JSON.stringify(json)}`);
  }
  const result = modelCardSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = new Set<string>();
  for (const issue of result.error.issues) {
    // An element of a tuple or list is reported as the whole field ("shape" is [28, 0, 1]).
    const path = issue.path.filter((key) => typeof key === 'string');
    const field = path.at(-1) ?? '';
    const parent = path.slice(0, -1).join('.');
    problems.add(
      `${where}${parent ? ` ${parent}` : ''}: field "${field}" is ${show(valueAt(json, path))}; expected ${issue.message}`,
    );
  }
  throw new CardError([...problems].join('\n'));
}
