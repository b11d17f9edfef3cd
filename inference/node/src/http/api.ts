// The model endpoints: a validated body becomes a Generator plan, the plan is checked against the work
// limits, run (sharing onnxruntime runs with concurrent requests), and encoded in the negotiated format.

import { randomInt } from 'node:crypto';
import { GantryError } from '@gantry/core';
import type { Generator, Plan, Samples } from '../generator.js';
import { UnknownModelError, type ModelRegistry } from '../registry.js';
import { encodeLatents, encodeSamples, IMAGE_FORMATS, LATENT_FORMATS, negotiate, type Encoded } from './encoding.js';
import { HttpError } from './errors.js';
import type { ModelAction } from './routes.js';
import { arithmeticBody, generateBody, interpolateBody, latentsBody, parseBody } from './schemas.js';

export const DEFAULT_N = 16;

export interface Limits {
  /** Most images (rows) one request may produce. */
  maxRows: number;
  /** Most output values one request may produce: rows × height × width × channels × scale². */
  maxWork: number;
}

export interface ActionContext {
  registry: ModelRegistry;
  limits: Limits;
  accept: string | undefined;
  formatQuery: string | null;
  signal: AbortSignal;
  /** Told why a request was refused before it ran (metrics). */
  reject(reason: string): void;
}

export function requireGenerator(registry: ModelRegistry, name: string): Generator {
  try {
    return registry.generator(name);
  } catch (error) {
    if (error instanceof UnknownModelError) throw new HttpError(404, error.message, { code: error.code, known: error.known });
    throw error;
  }
}

/**
 * Planning turns client input into latents; everything it refuses is the client's mistake (a latent of
 * the wrong size, a class out of range, too many frames) and becomes a 400 with the library's message.
 */
function plan<P>(make: () => P): P {
  try {
    return make();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (error instanceof GantryError || error instanceof RangeError || error instanceof TypeError) {
      const parameter = (error as { parameter?: unknown }).parameter;
      throw new HttpError(400, error.message, {
        code: error instanceof GantryError ? error.code : 'invalid-request',
        ...(typeof parameter === 'string' ? { parameter } : {}),
      });
    }
    throw error;
  }
}

function checkWork(context: ActionContext, generator: Generator, rows: number, scale: number): void {
  const { maxRows, maxWork } = context.limits;
  if (rows > maxRows) {
    context.reject('work_limit');
    throw new HttpError(400, `the request makes ${rows} images; this server allows at most ${maxRows} per request`, {
      code: 'work-limit',
      limit: maxRows,
    });
  }
  const work = rows * generator.sampleSize * scale * scale;
  if (work > maxWork) {
    context.reject('work_limit');
    throw new HttpError(
      400,
      `the request makes ${rows} images of ${generator.shape.join('×')} at scale ${scale} (${work} values); this server allows at most ${maxWork} (images × pixels × channels × scale²)`,
      {
        code: 'work-limit',
        limit: maxWork,
      },
    );
  }
}

async function runPlan<P extends Plan>(
  context: ActionContext,
  generator: Generator,
  planned: P,
  scale: number,
): Promise<P & Samples> {
  checkWork(context, generator, planned.rows, scale);
  return generator.run(planned, { signal: context.signal });
}

/** Latents a request names (seeds and explicit latents, in every term): checked before any is computed. */
function checkNamed(
  context: ActionContext,
  sources: readonly { seeds?: readonly number[]; latents?: readonly unknown[] }[],
): void {
  const named = sources.reduce((sum, source) => sum + (source.seeds?.length ?? 0) + (source.latents?.length ?? 0), 0);
  if (named > context.limits.maxRows) {
    context.reject('work_limit');
    throw new HttpError(
      400,
      `the request names ${named} latents; this server allows at most ${context.limits.maxRows} per request`,
      {
        code: 'work-limit',
        limit: context.limits.maxRows,
      },
    );
  }
}

/** Handles POST /v1/models/:name/:action (and GET grid.png as a generate) with a parsed JSON body. */
export async function modelAction(context: ActionContext, name: string, action: ModelAction, body: unknown): Promise<Encoded> {
  const generator = requireGenerator(context.registry, name);
  switch (action) {
    case 'generate': {
      const request = parseBody(generateBody, body);
      checkNamed(context, [request]);
      const format = negotiate(context.accept, context.formatQuery, IMAGE_FORMATS);
      const named = request.seeds !== undefined || request.latents !== undefined;
      // {n, seed} with either left out: 16 images, or a random seed that the response reports.
      const filled = named
        ? request
        : {
            ...request,
            n: request.n ?? Math.min(DEFAULT_N, context.limits.maxRows),
            seed: request.seed ?? randomInt(0, 2 ** 32),
          };
      if (!named && filled.n! > context.limits.maxRows) checkWork(context, generator, filled.n!, 1);
      const scale = request.scale ?? 1;
      const result = await runPlan(
        context,
        generator,
        plan(() => generator.planGenerate(filled)),
        scale,
      );
      return encodeSamples(
        name,
        result,
        format,
        { scale, ...(request.columns !== undefined ? { columns: request.columns } : {}) },
        result.seed === null ? {} : { seed: result.seed },
      );
    }
    case 'interpolate': {
      const request = parseBody(interpolateBody, body);
      checkNamed(context, [request]);
      const format = negotiate(context.accept, context.formatQuery, IMAGE_FORMATS);
      const scale = request.scale ?? 1;
      const result = await runPlan(
        context,
        generator,
        plan(() => generator.planInterpolate(request)),
        scale,
      );
      const columns = request.columns ?? Math.min(result.rows, request.steps > 16 ? request.steps - 1 : 16);
      return encodeSamples(name, result, format, { scale, columns }, { keyFrames: result.keyFrames });
    }
    case 'arithmetic': {
      const request = parseBody(arithmeticBody, body);
      checkNamed(context, request.terms);
      const format = negotiate(context.accept, context.formatQuery, IMAGE_FORMATS);
      const scale = request.scale ?? 1;
      const result = await runPlan(
        context,
        generator,
        plan(() => generator.planArithmetic(request)),
        scale,
      );
      // One row, as in the DCGAN paper's figure: each term's mean image, then the result.
      return encodeSamples(name, result, format, { scale, columns: result.rows }, { coefs: request.terms.map((t) => t.coef) });
    }
    case 'latents': {
      const request = parseBody(latentsBody, body);
      checkNamed(context, [request]);
      const format = negotiate(context.accept, context.formatQuery, LATENT_FORMATS);
      const planned = plan(() => generator.latents(request));
      if (planned.rows > context.limits.maxRows) checkWork(context, generator, planned.rows, 1);
      return encodeLatents(name, planned, format, { seeds: request.seeds });
    }
  }
}

/** GET /v1/models/:name/grid.png?n=&seed=&scale=&class=: the query as a generate body (digits only). */
export function gridQueryBody(params: URLSearchParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const number = (value: string): unknown => (/^\d{1,10}$/.test(value) ? Number(value) : value);
  for (const [key, value] of params) {
    if (key === 'format') continue;
    if (key === 'class') body.class = value.includes(',') ? value.split(',').map(number) : number(value);
    else body[key] = number(value);
  }
  return body;
}
