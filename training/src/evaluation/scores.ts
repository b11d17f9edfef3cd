// Scores computed from an evaluation classifier's class probabilities p(y|x).

/** Mean of the rows of a count × classes matrix: the marginal p(y). */
export function classMarginal(probabilities: Float32Array, classes: number): Float64Array {
  const count = probabilities.length / classes;
  const marginal = new Float64Array(classes);
  for (let i = 0; i < count; i++) for (let c = 0; c < classes; c++) marginal[c]! += probabilities[i * classes + c]!;
  for (let c = 0; c < classes; c++) marginal[c]! /= count;
  return marginal;
}

/**
 * The Inception-style score exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016), here with the evaluation
 * classifier in place of Inception: 1 for a single repeated class or uninformative predictions, up to
 * the class count for confident, evenly spread ones.
 */
export function inceptionScore(probabilities: Float32Array, classes: number): number {
  const count = probabilities.length / classes;
  const marginal = classMarginal(probabilities, classes);
  let kl = 0;
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c]!;
      if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c]!));
    }
  }
  return Math.exp(kl / count);
}

/** Each sample's most probable class. */
export function predictedClasses(probabilities: Float32Array, classes: number): Uint16Array {
  const count = probabilities.length / classes;
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c]! > probabilities[i * classes + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of samples whose top class probability is at least `threshold`. */
export function confidentFraction(probabilities: Float32Array, classes: number, threshold = 0.9): number {
  const count = probabilities.length / classes;
  let confident = 0;
  for (let i = 0; i < count; i++) {
    let top = 0;
    for (let c = 0; c < classes; c++) top = Math.max(top, probabilities[i * classes + c]!);
    if (top >= threshold) confident++;
  }
  return confident / count;
}

export interface ClassCoverage {
  /** Samples per predicted class. */
  histogram: number[];
  /** Classes predicted at least once. */
  covered: number;
  /** Largest over smallest class count (Infinity when a class is missing). */
  maxMinRatio: number;
}

export function classCoverage(probabilities: Float32Array, classes: number): ClassCoverage {
  const histogram = new Array<number>(classes).fill(0);
  for (const c of predictedClasses(probabilities, classes)) histogram[c]!++;
  const min = Math.min(...histogram);
  return {
    histogram,
    covered: histogram.filter((n) => n > 0).length,
    maxMinRatio: min === 0 ? Infinity : Math.max(...histogram) / min,
  };
}
