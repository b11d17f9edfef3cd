// The exporter's failure: a model or an option it cannot turn into a valid ONNX file. The message names the
// layer, file or option and what is supported.
import { GantryError, type GantryErrorOptions } from '@gantry/core';

export class ExportError extends GantryError {
  override name = 'ExportError';
  constructor(message: string, options: GantryErrorOptions = {}) {
    super('export', message, options);
  }
}
