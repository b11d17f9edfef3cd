// Who produces and who reads each value of an ONNX graph: what the graph passes consult before they
// rewrite a node. Rebuilt after each rewrite (graphs here have tens of nodes).
import type { GraphMessage, NodeMessage, TensorMessage } from '@gantry/files/onnx';

export interface GraphIndex {
  /** The node that writes each value. */
  producer: Map<string, NodeMessage>;
  /** How many node inputs and graph outputs read each value. */
  uses: Map<string, number>;
  initializer: Map<string, TensorMessage>;
}

export function indexGraph(graph: GraphMessage): GraphIndex {
  const producer = new Map<string, NodeMessage>();
  const uses = new Map<string, number>();
  for (const node of graph.node) {
    for (const output of node.output) producer.set(output, node);
    for (const input of node.input) uses.set(input, (uses.get(input) ?? 0) + 1);
  }
  for (const output of graph.output) uses.set(output.name, (uses.get(output.name) ?? 0) + 1);
  return { producer, uses, initializer: new Map(graph.initializer.map((t) => [t.name, t])) };
}
