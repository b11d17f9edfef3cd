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
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './proto.js';

/**
 * A node attribute. A bare number is an INT and must be an integer; FLOAT attributes are written
 * `{ float: x }` so that a float that happens to be whole (alpha = 1) is never written as an INT.
 */
export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

/** A float32 graph input or output: dims as sizes or symbolic names (e.g. 'batch'). */
export interface ValueInfo {
  name: string;
  dims: (number | string)[];
}

export interface ModelOptions {
  opset: number;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function encodeAttribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`internal error: attribute "${name}" = ${value} is written as INT but is not an integer; use { float: ${value} }`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new Error(`internal error: attribute "${name}" = [${value.join(', ')}] is written as INTS but holds non-integers`);
    return { name, type: AttributeType.INTS, ints: value };
  }
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

function valueInfo({ name, dims }: ValueInfo): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: TensorDataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

const littleEndianHost = endianness() === 'LE';

/** The little-endian bytes raw_data must hold, whatever the host's byte order. */
function littleEndianBytes(values: Float32Array | BigInt64Array): Uint8Array {
  if (littleEndianHost) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new DataView(new ArrayBuffer(values.byteLength));
  if (values instanceof Float32Array) values.forEach((v, i) => out.setFloat32(i * 4, v, true));
  else values.forEach((v, i) => out.setBigInt64(i * 8, v, true));
  return new Uint8Array(out.buffer);
}

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  /** Every value name in use: inputs, initializers and node outputs. */
  private readonly defined = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

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

  /** Declares a float32 graph input; returns its name. */
  addInput(input: ValueInfo): string {
    this.inputs.push(input);
    return this.define(input.name);
  }

  /** Declares an existing value as a float32 graph output. */
  addOutput(output: ValueInfo): void {
    if (!this.defined.has(output.name)) throw new Error(`internal error: graph output "${output.name}" is not produced by any node`);
    this.outputs.push(output);
  }

  /**
   * Adds a constant (weights as float32, shapes and axes as int64) stored little-endian in raw_data;
   * returns its name.
   */
  addInitializer(prefix: string, dims: number[], values: Float32Array | BigInt64Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new Error(`internal error: initializer ${prefix} has ${values.length} values for dims [${dims.join(', ')}]`);
    const name = this.define(this.fresh(prefix));
    const dataType = values instanceof Float32Array ? TensorDataType.FLOAT : TensorDataType.INT64;
    this.initializers.push({ name, dims, data_type: dataType, raw_data: littleEndianBytes(values) });
    return name;
  }

  /** A 1-D int64 constant, the form Reshape's shape and similar operands take. */
  addInt64Vector(prefix: string, values: number[]): string {
    return this.addInitializer(prefix, [values.length], BigInt64Array.from(values, (v) => BigInt(v)));
  }

  /** Adds a node with one output and returns the output's name (`label` prefixes both names). */
  addNode(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, label = opType.toLowerCase()): string {
    for (const input of inputs) {
      // '' is ONNX's way of leaving out an optional input.
      if (input !== '' && !this.defined.has(input)) throw new Error(`internal error: ${opType} node "${label}" reads "${input}", which no earlier node, input or initializer defines`);
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

  get nodeCount(): number {
    return this.nodes.length;
  }

  toBytes(options: ModelOptions): Uint8Array {
    return encodeModel({
      ir_version: irVersionForOpset(options.opset),
      producer_name: 'gantry',
      producer_version: options.producerVersion,
      doc_string: options.docString ?? '',
      opset_import: [{ domain: '', version: options.opset }],
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
  }
}
