// Public API of @gantry/export.
export {
  exportGenerator,
  ONNX_FILE,
  CARD_FILE,
  CONVERTERS,
  DEFAULT_PARITY_SAMPLES,
  DEFAULT_PARITY_TOLERANCE,
  FLOAT16_PARITY_TOLERANCE,
  type CheckerMode,
  type Converter,
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
} from './export.js';
export {
  convertLayersModel,
  SUPPORTED_OPSETS,
  DEFAULT_OPSET,
  OUTPUT_LAYOUTS,
  OUTPUT_PIXELS,
  WEIGHT_STORAGES,
  type ConvertOptions,
  type ConvertedInput,
  type ConvertedModel,
  type OutputLayout,
  type OutputPixels,
} from './convert/convert.js';
export { ExportError } from './errors.js';
export { layerConverters, SUPPORTED_LAYER_CLASSES } from './convert/layers.js';
export { SUPPORTED_ACTIVATIONS } from './convert/activations.js';
export type { GraphValue, LayerConverter, ConverterContext } from './convert/graph-value.js';
export { GraphBuilder, float16Bits, type AttributeValue, type ValueInfo, type WeightStorage } from './onnx/graph.js';
export { checkParity, ParityError, type ParityFeed, type ParityOutputFormat } from './parity.js';
export {
  findPythonWithOnnx,
  runOnnxChecker,
  OnnxCheckerError,
  ONNX_CHECKER_INSTALL_HINT,
  type CheckerReport,
} from './checker.js';
export { tritonConfig, writeTritonModel, DEFAULT_TRITON_MAX_BATCH, type TritonModel } from './triton.js';
export { convertWithTf2onnx, locateTf2onnxTools, tf2onnxCommands, TF2ONNX_INSTALL_HINT, type Tf2onnxTools } from './tf2onnx.js';
export { fileSystemModelHandler, loadLayersModelFromFile, saveModelFiles, ModelFileError } from './model-files.js';
