// Downloading a model's ONNX file with progress, checking it against the card's SHA-256, and keeping it in
// the Cache API under that hash: a new export (new hash) is downloaded again, an unchanged one never is,
// whatever URL serves it. The hash is computed with crypto.subtle, or with @noble/hashes where the page is
// not a secure context (plain http on a LAN address, where crypto.subtle and caches do not exist).

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { GantryError } from '@gantry/core';

/** The Cache API cache that holds ONNX files. */
export const MODEL_CACHE_NAME = 'gantry-models';

export interface DownloadProgress {
  loaded: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
  /** True when the bytes came from the Cache API. */
  cached: boolean;
}

export interface FetchModelOptions {
  /** Use the Cache API (default true where it exists). */
  cache?: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  fetch?: typeof fetch;
}

export interface FetchedModel {
  bytes: Uint8Array;
  cached: boolean;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Lowercase hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle !== undefined) return hex(new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
  return hex(nobleSha256(bytes));
}

/** The cache key of a file with this hash: a URL under the page's origin that no server is asked for. */
export function cacheKey(sha256: string, base: string): string {
  return new URL(`/.gantry-model-cache/sha256/${sha256}`, base).href;
}

async function readWithProgress(
  response: Response,
  cached: boolean,
  onProgress?: (progress: DownloadProgress) => void,
): Promise<Uint8Array> {
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  if (response.body === null) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: bytes.length, cached });
    return bytes;
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.({ loaded, total, cached });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress?.({ loaded, total, cached });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function cacheStorage(enabled: boolean): CacheStorage | undefined {
  if (!enabled) return undefined;
  return (globalThis as { caches?: CacheStorage }).caches;
}

/**
 * The ONNX file at `url`, whose SHA-256 must be `sha256` (the card's onnx.sha256): from the cache when a
 * verified copy is there, else downloaded, verified and cached. A file that does not match is refused.
 */
export async function fetchModel(url: string, sha256: string, options: FetchModelOptions = {}): Promise<FetchedModel> {
  const storage = cacheStorage(options.cache ?? true);
  const key = cacheKey(sha256, url);
  let store: Cache | undefined;
  try {
    store = await storage?.open(MODEL_CACHE_NAME);
  } catch {
    store = undefined; // e.g. storage disabled in a private window: download every time
  }
  const hit = await store?.match(key);
  if (hit !== undefined) {
    const bytes = await readWithProgress(hit, true, options.onProgress);
    // A cached copy is checked too: a corrupt entry is dropped and downloaded again.
    if ((await sha256Hex(bytes)) === sha256) return { bytes, cached: true };
    await store?.delete(key);
  }
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url);
  } catch (error) {
    throw new GantryError(
      'model-download',
      `${url}: could not download the model: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!response.ok)
    throw new GantryError(
      'model-download',
      `${url}: the server answered ${response.status} ${response.statusText}; expected the ONNX file`,
    );
  const bytes = await readWithProgress(response, false, options.onProgress);
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) {
    throw new GantryError(
      'model-checksum',
      `${url}: SHA-256 is ${actual} but card.json's onnx.sha256 is ${sha256}; the file is damaged or belongs to another export`,
    );
  }
  try {
    await store?.put(
      key,
      new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }),
    );
  } catch {
    // Quota exceeded or storage disabled: the model still runs, it is only downloaded again next time.
  }
  return { bytes, cached: false };
}
