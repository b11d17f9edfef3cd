// Content negotiation and encoding of results: a grid picture (PNG, JPEG or WebP, integer upscaling),
// JSON with a base64 PNG per image plus latents and classes, a .npy array or raw float32 samples.
// Headers carry model names percent-encoded (RFC 8187 in Content-Disposition): a header value must be
// Latin-1, and model names may be any Unicode.

import { PNG } from 'pngjs';
import sharp from 'sharp';
import { encodeNpy } from '@gantry/files/npy';
import { encodePng, samplesToGridPixels, sampleAt, type RawImage } from '@gantry/files/image';
import type { Plan, Samples } from '../generator.js';
import { HttpError } from './errors.js';

export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'json' | 'npy' | 'f32';

export const MEDIA_TYPES: Record<OutputFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  json: 'application/json',
  npy: 'application/x-npy',
  f32: 'application/octet-stream',
};

export const IMAGE_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp', 'json', 'npy', 'f32'];
export const LATENT_FORMATS: readonly OutputFormat[] = ['json', 'npy', 'f32'];

/**
 * The format to answer with: `?format=` if given, else the Accept header's most preferred of `offered`
 * (RFC 9110 §12.5.1: the most specific range decides each type's quality); ties and wildcards go to
 * the first offered format, the default. 406 when the client accepts none.
 */
export function negotiate(
  accept: string | undefined,
  formatQuery: string | null,
  offered: readonly OutputFormat[],
): OutputFormat {
  if (formatQuery !== null) {
    const format = formatQuery as OutputFormat;
    if (!offered.includes(format))
      throw new HttpError(400, `format must be one of ${offered.join(', ')}, got ${JSON.stringify(formatQuery)}`, {
        parameter: 'format',
      });
    return format;
  }
  if (accept === undefined || accept.trim() === '') return offered[0]!;
  const quality = new Map<OutputFormat, { q: number; level: number }>();
  for (const part of accept.split(',').slice(0, 64)) {
    const [rawType, ...params] = part.trim().toLowerCase().split(';');
    const type = rawType!.trim();
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q < 0 || q > 1) continue;
    for (const format of offered) {
      const media = MEDIA_TYPES[format];
      const family = media.slice(0, media.indexOf('/'));
      const level = type === media ? 2 : type === `${family}/*` ? 1 : type === '*/*' ? 0 : -1;
      const seen = quality.get(format);
      if (level >= 0 && (seen === undefined || level > seen.level)) quality.set(format, { q, level });
    }
  }
  let best: OutputFormat | undefined;
  let bestQ = 0;
  for (const format of offered) {
    const q = quality.get(format)?.q ?? 0;
    if (q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  if (best === undefined) {
    throw new HttpError(
      406,
      `none of ${offered.map((f) => MEDIA_TYPES[f]).join(', ')} is acceptable (Accept: ${accept.slice(0, 200)})`,
      { offered: offered.map((f) => MEDIA_TYPES[f]) },
    );
  }
  return best;
}

/** A header value for any Unicode text: percent-encoded UTF-8 (ASCII stays as is, apart from % and controls). */
export function headerText(text: string): string {
  return encodeURIComponent(text);
}

/** Content-Disposition naming a file whose name may be any Unicode (RFC 6266 with RFC 8187's filename*). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export interface Encoded {
  body: Buffer;
  contentType: string;
  headers: Record<string, string>;
}

export interface PictureOptions {
  scale: number;
  columns?: number;
}

function rowsOf(values: Float32Array, rows: number): number[][] {
  const size = values.length / rows;
  return Array.from({ length: rows }, (_, i) => Array.from(values.subarray(i * size, (i + 1) * size)));
}

/** The raw float32 bytes of a typed array (little-endian, as every supported platform stores them). */
function float32Bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Raw bytes below which PNGs are encoded on this thread by pngjs. */
const SMALL_PNG_BYTES = 1 << 18;

/**
 * A PNG of raw pixels. Small pictures (the common one-digit answer) are encoded by pngjs on this
 * thread, several times cheaper than a sharp pipeline; larger ones go to sharp, off the event loop.
 */
async function pngOf(image: RawImage): Promise<Buffer> {
  if (image.data.length > SMALL_PNG_BYTES) return encodePng(image);
  const colorType = image.channels === 1 ? 0 : 2;
  return PNG.sync.write(
    {
      width: image.width,
      height: image.height,
      data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    } as PNG,
    {
      colorType,
      inputColorType: colorType,
      inputHasAlpha: false,
      bitDepth: 8,
      filterType: 4,
      // zlib's output buffer, 32 KiB by default: allocating that for a 1 KiB picture costs more than
      // compressing it. The bytes are the same whatever the buffer size.
      deflateChunkSize: Math.max(1024, Math.min(32 * 1024, image.data.length + image.height + 64)),
    },
  );
}

async function gridPicture(result: Samples, format: 'png' | 'jpeg' | 'webp', options: PictureOptions): Promise<Buffer> {
  const image = samplesToGridPixels(result.samples, result.rows, result.shape, result.range, {
    scale: options.scale,
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
  });
  if (format === 'png') return pngOf(image);
  const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  return format === 'jpeg' ? pipeline.jpeg({ quality: 90 }).toBuffer() : pipeline.webp({ lossless: true }).toBuffer();
}

/**
 * Encodes generated samples in `format`. `extra` adds fields to the JSON form (seed, key frames...);
 * the headers say the model (percent-encoded), the sample count and shape.
 */
export async function encodeSamples(
  model: string,
  result: Samples,
  format: OutputFormat,
  options: PictureOptions,
  extra: Record<string, unknown> = {},
): Promise<Encoded> {
  const headers: Record<string, string> = {
    'x-gantry-model': headerText(model),
    'x-gantry-n': String(result.rows),
    'x-gantry-shape': [result.rows, ...result.shape].join(','),
    ...(typeof extra.seed === 'number' ? { 'x-gantry-seed': String(extra.seed) } : {}),
    ...(result.classes !== null
      ? {
          'x-gantry-class': result.classes.every((c) => c === result.classes![0])
            ? String(result.classes[0])
            : result.classes.join(','),
        }
      : {}),
  };
  switch (format) {
    case 'png':
    case 'jpeg':
    case 'webp': {
      const body = await gridPicture(result, format, options);
      return {
        body,
        contentType: MEDIA_TYPES[format],
        headers: { ...headers, 'content-disposition': contentDisposition(`${model}.${format === 'jpeg' ? 'jpg' : format}`) },
      };
    }
    case 'npy':
      return {
        body: Buffer.from(encodeNpy(result.samples, [result.rows, ...result.shape])),
        contentType: MEDIA_TYPES.npy,
        headers,
      };
    case 'f32':
      return { body: float32Bytes(result.samples), contentType: MEDIA_TYPES.f32, headers };
    case 'json': {
      const images = await Promise.all(
        Array.from({ length: result.rows }, async (_, i) => {
          const image = samplesToGridPixels(sampleAt(result.samples, result.shape, i), 1, result.shape, result.range, {
            padding: 0,
            scale: options.scale,
          });
          return (await pngOf(image)).toString('base64');
        }),
      );
      const body = {
        model,
        n: result.rows,
        shape: result.shape,
        range: result.range,
        ...extra,
        classes: result.classes === null ? null : Array.from(result.classes),
        latents: rowsOf(result.latents, result.rows),
        images,
      };
      return { body: Buffer.from(`${JSON.stringify(body)}\n`), contentType: 'application/json; charset=utf-8', headers };
    }
  }
}

/** Encodes latents alone (the /latents endpoint): JSON rows, .npy or raw float32. */
export function encodeLatents(model: string, plan: Plan, format: OutputFormat, extra: Record<string, unknown> = {}): Encoded {
  const size = plan.latents.length / plan.rows;
  const headers = { 'x-gantry-model': headerText(model), 'x-gantry-shape': `${plan.rows},${size}` };
  if (format === 'npy')
    return { body: Buffer.from(encodeNpy(plan.latents, [plan.rows, size])), contentType: MEDIA_TYPES.npy, headers };
  if (format === 'f32') return { body: float32Bytes(plan.latents), contentType: MEDIA_TYPES.f32, headers };
  return {
    body: Buffer.from(`${JSON.stringify({ model, ...extra, latents: rowsOf(plan.latents, plan.rows) })}\n`),
    contentType: 'application/json; charset=utf-8',
    headers,
  };
}
