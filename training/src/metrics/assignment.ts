// The linear assignment problem: match n rows to n columns, one to one, at the least total cost.
// Shortest augmenting paths with dual potentials (Kuhn–Munkres in the Jonker–Volgenant form), O(n³):
// each row is added by a Dijkstra-like search over reduced costs, which stay non-negative because the
// potentials are updated along the way. Exact for any real costs (no scaling or ε-relaxation).

export interface Assignment {
  /** columnOfRow[i] is the column matched to row i. */
  columnOfRow: Int32Array;
  /** Σᵢ cost[i][columnOfRow[i]]. */
  totalCost: number;
}

/** Solves the n × n assignment problem for `cost` (row-major, n² finite values). */
export function solveAssignment(cost: ArrayLike<number>, n: number): Assignment {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (cost.length !== n * n) throw new RangeError(`cost must hold n × n = ${n * n} values, got ${cost.length}`);
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i]!)) throw new RangeError(`cost[${i}] must be finite, got ${cost[i]}`);
  }
  // 1-based arrays with a virtual column 0 that holds the row being inserted, as in the textbook form.
  const rowPotential = new Float64Array(n + 1);
  const columnPotential = new Float64Array(n + 1);
  const rowOfColumn = new Int32Array(n + 1); // 0 = unmatched
  const previousColumn = new Int32Array(n + 1);
  const minReduced = new Float64Array(n + 1);
  const visited = new Uint8Array(n + 1);

  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    minReduced.fill(Infinity);
    visited.fill(0);
    do {
      visited[column] = 1;
      const currentRow = rowOfColumn[column]!;
      const base = (currentRow - 1) * n - 1;
      let delta = Infinity;
      let nextColumn = 0;
      for (let j = 1; j <= n; j++) {
        if (visited[j]) continue;
        const reduced = cost[base + j]! - rowPotential[currentRow]! - columnPotential[j]!;
        if (reduced < minReduced[j]!) {
          minReduced[j] = reduced;
          previousColumn[j] = column;
        }
        if (minReduced[j]! < delta) {
          delta = minReduced[j]!;
          nextColumn = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (visited[j]) {
          rowPotential[rowOfColumn[j]!]! += delta;
          columnPotential[j]! -= delta;
        } else {
          minReduced[j]! -= delta;
        }
      }
      column = nextColumn;
    } while (rowOfColumn[column] !== 0);
    // Flip the augmenting path back to the virtual column.
    do {
      const previous = previousColumn[column]!;
      rowOfColumn[column] = rowOfColumn[previous]!;
      column = previous;
    } while (column !== 0);
  }

  const columnOfRow = new Int32Array(n);
  let totalCost = 0;
  for (let j = 1; j <= n; j++) {
    const row = rowOfColumn[j]! - 1;
    columnOfRow[row] = j - 1;
    totalCost += cost[row * n + j - 1]!;
  }
  return { columnOfRow, totalCost };
}
