// The subset of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that Gantry writes, declared
// for protobufjs' reflection API. Field numbers are ONNX's; messages and fields Gantry never writes
// are left out, which protobuf allows.
import protobuf from 'protobufjs';

const field = (type: string, id: number, rule?: 'repeated'): { type: string; id: number; rule?: string } => ({ type, id, ...(rule ? { rule } : {}) });

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
            floats: field('float', 7, 'repeated'),
            ints: field('int64', 8, 'repeated'),
            strings: field('bytes', 9, 'repeated'),
            doc_string: field('string', 13),
            type: field('AttributeType', 20),
          },
          nested: {
            AttributeType: { values: { UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } },
          },
        },
        ValueInfoProto: { fields: { name: field('string', 1), type: field('TypeProto', 2), doc_string: field('string', 3) } },
        NodeProto: {
          fields: {
            input: field('string', 1, 'repeated'),
            output: field('string', 2, 'repeated'),
            name: field('string', 3),
            op_type: field('string', 4),
            attribute: field('AttributeProto', 5, 'repeated'),
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
            opset_import: field('OperatorSetIdProto', 8, 'repeated'),
            metadata_props: field('StringStringEntryProto', 14, 'repeated'),
          },
        },
        StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
        GraphProto: {
          fields: {
            node: field('NodeProto', 1, 'repeated'),
            name: field('string', 2),
            initializer: field('TensorProto', 5, 'repeated'),
            doc_string: field('string', 10),
            input: field('ValueInfoProto', 11, 'repeated'),
            output: field('ValueInfoProto', 12, 'repeated'),
            value_info: field('ValueInfoProto', 13, 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: field('int64', 1, 'repeated'),
            data_type: field('int32', 2),
            float_data: field('float', 4, 'repeated'),
            int32_data: field('int32', 5, 'repeated'),
            int64_data: field('int64', 7, 'repeated'),
            name: field('string', 8),
            raw_data: field('bytes', 9),
            doc_string: field('string', 12),
          },
          nested: {
            DataType: { values: { UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } },
          },
        },
        TensorShapeProto: {
          fields: { dim: field('Dimension', 1, 'repeated') },
          nested: { Dimension: { fields: { dim_value: field('int64', 1), dim_param: field('string', 2), denotation: field('string', 3) } } },
        },
        TypeProto: {
          fields: { tensor_type: field('Tensor', 1), denotation: field('string', 6) },
          nested: { Tensor: { fields: { elem_type: field('int32', 1), shape: field('TensorShapeProto', 2) } } },
        },
        OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
export const ModelProto = root.lookupType('onnx.ModelProto');

export const TensorDataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** ONNX IR version that goes with each default-domain opset Gantry writes (onnx/docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (opset >= 19) return 9;
  return opset >= 15 ? 8 : 7;
}
