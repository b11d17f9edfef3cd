// Broadcasting two shapes as runs: the output is walked in C order as runs along its innermost
// (merged) axis, along which each input either advances one element at a time or repeats one element.
// Kernels then need one tight loop a run instead of a multi-index per element.

/**
 * How two shapes broadcast to `outShape`, as few axes as possible: size-1 output axes dropped and
 * neighbours merged where both inputs either span both axes or repeat over both. Strides are in
 * elements, 0 along the axes an input repeats over.
 */
export function broadcastAxes(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): { sizes: number[]; aStrides: number[]; bStrides: number[] } {
  const rank = outShape.length;
  const padded = (shape: readonly number[]): number[] => [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const [a, b] = [padded(aShape), padded(bShape)];
  const sizes: number[] = [];
  const spansA: boolean[] = [];
  const spansB: boolean[] = [];
  for (let d = 0; d < rank; d++) {
    const size = outShape[d]!;
    if (size === 1) continue;
    const [inA, inB] = [a[d] === size, b[d] === size];
    const last = sizes.length - 1;
    if (last >= 0 && spansA[last] === inA && spansB[last] === inB) {
      sizes[last] *= size;
    } else {
      sizes.push(size);
      spansA.push(inA);
      spansB.push(inB);
    }
  }
  const strides = (spans: boolean[]): number[] => {
    const out = new Array<number>(sizes.length).fill(0);
    for (let d = sizes.length - 1, step = 1; d >= 0; d--) {
      if (spans[d]) {
        out[d] = step;
        step *= sizes[d]!;
      }
    }
    return out;
  };
  return { sizes, aStrides: strides(spansA), bStrides: strides(spansB) };
}

/** How many runs forEachBroadcastRun makes (the output size over the innermost merged axis). */
export function broadcastRunCount(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): number {
  const total = outShape.reduce((a, b) => a * b, 1);
  if (total === 0) return 0;
  const { sizes } = broadcastAxes(aShape, bShape, outShape);
  return sizes.length === 0 ? 1 : total / sizes[sizes.length - 1]!;
}

/**
 * Calls run(i, j, o, n, sa, sb) for each run of n output elements from offset o, whose inputs start at
 * offsets i (a) and j (b) and step by sa and sb (each 1 or 0) along the run; together the runs cover the
 * output once, in order. A zero-size output has no runs.
 */
export function forEachBroadcastRun(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  run: (i: number, j: number, o: number, n: number, sa: number, sb: number) => void,
): void {
  const total = outShape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  const { sizes, aStrides, bStrides } = broadcastAxes(aShape, bShape, outShape);
  if (sizes.length === 0) {
    run(0, 0, 0, 1, 0, 0);
    return;
  }
  const inner = sizes.length - 1;
  const n = sizes[inner]!;
  // An odometer over the outer axes, carrying each input's offset along.
  const index = new Array<number>(inner).fill(0);
  let [i, j] = [0, 0];
  for (let o = 0; o < total; o += n) {
    run(i, j, o, n, aStrides[inner]!, bStrides[inner]!);
    for (let d = inner - 1; d >= 0; d--) {
      i += aStrides[d]!;
      j += bStrides[d]!;
      if (++index[d]! < sizes[d]!) break;
      index[d] = 0;
      i -= aStrides[d]! * sizes[d]!;
      j -= bStrides[d]! * sizes[d]!;
    }
  }
}
