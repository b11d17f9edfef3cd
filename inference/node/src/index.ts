// Public API of @gantry/inference-node. Importing it does not load onnxruntime-node: the runtime is
// loaded on the first createSession / ModelRegistry.load. Code that needs only images or .npy files
// can also import '@gantry/files/image'.
export * from './onnx-runtime.js';
export * from './registry.js';
export * from './generator.js';
export * from './batcher.js';
export * from './server.js';
export { canonicalSamples, onnxSampleDims, outputDtype, PIXEL_RANGE, type CanonicalSamples, type RawSamples } from '@gantry/core';
