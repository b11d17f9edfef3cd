// Public API of @gantry/files: the Node-only file formats every stage shares. Each part is also its
// own entry point (`@gantry/files/npy`, `/image`, ...), so a caller loads only what it uses.
export * from './atomic.js';
export * from './npy.js';
export * from './image.js';
export * from './onnx-proto.js';
export * from './model-folder.js';
