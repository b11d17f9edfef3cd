// Exact Wasserstein-1 (earth mover's) distances between empirical distributions: in 1-D from sorted
// samples (any sizes), and in any dimension for two equal-size point sets by optimal assignment.
import { solveAssignment } from './assignment.js';

function checkFinite(values: ArrayLike<number>, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new RangeError(`${name}[${i}] must be finite, got ${values[i]}`);
  }
}

/**
 * W1 between the empirical distributions of `a` and `b` (1-D samples, sizes may differ):
 * ∫ |F_a(x) − F_b(x)| dx, integrated exactly over the merged sorted samples. O((n + m) log(n + m)).
 */
export function wasserstein1d(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0)
    throw new RangeError(`both samples must be non-empty, got sizes ${a.length} and ${b.length}`);
  checkFinite(a, 'a');
  checkFinite(b, 'b');
  const sortedA = Float64Array.from(a).sort();
  const sortedB = Float64Array.from(b).sort();
  const n = sortedA.length;
  const m = sortedB.length;
  let i = 0;
  let j = 0;
  let previous = Math.min(sortedA[0]!, sortedB[0]!);
  let distance = 0;
  while (i < n || j < m) {
    const next = j >= m || (i < n && sortedA[i]! <= sortedB[j]!) ? sortedA[i]! : sortedB[j]!;
    // Between `previous` and `next` both CDFs are constant: i/n and j/m.
    distance += Math.abs(i / n - j / m) * (next - previous);
    while (i < n && sortedA[i] === next) i++;
    while (j < m && sortedB[j] === next) j++;
    previous = next;
  }
  return distance;
}

export interface OptimalTransport {
  /** Mean Euclidean distance over the optimal matching: the exact W1 of the two empirical distributions. */
  distance: number;
  /** matchOf[i] is the index of the point of `b` that point i of `a` moves to. */
  matchOf: Int32Array;
}

/**
 * Exact W1 between two equal-size point sets (row-major, `dims` coordinates a point) with Euclidean
 * ground cost. Uniform weights on n points each make optimal transport an assignment problem (a
 * permutation is an optimal coupling, by Birkhoff–von Neumann). O(n³): fine for n up to ~1000.
 */
export function optimalTransportPoints(a: ArrayLike<number>, b: ArrayLike<number>, dims: number): OptimalTransport {
  if (!(Number.isInteger(dims) && dims >= 1)) throw new RangeError(`dims must be an integer ≥ 1, got ${dims}`);
  if (a.length % dims !== 0 || b.length % dims !== 0) {
    throw new RangeError(`a and b must hold whole points of ${dims} coordinates, got ${a.length} and ${b.length} values`);
  }
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `a and b must hold the same non-zero number of points, got ${a.length / dims} and ${b.length / dims} (for unequal 1-D samples use wasserstein1d)`,
    );
  }
  checkFinite(a, 'a');
  checkFinite(b, 'b');
  const n = a.length / dims;
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let squared = 0;
      for (let d = 0; d < dims; d++) {
        const diff = a[i * dims + d]! - b[j * dims + d]!;
        squared += diff * diff;
      }
      cost[i * n + j] = Math.sqrt(squared);
    }
  }
  const { columnOfRow, totalCost } = solveAssignment(cost, n);
  return { distance: totalCost / n, matchOf: columnOfRow };
}
