// A graph pass that moves the activation between a Dense layer and the Reshape into images to after the Reshape.
//
// An activation acts on each value alone, so Reshape(act(x)) = act(Reshape(x)) exactly. The order matters to
// onnxruntime: it fuses MatMul/Gemm (with the batch norm and bias it absorbs) and an activation right after
// it into one FusedGemm, and in onnxruntime-web's WebAssembly that fused activation is slow. Measured on the
// DCGAN generator at batch 16 in Chromium (onnxruntime-web 1.30, 1 thread): MatMul → BatchNormalization →
// Relu took 51 µs per image, MatMul → BatchNormalization → Reshape → Relu 40 µs, of 185 µs for the whole
// generator; onnxruntime-node runs both orders alike.
import type { GraphMessage, NodeMessage } from '@gantry/files/onnx';
import { indexGraph } from './graph-index.js';

/** Element-wise activations with one input, the ones the converter writes (Softmax is not element-wise). */
const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Tanh', 'Sigmoid', 'HardSigmoid', 'Softplus', 'Softsign']);

/** Ops between a Dense layer and its activation that onnxruntime folds into the Gemm. */
const ABSORBED = new Set(['BatchNormalization', 'Add']);

/** Whether `value` comes from a MatMul or Gemm through ops onnxruntime folds into it (batch norm, bias). */
function fromDense(value: string, producer: Map<string, NodeMessage>): boolean {
  for (let node = producer.get(value); node !== undefined; node = producer.get(node.input[0]!)) {
    if (node.op_type === 'MatMul' || node.op_type === 'Gemm') return true;
    if (!ABSORBED.has(node.op_type)) return false;
  }
  return false;
}

/** Swaps every Dense layer's activation with the Reshape that alone reads it. Returns how many it moved. */
export function moveActivationsPastReshapes(graph: GraphMessage): number {
  let moved = 0;
  for (const reshape of [...graph.node]) {
    if (reshape.op_type !== 'Reshape') continue;
    const { producer, uses } = indexGraph(graph);
    const activation = producer.get(reshape.input[0]!);
    if (activation === undefined || !ACTIVATIONS.has(activation.op_type) || activation.input.length !== 1) continue;
    if (uses.get(activation.output[0]!) !== 1 || !fromDense(activation.input[0]!, producer)) continue;
    const [a, r] = [graph.node.indexOf(activation), graph.node.indexOf(reshape)];
    // The Reshape moves up to the activation's place, so a shape computed in between would not exist yet.
    const shapeProducer = producer.get(reshape.input[1] ?? '');
    if (shapeProducer !== undefined && graph.node.indexOf(shapeProducer) > a) continue;
    // Reshape now reads the activation's input under the activation's old output name (which is no graph
    // output: its one use is this Reshape), and the activation writes the Reshape's output.
    const [before, between, after] = [activation.input[0]!, activation.output[0]!, reshape.output[0]!];
    reshape.input = [before, ...reshape.input.slice(1)];
    reshape.output = [between];
    activation.input = [between];
    activation.output = [after];
    // Keep the nodes topologically sorted: the Reshape takes the activation's place, the activation the Reshape's.
    graph.node[a] = reshape;
    graph.node[r] = activation;
    moved++;
  }
  return moved;
}
