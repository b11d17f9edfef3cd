// MINRES (Paige & Saunders 1975) for a symmetric, possibly indefinite or singular, system A x = b,
// given only products v ↦ A v. Each iteration costs one product and minimises ‖b − A x‖ over the
// Krylov space grown from the initial residual, so the residual never grows, and a warm start
// x0 (the previous step's solution, when A and b change slowly) costs nothing extra. Transcribed from
// the unpreconditioned form of SciPy's scipy.sparse.linalg.minres, in float64, with one addition:
// when the next rotation is degenerate (γ ≈ 0: A restricted to the Krylov space is singular, as for
// a singular A and an inconsistent b) the iterate is already a least-squares solution (Choi, Paige &
// Saunders, MINRES-QLP), and the iteration stops there instead of stepping by φ/γ towards infinity.

export type LinearOperator = (v: Float64Array) => Float64Array;

export interface MinresResult {
  x: Float64Array;
  /** The recurrence's estimate of ‖b − A x‖. */
  residualNorm: number;
  iterations: number;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

/** a + s·b, as a new array. */
const axpy = (a: Float64Array, s: number, b: Float64Array): Float64Array => a.map((ai, i) => ai + s * b[i]!);

/**
 * Up to `maxIterations` MINRES iterations for A x = b from `x0`; stops early when the residual
 * estimate falls to `relativeTolerance`·‖b‖ or the Krylov space is exhausted. A rotation with
 * γ ≤ `singularTolerance`·(estimate of ‖A‖) counts as degenerate: raise it when the products carry
 * rounding noise (float32 Hessian-vector products).
 */
export function minres(
  apply: LinearOperator,
  b: Float64Array,
  x0: Float64Array,
  maxIterations: number,
  relativeTolerance = 1e-12,
  singularTolerance = 1e-12,
): MinresResult {
  if (x0.length !== b.length) throw new RangeError(`minres: x0 has ${x0.length} entries, b has ${b.length}`);
  let x: Float64Array = Float64Array.from(x0);
  const ax0 = x0.some((v) => v !== 0) ? apply(x0) : new Float64Array(b.length);
  let r1: Float64Array = b.map((bi, i) => bi - ax0[i]!);
  let y: Float64Array = r1;
  const beta1 = Math.sqrt(dot(r1, r1));
  const target = relativeTolerance * Math.sqrt(dot(b, b));
  if (beta1 <= target) return { x, residualNorm: beta1, iterations: 0 };
  let oldb = 0;
  let beta = beta1;
  let dbar = 0;
  let epsln = 0;
  let phibar = beta1;
  let cs = -1;
  let sn = 0;
  let w: Float64Array = new Float64Array(b.length);
  let w2: Float64Array = new Float64Array(b.length);
  let r2: Float64Array = r1;
  let tnorm2 = 0;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations += 1;
    const v = y.map((yi) => yi / beta);
    y = apply(v);
    if (iterations >= 2) y = axpy(y, -beta / oldb, r1);
    const alfa = dot(v, y);
    y = axpy(y, -alfa / beta, r2);
    r1 = r2;
    r2 = y;
    oldb = beta;
    beta = Math.sqrt(dot(r2, r2));
    tnorm2 += alfa ** 2 + oldb ** 2 + beta ** 2;
    // Apply the previous rotation, then compute and apply the next one.
    const oldeps = epsln;
    const delta = cs * dbar + sn * alfa;
    const gbar = sn * dbar - cs * alfa;
    epsln = sn * beta;
    dbar = -cs * beta;
    if (Math.hypot(gbar, beta) <= singularTolerance * Math.sqrt(tnorm2)) break;
    const gamma = Math.hypot(gbar, beta);
    cs = gbar / gamma;
    sn = beta / gamma;
    const phi = cs * phibar;
    phibar = sn * phibar;
    const w1 = w2;
    w2 = w;
    w = v.map((vi, i) => (vi - oldeps * w1[i]! - delta * w2[i]!) / gamma);
    x = axpy(x, phi, w);
    if (beta === 0 || phibar <= target) break;
  }
  return { x, residualNorm: phibar, iterations };
}
