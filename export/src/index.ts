// Public API of @gantry/export.
export { exportGenerator, ONNX_FILE, CARD_FILE, type ExportOptions, type ExportProgress, type ExportResult } from './export.js';
export { convertLayersModel, SUPPORTED_OPSETS, type ConvertOptions, type ConvertedModel } from './convert/convert.js';
export { ExportError, layerConverters } from './convert/layers.js';
export { measureParity, ParityError, type ParityResult } from './parity.js';
