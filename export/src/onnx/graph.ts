// A small builder for ONNX graphs: converters add initializers and nodes by name, and the builder
// serialises the whole model with protobufjs.
import { AttributeType, irVersionForOpset, ModelProto, TensorDataType } from './proto.js';

export type AttributeValue = number | string | number[] | { floats: number[] } | { int: number } | { float: number };

/** A graph input or output: element type float32, dims as numbers or symbolic names ('batch'). */
export interface ValueInfo {
  name: string;
  dims: (number | string)[];
}

interface NodeRecord {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
}

function encodeAttribute(name: string, value: AttributeValue): object {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

function valueInfo({ name, dims }: ValueInfo): object {
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

export class GraphBuilder {
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers: object[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** Adds a float32 constant (weights); returns its name. */
  addFloatInitializer(prefix: string, dims: number[], values: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new Error(`initializer ${prefix}: ${values.length} values for dims [${dims.join(', ')}]`);
    const name = this.fresh(prefix);
    // raw_data is little-endian; copy so the bytes are exactly the tensor's.
    const raw = new Uint8Array(new Float32Array(values).buffer);
    this.initializers.push({ name, dims, data_type: TensorDataType.FLOAT, raw_data: raw });
    return name;
  }

  /** Adds an int64 constant (shapes, axes); returns its name. */
  addInt64Initializer(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: [values.length], data_type: TensorDataType.INT64, int64_data: values });
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  addNode(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, label = opType.toLowerCase()): string {
    const output = this.fresh(label);
    this.nodes.push({
      op_type: opType,
      name: `${label}_node_${this.nodes.length}`,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([k, v]) => encodeAttribute(k, v)),
    });
    return output;
  }

  /** Renames the last node's output, so the graph output can have a chosen name. */
  renameOutput(from: string, to: string): void {
    for (const node of this.nodes) {
      node.output = node.output.map((o) => (o === from ? to : o));
      node.input = node.input.map((i) => (i === from ? to : i));
    }
    this.names.add(to);
  }

  toBytes(options: { name: string; inputs: ValueInfo[]; outputs: ValueInfo[]; opset: number; producerVersion: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const model = {
      ir_version: irVersionForOpset(options.opset),
      producer_name: 'gantry',
      producer_version: options.producerVersion,
      doc_string: options.docString ?? '',
      opset_import: [{ domain: '', version: options.opset }],
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.name,
        node: this.nodes,
        initializer: this.initializers,
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    };
    const error = ModelProto.verify(model);
    if (error !== null) throw new Error(`internal error: the ONNX model does not fit the schema: ${error}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
