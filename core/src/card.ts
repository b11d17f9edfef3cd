// The model card is the contract between export and every runtime: inference trusts it,
// so it is validated field by field with errors that name the field and what is allowed.

export type LatentDistribution = 'normal' | 'uniform';

export interface LatentSpec {
  /** Number of latent dimensions. */
  size: number;
  /** `normal`: N(0, 1) per dimension; `uniform`: U[-1, 1) per dimension. */
  distribution: LatentDistribution;
}

export interface OutputSpec {
  /** Shape of one sample without the batch axis: [height, width, channels], whatever the layout. */
  shape: [number, number, number];
  /** Axis order of the ONNX output: NHWC (tfjs' order) or NCHW (channels first). */
  layout: 'NHWC' | 'NCHW';
  /** Range of the generator's raw output values, e.g. [-1, 1] for tanh. */
  range: [number, number];
  /**
   * Element type of the ONNX output: 'float32' (absent in older cards) holds the raw values; 'uint8'
   * holds pixels, `range` mapped to 0…255 inside the model.
   */
  dtype?: 'float32' | 'uint8';
}

/**
 * A class-conditional generator's second input: int64 class indices, 0 … classes − 1, of shape [batch, 1]
 * (what Gantry's exporter writes) or [batch]; runtimes read the rank from the ONNX file.
 */
export interface ClassInputSpec {
  /** The ONNX input's name. */
  name: string;
  classes: number;
  /** What each class index means (e.g. the training data's class folders), when known. */
  names?: string[];
}

/** How the ONNX file was produced: every export option, so the export can be repeated. */
export interface ExportSpec {
  converter: 'gantry' | 'tf2onnx';
  opset: number;
  /** `null` when the batch axis is dynamic. */
  batch: number | null;
  layout: 'NHWC' | 'NCHW';
  pixels: 'float32' | 'uint8';
  /** Storage of the weights in the file; float16 weights are cast to float32 inside the model. */
  weights: 'float32' | 'float16';
  /** Whether BatchNormalization layers were folded into the convolution or Dense before them. */
  foldBatchNorm: boolean;
  /** The parity limit the export was held to (max absolute difference from tfjs). */
  parityTolerance: number;
  /** The onnx package version whose checker (full_check) passed the model; `null` when it was not run. */
  onnxChecker: string | null;
  /** Wall time of the export (load, convert, verify, write), in seconds. */
  seconds: number;
}

export interface OnnxSpec {
  file: string;
  opset: number;
  sha256: string;
  inputName: string;
  outputName: string;
  /** `null` when the batch axis is dynamic. */
  batch: number | null;
}

export interface ModelCard {
  format: 'gantry-model-card/1';
  name: string;
  description: string;
  dataset: string;
  latent: LatentSpec;
  /** Present for class-conditional generators only. */
  classInput?: ClassInputSpec;
  output: OutputSpec;
  onnx: OnnxSpec;
  /** Absent for a generator exported from a tfjs model.json that Gantry did not train. */
  training?: {
    configSha256: string;
    steps: number;
    wallSeconds: number;
    backend: string;
  };
  parity: { maxAbsDiff: number; samples: number };
  /** Absent in cards written before export options were recorded. */
  export?: ExportSpec;
  metrics: Record<string, number>;
  createdAt: string;
}

export class CardError extends Error {
  override name = 'CardError';
}

type Json = unknown;

function fieldError(where: string, field: string, got: Json, allowed: string): CardError {
  return new CardError(`${where}: field "${field}" is ${JSON.stringify(got)}; expected ${allowed}`);
}

function isRecord(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireRecord(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const value = obj[key];
  if (!isRecord(value)) throw fieldError(where, key, value, 'an object');
  return value;
}

function requireString(obj: Record<string, unknown>, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) throw fieldError(where, key, value, 'a non-empty string');
  return value;
}

function requireNumber(
  obj: Record<string, unknown>,
  key: string,
  where: string,
  { integer = false, min = -Infinity }: { integer?: boolean; min?: number } = {},
): number {
  const value = obj[key];
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
  if (!ok) throw fieldError(where, key, value, `${integer ? 'an integer' : 'a finite number'}${min > -Infinity ? ` >= ${min}` : ''}`);
  return value as number;
}

function requireTuple(obj: Record<string, unknown>, key: string, where: string, length: number, integer: boolean): number[] {
  const value = obj[key];
  const ok =
    Array.isArray(value) &&
    value.length === length &&
    value.every((v) => typeof v === 'number' && Number.isFinite(v) && (!integer || (Number.isInteger(v) && v > 0)));
  if (!ok) throw fieldError(where, key, value, `an array of ${length} ${integer ? 'positive integers' : 'numbers'}`);
  return value as number[];
}

function parseClassInput(json: Record<string, unknown>, where: string): ClassInputSpec {
  const spec: ClassInputSpec = { name: requireString(json, 'name', `${where} classInput`), classes: requireNumber(json, 'classes', `${where} classInput`, { integer: true, min: 1 }) };
  if (json.names === undefined) return spec;
  const names = json.names;
  if (!(Array.isArray(names) && names.length === spec.classes && names.every((n) => typeof n === 'string' && n.length > 0))) {
    throw fieldError(`${where} classInput`, 'names', names, `an array of ${spec.classes} non-empty strings, one per class`);
  }
  return { ...spec, names: [...(names as string[])] };
}

function requireChoice<T extends string>(obj: Record<string, unknown>, key: string, where: string, choices: readonly T[]): T {
  const value = obj[key];
  if (!choices.includes(value as T)) throw fieldError(where, key, value, choices.map((c) => JSON.stringify(c)).join(' or '));
  return value as T;
}

function parseExportSpec(json: Record<string, unknown>, where: string): ExportSpec {
  const at = `${where} export`;
  const batch = json.batch;
  if (batch !== null && !(typeof batch === 'number' && Number.isInteger(batch) && batch > 0)) throw fieldError(at, 'batch', batch, 'null (dynamic) or a positive integer');
  if (typeof json.foldBatchNorm !== 'boolean') throw fieldError(at, 'foldBatchNorm', json.foldBatchNorm, 'true or false');
  const checker = json.onnxChecker;
  if (checker !== null && !(typeof checker === 'string' && checker.length > 0)) throw fieldError(at, 'onnxChecker', checker, 'the onnx version that checked the model, or null');
  return {
    converter: requireChoice(json, 'converter', at, ['gantry', 'tf2onnx'] as const),
    opset: requireNumber(json, 'opset', at, { integer: true, min: 7 }),
    batch: batch as number | null,
    layout: requireChoice(json, 'layout', at, ['NHWC', 'NCHW'] as const),
    pixels: requireChoice(json, 'pixels', at, ['float32', 'uint8'] as const),
    weights: requireChoice(json, 'weights', at, ['float32', 'float16'] as const),
    foldBatchNorm: json.foldBatchNorm,
    parityTolerance: requireNumber(json, 'parityTolerance', at, { min: 0 }),
    onnxChecker: checker as string | null,
    seconds: requireNumber(json, 'seconds', at, { min: 0 }),
  };
}

/** Validates parsed JSON as a model card; `where` names the file in error messages. */
export function parseCard(json: Json, where = 'card.json'): ModelCard {
  if (!isRecord(json)) throw new CardError(`${where}: expected a JSON object, got ${JSON.stringify(json)}`);
  if (json.format !== 'gantry-model-card/1') {
    throw fieldError(where, 'format', json.format, '"gantry-model-card/1"');
  }
  const latent = requireRecord(json, 'latent', where);
  const distribution = latent.distribution;
  if (distribution !== 'normal' && distribution !== 'uniform') {
    throw fieldError(where, 'latent.distribution', distribution, '"normal" or "uniform"');
  }
  const output = requireRecord(json, 'output', where);
  if (output.layout !== 'NHWC' && output.layout !== 'NCHW') throw fieldError(where, 'output.layout', output.layout, '"NHWC" or "NCHW"');
  if (output.dtype !== undefined && output.dtype !== 'float32' && output.dtype !== 'uint8') throw fieldError(where, 'output.dtype', output.dtype, '"float32" or "uint8" (or absent)');
  const onnx = requireRecord(json, 'onnx', where);
  const batch = onnx.batch;
  if (batch !== null && !(typeof batch === 'number' && Number.isInteger(batch) && batch > 0)) {
    throw fieldError(where, 'onnx.batch', batch, 'null (dynamic) or a positive integer');
  }
  const sha256 = requireString(onnx, 'sha256', `${where} onnx`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw fieldError(where, 'onnx.sha256', sha256, '64 lowercase hex digits');
  const training = json.training === undefined ? undefined : requireRecord(json, 'training', where);
  const parity = requireRecord(json, 'parity', where);
  const metrics = json.metrics === undefined ? {} : json.metrics;
  if (!isRecord(metrics) || !Object.values(metrics).every((v) => typeof v === 'number')) {
    throw fieldError(where, 'metrics', metrics, 'an object of numbers');
  }
  return {
    format: 'gantry-model-card/1',
    name: requireString(json, 'name', where),
    description: typeof json.description === 'string' ? json.description : '',
    dataset: requireString(json, 'dataset', where),
    latent: { size: requireNumber(latent, 'size', `${where} latent`, { integer: true, min: 1 }), distribution },
    ...(json.classInput === undefined ? {} : { classInput: parseClassInput(requireRecord(json, 'classInput', where), where) }),
    output: {
      shape: requireTuple(output, 'shape', `${where} output`, 3, true) as [number, number, number],
      layout: output.layout,
      range: requireTuple(output, 'range', `${where} output`, 2, false) as [number, number],
      ...(output.dtype === undefined ? {} : { dtype: output.dtype }),
    },
    onnx: {
      file: requireString(onnx, 'file', `${where} onnx`),
      opset: requireNumber(onnx, 'opset', `${where} onnx`, { integer: true, min: 7 }),
      sha256,
      inputName: requireString(onnx, 'inputName', `${where} onnx`),
      outputName: requireString(onnx, 'outputName', `${where} onnx`),
      batch: batch as number | null,
    },
    ...(training === undefined
      ? {}
      : {
          training: {
            configSha256: requireString(training, 'configSha256', `${where} training`),
            steps: requireNumber(training, 'steps', `${where} training`, { integer: true, min: 0 }),
            wallSeconds: requireNumber(training, 'wallSeconds', `${where} training`, { min: 0 }),
            backend: requireString(training, 'backend', `${where} training`),
          },
        }),
    parity: {
      maxAbsDiff: requireNumber(parity, 'maxAbsDiff', `${where} parity`, { min: 0 }),
      samples: requireNumber(parity, 'samples', `${where} parity`, { integer: true, min: 0 }),
    },
    ...(json.export === undefined ? {} : { export: parseExportSpec(requireRecord(json, 'export', where), where) }),
    metrics: metrics as Record<string, number>,
    createdAt: requireString(json, 'createdAt', where),
  };
}
