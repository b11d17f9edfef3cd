// A graph pass that removes the layout Transpose a reshape into images needs, by permuting weights instead.
//
// tfjs reshapes a Dense layer's features into NHWC images; the ONNX graph computes convolutions in NCHW,
// so the converter writes Reshape(to [-1, H, W, C]) then Transpose(perm [0, 3, 1, 2]). When everything
// between the Dense layer and the Reshape acts feature by feature (bias, batch norm, activations), the
// Dense layer can emit its features in NCHW order instead: permute the kernel's columns and every
// per-feature parameter, reshape straight to [-1, C, H, W], and drop the Transpose. This is the graph
// torch.onnx writes for the same network, and it saves a full copy of the activations at every run.
import { TensorDataType, type GraphMessage, type NodeMessage, type TensorMessage } from '@gantry/files/onnx';
import { indexGraph, type GraphIndex } from './graph-index.js';

/** Ops that act on each feature alone, so a feature permutation commutes with them. */
const ELEMENTWISE = new Set(['Relu', 'LeakyRelu', 'Elu', 'Tanh', 'Sigmoid', 'Identity']);

const ELEMENT_BYTES: Partial<Record<number, number>> = { [TensorDataType.FLOAT]: 4, [TensorDataType.FLOAT16]: 2 };

/** The initializer behind a value used once: the value itself, or the float16 initializer a Cast reads. */
function ownedInitializer(value: string, g: GraphIndex): TensorMessage | null {
  if (g.uses.get(value) !== 1) return null;
  const direct = g.initializer.get(value);
  if (direct !== undefined) return direct;
  const cast = g.producer.get(value);
  if (cast?.op_type !== 'Cast' || g.uses.get(cast.input[0]!) !== 1) return null;
  return g.initializer.get(cast.input[0]!) ?? null;
}

function attributeInt(node: NodeMessage, name: string, fallback: number): number {
  return node.attribute.find((a) => a.name === name)?.i ?? fallback;
}

function int64Values(tensor: TensorMessage): number[] | null {
  if (tensor.data_type !== TensorDataType.INT64) return null;
  const view = new DataView(tensor.raw_data.buffer, tensor.raw_data.byteOffset, tensor.raw_data.byteLength);
  return Array.from({ length: tensor.raw_data.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

/** Rewrites `tensor`'s raw data so that column j (of the last axis, `features` wide) becomes column order[j]. */
function permuteColumns(tensor: TensorMessage, order: Int32Array): void {
  const bytes = ELEMENT_BYTES[tensor.data_type]!;
  const features = order.length;
  const rows = tensor.raw_data.byteLength / bytes / features;
  const source = tensor.raw_data;
  const target = new Uint8Array(source.byteLength);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < features; j++) {
      const from = (r * features + order[j]!) * bytes;
      target.set(source.subarray(from, from + bytes), (r * features + j) * bytes);
    }
  }
  tensor.raw_data = target;
}

/** For an NCHW feature index j = c·H·W + h·W + w, the NHWC index h·W·C + w·C + c it takes its value from. */
function nchwFromNhwc(h: number, w: number, c: number): Int32Array {
  const order = new Int32Array(h * w * c);
  for (let ci = 0; ci < c; ci++)
    for (let hi = 0; hi < h; hi++) for (let wi = 0; wi < w; wi++) order[ci * h * w + hi * w + wi] = hi * w * c + wi * c + ci;
  return order;
}

/** The per-feature tensors to permute between a Reshape's input and its Dense layer, or null if the chain does not qualify. */
function featureTensors(start: string, features: number, g: GraphIndex): TensorMessage[] | null {
  const found: TensorMessage[] = [];
  const perFeature = (value: string): boolean => {
    const tensor = ownedInitializer(value, g);
    if (
      tensor === null ||
      ELEMENT_BYTES[tensor.data_type] === undefined ||
      tensor.dims.length !== 1 ||
      tensor.dims[0] !== features
    )
      return false;
    found.push(tensor);
    return true;
  };
  let value = start;
  for (;;) {
    if (g.uses.get(value) !== 1) return null;
    const node = g.producer.get(value);
    if (node === undefined) return null;
    if (ELEMENTWISE.has(node.op_type)) {
      value = node.input[0]!;
    } else if (node.op_type === 'BatchNormalization') {
      if (!node.input.slice(1, 5).every(perFeature)) return null;
      value = node.input[0]!;
    } else if (node.op_type === 'Add') {
      const [a, b] = node.input as [string, string];
      if (perFeature(b)) value = a;
      else if (perFeature(a)) value = b;
      else return null;
    } else if (node.op_type === 'Gemm' || node.op_type === 'MatMul') {
      if (node.op_type === 'Gemm' && (attributeInt(node, 'transA', 0) !== 0 || attributeInt(node, 'transB', 0) !== 0))
        return null;
      const kernel = ownedInitializer(node.input[1]!, g);
      if (
        kernel === null ||
        ELEMENT_BYTES[kernel.data_type] === undefined ||
        kernel.dims.length !== 2 ||
        kernel.dims[1] !== features
      )
        return null;
      found.push(kernel);
      const bias = node.input[2];
      if (bias !== undefined && bias !== '' && !perFeature(bias)) return null;
      return found;
    } else {
      return null;
    }
  }
}

/** Removes every Reshape→Transpose(NHWC→NCHW) pair it can fold into the Dense layer before it. Returns how many. */
export function foldLayoutTransposes(graph: GraphMessage): number {
  let folded = 0;
  for (const transpose of [...graph.node]) {
    if (transpose.op_type !== 'Transpose') continue;
    const perm = transpose.attribute.find((a) => a.name === 'perm')?.ints;
    if (perm === undefined || perm.join() !== '0,3,1,2') continue;
    const g = indexGraph(graph);
    const reshape = g.producer.get(transpose.input[0]!);
    if (reshape?.op_type !== 'Reshape' || g.uses.get(reshape.output[0]!) !== 1 || g.uses.get(reshape.input[1]!) !== 1) continue;
    const shapeTensor = g.initializer.get(reshape.input[1]!);
    const shape = shapeTensor === undefined ? null : int64Values(shapeTensor);
    if (shape === null || shape.length !== 4 || shape[0] !== -1 || shape.slice(1).some((d) => d <= 0)) continue;
    const [, h, w, c] = shape as [number, number, number, number];
    const tensors = featureTensors(reshape.input[0]!, h * w * c, g);
    if (tensors === null) continue;
    const order = nchwFromNhwc(h, w, c);
    for (const tensor of tensors) permuteColumns(tensor, order);
    const nchw = new DataView(new ArrayBuffer(32));
    [-1, c, h, w].forEach((d, i) => nchw.setBigInt64(i * 8, BigInt(d), true));
    shapeTensor!.raw_data = new Uint8Array(nchw.buffer);
    // The Reshape now yields what the Transpose did, under the Transpose's output name.
    reshape.output = [transpose.output[0]!];
    graph.node.splice(graph.node.indexOf(transpose), 1);
    folded++;
  }
  return folded;
}
