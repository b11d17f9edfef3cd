// Public API of @gantry/export.
export {
  exportGenerator,
  ONNX_FILE,
  CARD_FILE,
  DEFAULT_PARITY_SAMPLES,
  DEFAULT_PARITY_TOLERANCE,
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
} from './export.js';
export { convertLayersModel, SUPPORTED_OPSETS, DEFAULT_OPSET, type ConvertOptions, type ConvertedModel } from './convert/convert.js';
export { ExportError, layerConverters, SUPPORTED_LAYER_CLASSES, SUPPORTED_ACTIVATIONS, type GraphValue, type LayerConverter } from './convert/layers.js';
export { GraphBuilder, type AttributeValue, type ValueInfo } from './onnx/graph.js';
export { checkParity, ParityError } from './parity.js';
export { fileSystemModelHandler, loadLayersModelFromFile, ModelFileError } from './model-files.js';
