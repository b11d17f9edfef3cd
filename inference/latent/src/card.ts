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
  /** Shape of one sample without the batch axis: [height, width, channels]. */
  shape: [number, number, number];
  layout: 'NHWC';
  /** Range of the generator's raw output values, e.g. [-1, 1] for tanh. */
  range: [number, number];
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
  output: OutputSpec;
  onnx: OnnxSpec;
  training: {
    configSha256: string;
    steps: number;
    wallSeconds: number;
    backend: string;
  };
  parity: { maxAbsDiff: number; samples: number };
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
  if (output.layout !== 'NHWC') throw fieldError(where, 'output.layout', output.layout, '"NHWC"');
  const onnx = requireRecord(json, 'onnx', where);
  const batch = onnx.batch;
  if (batch !== null && !(typeof batch === 'number' && Number.isInteger(batch) && batch > 0)) {
    throw fieldError(where, 'onnx.batch', batch, 'null (dynamic) or a positive integer');
  }
  const sha256 = requireString(onnx, 'sha256', `${where} onnx`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw fieldError(where, 'onnx.sha256', sha256, '64 lowercase hex digits');
  const training = requireRecord(json, 'training', where);
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
    output: {
      shape: requireTuple(output, 'shape', `${where} output`, 3, true) as [number, number, number],
      layout: 'NHWC',
      range: requireTuple(output, 'range', `${where} output`, 2, false) as [number, number],
    },
    onnx: {
      file: requireString(onnx, 'file', `${where} onnx`),
      opset: requireNumber(onnx, 'opset', `${where} onnx`, { integer: true, min: 7 }),
      sha256,
      inputName: requireString(onnx, 'inputName', `${where} onnx`),
      outputName: requireString(onnx, 'outputName', `${where} onnx`),
      batch: batch as number | null,
    },
    training: {
      configSha256: requireString(training, 'configSha256', `${where} training`),
      steps: requireNumber(training, 'steps', `${where} training`, { integer: true, min: 0 }),
      wallSeconds: requireNumber(training, 'wallSeconds', `${where} training`, { min: 0 }),
      backend: requireString(training, 'backend', `${where} training`),
    },
    parity: {
      maxAbsDiff: requireNumber(parity, 'maxAbsDiff', `${where} parity`, { min: 0 }),
      samples: requireNumber(parity, 'samples', `${where} parity`, { integer: true, min: 0 }),
    },
    metrics: metrics as Record<string, number>,
    createdAt: requireString(json, 'createdAt', where),
  };
}
