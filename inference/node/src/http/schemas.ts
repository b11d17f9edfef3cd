// The request bodies of the HTTP API as zod schemas: one definition validates requests and writes
// /openapi.json. The schemas check shape and type; what the values mean for a given model (latent size,
// class count, seed ranges, frame counts) is checked by @gantry/core's requests.ts when a request is
// planned, so the browser and the CLI refuse exactly what the server refuses.

import { z } from 'zod';
import { MAX_INTERPOLATION_STEPS, MAX_LATENT_ROWS } from '@gantry/core';
import { HttpError } from './errors.js';

const UINT32_MAX = 0xffffffff;
export const MAX_SCALE = 8;
const MAX_COLUMNS = 256;
/** Nesting deeper than this is refused before parsing: no API body nests more than 4 levels. */
export const MAX_JSON_DEPTH = 16;

const seed = z.int().min(0).max(UINT32_MAX).describe('a seed, 0 … 2^32 − 1; a seed names one latent');
const seeds = z.array(seed).min(1).max(MAX_LATENT_ROWS).describe('one latent per seed');
const latents = z
  .array(z.array(z.number()).min(1))
  .min(1)
  .max(MAX_LATENT_ROWS)
  .describe("explicit latent vectors, each of the model's latent size");
const truncation = z
  .number()
  .describe('truncation threshold in standard deviations (normal latents): larger components are redrawn from the same seed');
const classIndex = z.int().min(0).describe('a class index (class-conditional models)');
const classRequest = z
  .union([classIndex, z.array(classIndex).min(1).max(MAX_LATENT_ROWS)], {
    error: 'must be a class index (an integer ≥ 0) for every sample, or an array of them, one per sample',
  })
  .describe('one class for every sample, or one per sample');
const scale = z.int().min(1).max(MAX_SCALE).describe('integer upscaling of each image (nearest neighbour)');
const columns = z.int().min(1).max(MAX_COLUMNS).describe('images per grid row');

const picture = { scale: scale.optional(), columns: columns.optional() };

export const generateBody = z
  .strictObject({
    n: z.int().min(1).max(MAX_LATENT_ROWS).optional().describe('with seed: n latents drawn from one seed (default 16)'),
    seed: seed.optional(),
    seeds: seeds.optional(),
    latents: latents.optional(),
    truncation: truncation.optional(),
    class: classRequest.optional(),
    ...picture,
  })
  .describe('Latents named by {n, seed} (a random seed when left out), by seeds, or given as latents: one of the three.');

export const interpolateBody = z
  .strictObject({
    seeds: seeds.optional().describe('key points named by seeds'),
    latents: latents.optional().describe('key points given as latents'),
    steps: z.int().min(2).max(MAX_INTERPOLATION_STEPS).describe('frames per segment, both key points included'),
    method: z.enum(['lerp', 'slerp']).optional().describe('default slerp'),
    loop: z.boolean().optional().describe('return from the last key point to the first'),
    truncation: truncation.optional(),
    class: classIndex.optional().describe('conditional models: one class for every frame'),
    classes: z
      .array(classIndex)
      .min(2)
      .max(MAX_LATENT_ROWS)
      .optional()
      .describe('conditional models: one class per key point; each frame takes the class of the nearer key point'),
    ...picture,
  })
  .describe('Frames through key points k0 → k1 → … (→ k0 with loop).');

const term = z
  .strictObject({
    coef: z.number().describe('the term’s coefficient, in [-100, 100]'),
    seeds: seeds.optional(),
    latents: latents.optional(),
  })
  .describe('the mean of its latents, times coef');

export const arithmeticBody = z
  .strictObject({
    terms: z.array(term).min(1).max(16),
    truncation: truncation.optional(),
    class: classIndex.optional().describe('conditional models: the class of every image'),
    scale: scale.optional(),
  })
  .describe('DCGAN vector arithmetic: the result is Σ coef · mean(term); the images are each term’s mean, then the result.');

export const latentsBody = z
  .strictObject({
    seeds,
    truncation: truncation.optional(),
  })
  .describe('The latents that seeds name, for clients doing their own latent math.');

export type GenerateBody = z.infer<typeof generateBody>;
export type InterpolateBody = z.infer<typeof interpolateBody>;
export type ArithmeticBody = z.infer<typeof arithmeticBody>;
export type LatentsBody = z.infer<typeof latentsBody>;

/** Validates `value` against `schema`; a failure is a 400 naming the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
  const first = issues[0]!;
  const parameter = result.error.issues[0]!.path[0];
  throw new HttpError(400, `${first.path}: ${first.message}`, {
    code: 'invalid-request',
    ...(parameter !== undefined ? { parameter: String(parameter) } : {}),
    issues,
  });
}

/** Depth of the deepest array or object in JSON text (strings skipped), without parsing it. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export const IMAGE_MEDIA_TYPES = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'application/json',
  'application/x-npy',
  'application/octet-stream',
] as const;
export const LATENT_MEDIA_TYPES = ['application/json', 'application/x-npy', 'application/octet-stream'] as const;

/** The OpenAPI 3.1 description of the API, built from the same schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const schema = (s: z.ZodType): unknown => z.toJSONSchema(s, { io: 'input' });
  const name = {
    name: 'name',
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: 'the model name (percent-encoded)',
  };
  const format = {
    name: 'format',
    in: 'query',
    required: false,
    schema: { type: 'string', enum: ['png', 'jpeg', 'webp', 'json', 'npy', 'f32'] },
    description: 'overrides the Accept header',
  };
  const errors = {
    '400': { description: 'invalid request: {"error": message, ...}' },
    '404': { description: 'unknown model' },
    '406': { description: 'no acceptable output format' },
    '415': { description: 'the body is not application/json' },
    '429': { description: 'the model’s queue is full; see Retry-After' },
  };
  const post = (summary: string, body: z.ZodType, media: readonly string[]): Record<string, unknown> => ({
    post: {
      summary,
      parameters: [name, format],
      requestBody: { required: true, content: { 'application/json': { schema: schema(body) } } },
      responses: {
        '200': {
          description: 'PNG/JPEG/WebP grid; JSON with base64 PNG images, latents and classes; .npy or raw float32 (NHWC) samples',
          content: Object.fromEntries(media.map((type) => [type, {}])),
        },
        ...errors,
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry model server', version: '1' },
    paths: {
      '/healthz': {
        get: {
          summary: 'liveness and the served models',
          responses: { '200': { description: '{"status":"ok","models":[...]}' } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/v1/models': { get: { summary: 'every served model card', responses: { '200': { description: '{"models":[cards]}' } } } },
      '/v1/models/{name}': {
        get: {
          summary: 'one model card',
          parameters: [name],
          responses: { '200': { description: 'the card' }, '404': errors['404'] },
        },
      },
      '/v1/models/{name}/generate': post('images from seeds or latents', generateBody, IMAGE_MEDIA_TYPES),
      '/v1/models/{name}/interpolate': post('a walk through latent space between key points', interpolateBody, IMAGE_MEDIA_TYPES),
      '/v1/models/{name}/arithmetic': post('latent vector arithmetic (A − B + C)', arithmeticBody, IMAGE_MEDIA_TYPES),
      '/v1/models/{name}/latents': post('the latents of seeds', latentsBody, LATENT_MEDIA_TYPES),
      '/models/index.json': {
        get: {
          summary: 'names of the served models (for the browser runtime)',
          responses: { '200': { description: '{"models":[names]}' } },
        },
      },
      '/models/{name}/card.json': {
        get: { summary: 'the card file', parameters: [name], responses: { '200': { description: 'card.json' } } },
      },
    },
  };
}
