// Which onnxruntime-web backend a generator runs on, and with how many threads. 'auto' asks the browser
// for a real WebGPU adapter (navigator.gpu existing is not enough: it can be present with no adapter
// behind it) and otherwise falls back to WebAssembly, saying why, so a page can show it.

import { GantryError } from '@gantry/core';

export type DeviceRequest = 'auto' | 'webgpu' | 'wasm';
export type Backend = 'webgpu' | 'wasm';

export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'webgpu', 'wasm'];

/** The backend a generator got, and why. */
export interface BackendChoice {
  backend: Backend;
  /** WebAssembly threads (onnxruntime's numThreads): more than 1 only when the page is cross-origin isolated. */
  threads: number;
  /** One sentence a page can show: why this backend and this thread count. */
  reason: string;
}

/** The part of WebGPU's `navigator.gpu` this module needs (so the package needs no WebGPU type package). */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<AdapterLike | null>;
}

/** A WebGPU adapter as far as the choice needs it; `isFallbackAdapter` marks a software one (SwiftShader). */
export interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  /** Where older browsers put the flag. */
  isFallbackAdapter?: boolean;
}

/** What the browser offers: `navigator.gpu`, isolation and cores; read from the page by {@link browserEnvironment}. */
export interface BrowserEnvironment {
  gpu: GpuLike | undefined;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/** Most threads a generator asks for: more only adds start-up time for these small models. */
export const MAX_THREADS = 16;

export function browserEnvironment(): BrowserEnvironment {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike; hardwareConcurrency?: number } }).navigator;
  return {
    gpu: nav?.gpu,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    hardwareConcurrency: nav?.hardwareConcurrency ?? 1,
  };
}

/**
 * The wasm thread count: `requested` if given (it needs cross-origin isolation above 1), else every core
 * when the page is cross-origin isolated (SharedArrayBuffer exists only there), else 1.
 */
export function threadCount(env: BrowserEnvironment, requested?: number): { threads: number; why: string } {
  if (requested !== undefined) {
    if (!(Number.isInteger(requested) && requested >= 1 && requested <= MAX_THREADS)) {
      throw new GantryError('device', `threads must be an integer in [1, ${MAX_THREADS}], got ${String(requested)}`);
    }
    if (requested > 1 && !env.crossOriginIsolated) {
      throw new GantryError(
        'device',
        `threads ${requested} needs a cross-origin isolated page ` +
          '(serve it with COOP: same-origin and COEP: require-corp); use threads 1',
      );
    }
    return { threads: requested, why: `${requested} thread${requested === 1 ? '' : 's'} as asked` };
  }
  if (!env.crossOriginIsolated)
    return { threads: 1, why: '1 thread: the page is not cross-origin isolated (no COOP/COEP headers)' };
  const threads = Math.max(1, Math.min(MAX_THREADS, env.hardwareConcurrency));
  return { threads, why: `${threads} thread${threads === 1 ? '' : 's'}, one per core (cross-origin isolated)` };
}

function describeAdapter(adapter: AdapterLike): string {
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.description]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  return name === '' ? 'a WebGPU adapter' : `WebGPU adapter ${name}`;
}

/** Picks the backend for `device`; an explicit 'webgpu' without an adapter is refused with the reason. */
export async function chooseBackend(device: DeviceRequest, env: BrowserEnvironment, threads?: number): Promise<BackendChoice> {
  if (!DEVICE_REQUESTS.includes(device)) {
    throw new GantryError(
      'device',
      `device must be one of ${DEVICE_REQUESTS.map((d) => `"${d}"`).join(', ')}, got ${JSON.stringify(device)}`,
    );
  }
  const wasm = threadCount(env, threads);
  if (device === 'wasm') return { backend: 'wasm', threads: wasm.threads, reason: `wasm as asked; ${wasm.why}` };
  let missing: string;
  if (env.gpu === undefined) {
    missing = 'this browser has no WebGPU (navigator.gpu is missing)';
  } else {
    let adapter: AdapterLike | null = null;
    let failure = '';
    try {
      adapter = await env.gpu.requestAdapter({ powerPreference: 'high-performance' });
    } catch (error) {
      failure = `: ${error instanceof Error ? error.message : String(error)}`;
    }
    const software = adapter !== null && (adapter.info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true);
    if (adapter !== null && software && device === 'auto') {
      // A software adapter runs these models tens of times slower than WebAssembly does.
      return {
        backend: 'wasm',
        threads: wasm.threads,
        reason:
          `auto chose wasm: the only ${describeAdapter(adapter)} is a software fallback, ` +
          `slower than WebAssembly; ${wasm.why}`,
      };
    }
    if (adapter !== null) {
      const how = device === 'auto' ? 'auto found' : 'webgpu as asked, on';
      const reason = `${how} ${describeAdapter(adapter)}${software ? ' (a software fallback)' : ''}`;
      return { backend: 'webgpu', threads: wasm.threads, reason };
    }
    missing = `navigator.gpu.requestAdapter() gave no adapter${failure}`;
  }
  if (device === 'webgpu')
    throw new GantryError('device', `device "webgpu" is unavailable: ${missing}; use device "wasm" or "auto"`);
  return { backend: 'wasm', threads: wasm.threads, reason: `auto fell back to wasm: ${missing}; ${wasm.why}` };
}
