// Weight layout changes (tfjs' kernel order to ONNX's) are done once, at export time, on the values.
import type { Weight } from './layer-config.js';

/** Permutes a row-major tensor's axes (weight layout changes are done once, at export time). */
export function permute(values: Float32Array, shape: number[], perm: number[]): Weight {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= shape[i]!;
  }
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let a = 0; a < rank; a++) source += index[a]! * inStrides[perm[a]!]!;
    out[o] = values[source]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++index[a]! < outShape[a]!) break;
      index[a] = 0;
    }
  }
  return { values: out, shape: outShape };
}
