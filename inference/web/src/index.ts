// @gantry/inference-web: Gantry generators in the browser (onnxruntime-web on WebGPU or WebAssembly).
export {
  Generator,
  Samples,
  cardUrl,
  type Arithmetic,
  type ClassOption,
  type Interpolation,
  type LoadOptions,
  type LoadProgress,
} from './generator.js';
export {
  chooseBackend,
  threadCount,
  browserEnvironment,
  DEVICE_REQUESTS,
  MAX_THREADS,
  type Backend,
  type BackendChoice,
  type BrowserEnvironment,
  type DeviceRequest,
} from './backend.js';
export {
  fetchModel,
  sha256Hex,
  cacheKey,
  MODEL_CACHE_NAME,
  type DownloadProgress,
  type FetchModelOptions,
} from './model-cache.js';
export { sampleRgba, drawImage, drawGrid, type SampleShape } from './images.js';
export { SerialQueue } from './serial-queue.js';
export type { ArithmeticTerm, ClassRequest, GenerateRequest, InterpolationRequest, ModelCard } from '@gantry/core';
