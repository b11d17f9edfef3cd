// The subset of ONNX's protobuf schema (onnx/onnx.proto) that Gantry writes and reads back, declared
// as a protobufjs JSON descriptor so nothing has to be located on disk at run time (a .proto file would
// not be copied to dist by tsc). Field numbers are ONNX's; messages and fields Gantry never touches are
// left out, which protobuf allows: readers skip what they do not know, and ONNX's own readers see
// exactly the fields they expect at the numbers they expect.
import protobuf from 'protobufjs';

interface FieldDescriptor {
  type: string;
  id: number;
  rule?: 'repeated';
}

const field = (type: string, id: number): FieldDescriptor => ({ type, id });
const repeated = (type: string, id: number): FieldDescriptor => ({ type, id, rule: 'repeated' });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: field('string', 1),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            g: field('GraphProto', 6),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
            tensors: repeated('TensorProto', 10),
            graphs: repeated('GraphProto', 11),
            doc_string: field('string', 13),
            type: field('AttributeType', 20),
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
              },
            },
          },
        },
        ValueInfoProto: { fields: { name: field('string', 1), type: field('TypeProto', 2), doc_string: field('string', 3) } },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: field('string', 3),
            op_type: field('string', 4),
            attribute: repeated('AttributeProto', 5),
            doc_string: field('string', 6),
            domain: field('string', 7),
          },
        },
        ModelProto: {
          fields: {
            ir_version: field('int64', 1),
            producer_name: field('string', 2),
            producer_version: field('string', 3),
            domain: field('string', 4),
            model_version: field('int64', 5),
            doc_string: field('string', 6),
            graph: field('GraphProto', 7),
            opset_import: repeated('OperatorSetIdProto', 8),
            metadata_props: repeated('StringStringEntryProto', 14),
          },
        },
        StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: field('string', 2),
            initializer: repeated('TensorProto', 5),
            doc_string: field('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            value_info: repeated('ValueInfoProto', 13),
          },
        },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            data_type: field('int32', 2),
            float_data: repeated('float', 4),
            int32_data: repeated('int32', 5),
            int64_data: repeated('int64', 7),
            name: field('string', 8),
            raw_data: field('bytes', 9),
            doc_string: field('string', 12),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated('Dimension', 1) },
          nested: { Dimension: { fields: { dim_value: field('int64', 1), dim_param: field('string', 2) } } },
        },
        TypeProto: {
          fields: { tensor_type: field('Tensor', 1) },
          nested: { Tensor: { fields: { elem_type: field('int32', 1), shape: field('TensorShapeProto', 2) } } },
        },
        OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const modelType = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values Gantry uses (onnx.proto numbers). */
export const TensorDataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
export type TensorDataTypeCode = (typeof TensorDataType)[keyof typeof TensorDataType];

/** AttributeProto.AttributeType values Gantry writes. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

// Plain-object shapes of the messages as Gantry fills them in (snake_case, as protobufjs' reflection
// expects with keepCase-style JSON descriptors). int64 fields are numbers: every int64 Gantry writes
// (dims, attribute ints, versions) is far below 2^53.

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: TensorDataTypeCode;
  raw_data: Uint8Array;
}

export interface NodeMessage {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
  domain?: string;
}

export interface DimensionMessage {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoMessage {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionMessage[] } } };
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
  doc_string?: string;
}

export interface ModelMessage {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  opset_import: { domain: string; version: number }[];
  metadata_props: { key: string; value: string }[];
  graph: GraphMessage;
}

/** The ONNX IR version that goes with a default-domain opset (onnx/docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  return 7;
}

/** Serialises a model; a message that does not fit the schema is a bug in the writer, not user input. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const problem = modelType.verify(model);
  if (problem !== null) throw new Error(`internal error: the ONNX model does not fit the ONNX schema: ${problem}`);
  return modelType.encode(modelType.fromObject(model)).finish();
}

/** Parses ONNX bytes back into plain objects (int64 as numbers; bytes stay Uint8Array/Buffer). */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  let message: protobuf.Message;
  try {
    message = modelType.decode(bytes);
  } catch (error) {
    throw new Error(`not an ONNX model: ${error instanceof Error ? error.message : String(error)}`);
  }
  return modelType.toObject(message, { longs: Number, arrays: true, defaults: false }) as ModelMessage;
}
