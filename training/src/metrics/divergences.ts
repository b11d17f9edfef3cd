// Kullback–Leibler and Jensen–Shannon divergences between discrete distributions, and the histogram
// that turns samples into one. All in nats (natural logarithm).
//
// Smoothing policy. Both divergences take non-negative weights (raw bin counts or probabilities) and
// normalise them. `pseudoCount` α (default 0) is added to every bin of *both* inputs before
// normalising: p̂ᵢ = (pᵢ + α) / (Σp + Kα). With α = 0 the result is the exact plug-in value, so KL is
// +Infinity when P puts mass on a bin where Q has none — the true answer for, e.g., two parallel lines,
// never clamped to a large number. α > 0 (0.5 is the Krichevsky–Trofimov / Jeffreys choice) gives a
// finite but biased estimate that grows like log(n / α) on disjoint supports. JS needs no smoothing
// (it is bounded by log 2), so a JS estimate from counts should use α = 0.

export interface DivergenceOptions {
  /** Added to every bin of both distributions before normalising; ≥ 0, default 0 (no smoothing). */
  pseudoCount?: number;
}

function normalised(weights: ArrayLike<number>, name: string, pseudoCount: number): Float64Array {
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`${name}[${i}] must be a finite number ≥ 0, got ${w}`);
    total += w + pseudoCount;
  }
  if (!(total > 0)) throw new RangeError(`${name} has no mass: its weights sum to 0 (and pseudoCount is 0)`);
  const out = new Float64Array(weights.length);
  for (let i = 0; i < weights.length; i++) out[i] = (weights[i]! + pseudoCount) / total;
  return out;
}

function checkedPair(p: ArrayLike<number>, q: ArrayLike<number>, options: DivergenceOptions): [Float64Array, Float64Array] {
  const alpha = options.pseudoCount ?? 0;
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new RangeError(`pseudoCount must be a finite number ≥ 0, got ${alpha}`);
  if (p.length !== q.length || p.length === 0) {
    throw new RangeError(`p and q must have the same non-zero number of bins, got ${p.length} and ${q.length}`);
  }
  return [normalised(p, 'p', alpha), normalised(q, 'q', alpha)];
}

/** KL over already normalised vectors; 0·log(0/q) = 0, p·log(p/0) = +∞. */
function klNormalised(p: Float64Array, q: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi === 0) continue;
    const qi = q[i]!;
    if (qi === 0) return Infinity;
    sum += pi * Math.log(pi / qi);
  }
  // Rounding can leave a tiny negative sum for (nearly) equal inputs; KL is never negative.
  return Math.max(0, sum);
}

/** KL(P ‖ Q) = Σ pᵢ log(pᵢ / qᵢ) in nats; see the smoothing policy at the top of this file. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>, options: DivergenceOptions = {}): number {
  const [pn, qn] = checkedPair(p, q, options);
  return klNormalised(pn, qn);
}

/** JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = ½(P + Q); in [0, log 2] nats. */
export function jsDivergence(p: ArrayLike<number>, q: ArrayLike<number>, options: DivergenceOptions = {}): number {
  const [pn, qn] = checkedPair(p, q, options);
  const m = new Float64Array(pn.length);
  for (let i = 0; i < m.length; i++) m[i] = 0.5 * (pn[i]! + qn[i]!);
  return Math.min(Math.LN2, 0.5 * klNormalised(pn, m) + 0.5 * klNormalised(qn, m));
}

/** One histogram axis: `bins` equal bins over [lo, hi]. */
export interface HistogramAxis {
  lo: number;
  hi: number;
  bins: number;
}

/**
 * Counts points (row-major, `axes.length` coordinates each) in the product grid of `axes`; the bin
 * index is row-major over the axes (last axis fastest). A value equal to `hi` falls in the last bin.
 * A point outside the grid is an error rather than silently dropped mass, which would bias every
 * divergence computed from the counts.
 */
export function histogram(points: ArrayLike<number>, axes: readonly HistogramAxis[]): Float64Array {
  const dims = axes.length;
  if (dims === 0) throw new RangeError('axes must name at least one axis');
  axes.forEach((axis, a) => {
    if (!(Number.isFinite(axis.lo) && Number.isFinite(axis.hi) && axis.lo < axis.hi)) {
      throw new RangeError(`axes[${a}] must have finite lo < hi, got lo ${axis.lo}, hi ${axis.hi}`);
    }
    if (!(Number.isInteger(axis.bins) && axis.bins >= 1))
      throw new RangeError(`axes[${a}].bins must be an integer ≥ 1, got ${axis.bins}`);
  });
  if (points.length % dims !== 0) {
    throw new RangeError(`points has ${points.length} values, not a multiple of the ${dims} coordinates per point`);
  }
  const total = axes.reduce((product, axis) => product * axis.bins, 1);
  const counts = new Float64Array(total);
  for (let start = 0; start < points.length; start += dims) {
    let index = 0;
    for (let a = 0; a < dims; a++) {
      const { lo, hi, bins } = axes[a]!;
      const value = points[start + a]!;
      if (!(value >= lo && value <= hi)) {
        throw new RangeError(
          `point ${start / dims} has coordinate ${a} = ${value}, outside the histogram range [${lo}, ${hi}]; widen axes[${a}]`,
        );
      }
      const bin = Math.min(bins - 1, Math.floor(((value - lo) / (hi - lo)) * bins));
      index = index * bins + bin;
    }
    counts[index]! += 1;
  }
  return counts;
}
