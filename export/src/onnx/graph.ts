// A small typed builder for ONNX graphs, so that each layer converter is a few addNode /
// addInitializer calls. Every value name is unique (ONNX graphs are in SSA form) and every node input
// must already exist when the node is added, which also keeps the nodes topologically sorted as ONNX
// requires.
import { endianness } from 'node:os';
import {
  AttributeType,
  encodeModel,
  irVersionForOpset,
  TensorDataType,
  type AttributeMessage,
  type GraphMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from '@gantry/files/onnx';
import { moveActivationsPastReshapes } from './activations-past-reshape.js';
import { foldLayoutTransposes } from './fold-layout-transposes.js';

/**
 * A node attribute. A bare number is an INT and must be an integer; FLOAT attributes are written
 * `{ float: x }` so that a float that happens to be whole (alpha = 1) is never written as an INT.
 */
export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

/** Element types of graph inputs and outputs (weights are float32 or float16, shapes int64). */
export type ElementType = 'float32' | 'int64' | 'uint8';

const ELEMENT_TYPE_CODES: Record<ElementType, number> = {
  float32: TensorDataType.FLOAT,
  int64: TensorDataType.INT64,
  uint8: TensorDataType.UINT8,
};

/** A graph input or output: dims as sizes or symbolic names (e.g. 'batch'); float32 unless `type` says otherwise. */
export interface ValueInfo {
  name: string;
  dims: (number | string)[];
  type?: ElementType;
}

/** How learned weights are stored: float32, or float16 cast back to float32 inside the graph. */
export type WeightStorage = 'float32' | 'float16';

export interface ModelOptions {
  opset: number;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
  /**
   * Whether to run the graph passes (default true; false gives the graph as built, for tests): fold layout
   * Transposes into the weights, then move Dense layers' activations past the Reshape into images.
   */
  optimize?: boolean;
}

function encodeAttribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value))
      throw new Error(
        `internal error: attribute "${name}" = ${value} is written as INT but is not an integer; use { float: ${value} }`,
      );
    return { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger))
      throw new Error(`internal error: attribute "${name}" = [${value.join(', ')}] is written as INTS but holds non-integers`);
    return { name, type: AttributeType.INTS, ints: value };
  }
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

function valueInfo({ name, dims, type = 'float32' }: ValueInfo): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ELEMENT_TYPE_CODES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

const littleEndianHost = endianness() === 'LE';

/** The little-endian bytes raw_data must hold, whatever the host's byte order. */
function littleEndianBytes(values: Float32Array | BigInt64Array | Uint16Array): Uint8Array {
  if (littleEndianHost) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new DataView(new ArrayBuffer(values.byteLength));
  if (values instanceof Float32Array) values.forEach((v, i) => out.setFloat32(i * 4, v, true));
  else if (values instanceof Uint16Array) values.forEach((v, i) => out.setUint16(i * 2, v, true));
  else values.forEach((v, i) => out.setBigInt64(i * 8, v, true));
  return new Uint8Array(out.buffer);
}

const float32Scratch = new Float32Array(1);
const float32Bits = new Uint32Array(float32Scratch.buffer);

/**
 * IEEE 754 binary16 bits of a number, rounded to nearest (ties to even) from its float32 value, with
 * subnormals; values beyond ±65504 become ±Infinity, as in every float16 conversion.
 */
export function float16Bits(value: number): number {
  float32Scratch[0] = value;
  const bits = float32Bits[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  // Keep `kept` bits of the (implicit-1) mantissa and round the `shift` dropped ones to nearest even;
  // a carry out of the mantissa correctly bumps the exponent (up to Infinity).
  const roundShift = (significand: number, shift: number): number => {
    if (shift > 24) return 0;
    const kept = significand >>> shift;
    const dropped = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return dropped > halfway || (dropped === halfway && (kept & 1) === 1) ? kept + 1 : kept;
  };
  if (halfExponent <= 0) return sign | roundShift(mantissa | 0x800000, 14 - halfExponent);
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  /** Every value name in use: inputs, initializers and node outputs. */
  private readonly defined = new Set<string>();
  private counter = 0;

  constructor(
    readonly name: string,
    /** How addWeight stores learned weights. */
    readonly weightStorage: WeightStorage = 'float32',
  ) {}

  /** A value name not yet in use, starting with `prefix`. */
  fresh(prefix: string): string {
    const base = prefix.replace(/[^A-Za-z0-9_.-]/g, '_') || 'value';
    let name: string;
    do name = `${base}_${this.counter++}`;
    while (this.defined.has(name));
    return name;
  }

  private define(name: string): string {
    if (this.defined.has(name)) throw new Error(`internal error: ONNX value "${name}" is defined twice`);
    this.defined.add(name);
    return name;
  }

  /** Declares a graph input; returns its name. */
  addInput(input: ValueInfo): string {
    this.inputs.push(input);
    return this.define(input.name);
  }

  /** Declares an existing value as a graph output. */
  addOutput(output: ValueInfo): void {
    if (!this.defined.has(output.name))
      throw new Error(`internal error: graph output "${output.name}" is not produced by any node`);
    this.outputs.push(output);
  }

  /**
   * Adds a float32 constant (parameters of an op) or an int64 one (shapes, axes), little-endian in raw_data;
   * returns its name.
   */
  addInitializer(prefix: string, dims: number[], values: Float32Array | BigInt64Array): string {
    return this.addTypedInitializer(
      prefix,
      dims,
      values instanceof Float32Array ? TensorDataType.FLOAT : TensorDataType.INT64,
      values,
    );
  }

  /**
   * Adds a learned weight (kernel, bias, statistics, embeddings) in the builder's weight storage: as
   * float32, or as float16 followed by a Cast to float32, so the graph still computes in float32 while
   * the file holds half the bytes. Returns the name of the float32 value. `what` names the weight in
   * the error raised when a value does not fit in float16.
   */
  addWeight(prefix: string, dims: number[], values: Float32Array, what = prefix): string {
    if (this.weightStorage === 'float32') return this.addInitializer(prefix, dims, values);
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      half[i] = float16Bits(values[i]!);
      if ((half[i]! & 0x7c00) === 0x7c00 && Number.isFinite(values[i]!)) {
        throw new RangeError(
          `${what}: value ${values[i]} at index ${i} does not fit in float16 (largest magnitude 65504); export with float32 weights`,
        );
      }
    }
    const stored = this.addTypedInitializer(`${prefix}_fp16`, dims, TensorDataType.FLOAT16, half);
    return this.addNode('Cast', [stored], { to: TensorDataType.FLOAT }, `${prefix}_fp32`);
  }

  private addTypedInitializer(
    prefix: string,
    dims: number[],
    dataType: TensorMessage['data_type'],
    values: Float32Array | BigInt64Array | Uint16Array,
  ): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected)
      throw new Error(`internal error: initializer ${prefix} has ${values.length} values for dims [${dims.join(', ')}]`);
    const name = this.define(this.fresh(prefix));
    this.initializers.push({ name, dims, data_type: dataType, raw_data: littleEndianBytes(values) });
    return name;
  }

  /** A 1-D int64 constant, the form Reshape's shape and similar operands take. */
  addInt64Vector(prefix: string, values: number[]): string {
    return this.addInitializer(
      prefix,
      [values.length],
      BigInt64Array.from(values, (v) => BigInt(v)),
    );
  }

  /** Adds a node with one output and returns the output's name (`label` prefixes both names). */
  addNode(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    label = opType.toLowerCase(),
  ): string {
    for (const input of inputs) {
      // '' is ONNX's way of leaving out an optional input.
      if (input !== '' && !this.defined.has(input))
        throw new Error(
          `internal error: ${opType} node "${label}" reads "${input}", which no earlier node, input or initializer defines`,
        );
    }
    const output = this.define(this.fresh(label));
    this.nodes.push({
      op_type: opType,
      name: `${label}/${opType}_${this.nodes.length}`,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => encodeAttribute(key, value)),
    });
    return output;
  }

  /** Renames a node output (and its uses), e.g. to give the graph output a chosen name. */
  renameValue(from: string, to: string): void {
    if (from === to) return;
    const producer = this.nodes.find((node) => node.output.includes(from));
    if (producer === undefined) throw new Error(`internal error: only node outputs can be renamed, and "${from}" is not one`);
    this.define(to);
    this.defined.delete(from);
    for (const node of this.nodes) {
      node.output = node.output.map((o) => (o === from ? to : o));
      node.input = node.input.map((i) => (i === from ? to : i));
    }
  }

  toBytes(options: ModelOptions): Uint8Array {
    const graph: GraphMessage = {
      name: this.name,
      node: this.nodes.map((node) => ({ ...node, output: [...node.output] })),
      initializer: this.initializers.map((tensor) => ({ ...tensor })),
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
    };
    if (options.optimize ?? true) {
      foldLayoutTransposes(graph);
      moveActivationsPastReshapes(graph);
    }
    return encodeModel({
      ir_version: irVersionForOpset(options.opset),
      producer_name: 'gantry',
      producer_version: options.producerVersion,
      doc_string: options.docString ?? '',
      opset_import: [{ domain: '', version: options.opset }],
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph,
    });
  }
}
