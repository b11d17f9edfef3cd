// Mode-collapse measures for samples of a Gaussian mixture with known centres and a common σ, as
// PacGAN (Lin et al. 2018) and VEEGAN define them and PacGAN's code computes them:
// - a sample is high quality (HQ) if its distance to the nearest centre is < 3σ (strictly, as in
//   PacGAN's MetricLogger: Mahalanobis distance with the diagonal variance, which for an isotropic σ
//   is the Euclidean distance over σ);
// - a mode is captured if at least one HQ sample is nearest to it;
// - reverse KL = KL(histogram of HQ samples over modes ‖ uniform over modes), in nats.
import { klDivergence } from './divergences.js';

export interface ModeCoverage {
  /** Modes with at least one HQ sample nearest to them. */
  modes: number;
  /** HQ samples / all samples, in [0, 1]. */
  highQualityFraction: number;
  /** KL(HQ histogram ‖ uniform) in nats, in [0, log K]; null when no sample is HQ (the histogram is undefined). */
  reverseKl: number | null;
  /** HQ samples nearest to each centre. */
  counts: number[];
  samples: number;
}

export interface ModeCoverageOptions {
  /** HQ radius in units of σ; default 3. */
  threshold?: number;
}

/**
 * Measures `samples` (row-major points, as many coordinates as each centre) against the mixture's
 * `centres` and common standard deviation `sigma`.
 */
export function modeCoverage(
  samples: ArrayLike<number>,
  centres: ReadonlyArray<readonly number[]>,
  sigma: number,
  options: ModeCoverageOptions = {},
): ModeCoverage {
  const threshold = options.threshold ?? 3;
  if (centres.length === 0) throw new RangeError('centres must list at least one mode centre');
  const dims = centres[0]!.length;
  centres.forEach((centre, k) => {
    if (centre.length !== dims || !centre.every(Number.isFinite)) {
      throw new RangeError(`centres[${k}] must be ${dims} finite coordinates like centres[0], got ${JSON.stringify(centre)}`);
    }
  });
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new RangeError(`sigma must be a finite number > 0, got ${sigma}`);
  if (!(Number.isFinite(threshold) && threshold > 0))
    throw new RangeError(`threshold must be a finite number > 0, got ${threshold}`);
  if (samples.length === 0 || samples.length % dims !== 0) {
    throw new RangeError(`samples must hold a non-zero whole number of ${dims}-coordinate points, got ${samples.length} values`);
  }
  const count = samples.length / dims;
  const counts = new Array<number>(centres.length).fill(0);
  const radiusSquared = (threshold * sigma) ** 2;
  let highQuality = 0;
  for (let s = 0; s < count; s++) {
    let nearest = -1;
    let nearestSquared = Infinity;
    for (let k = 0; k < centres.length; k++) {
      const centre = centres[k]!;
      let squared = 0;
      for (let d = 0; d < dims; d++) {
        const diff = samples[s * dims + d]! - centre[d]!;
        squared += diff * diff;
      }
      if (squared < nearestSquared) {
        nearestSquared = squared;
        nearest = k;
      }
    }
    // NaN samples compare false everywhere: they are never HQ, as a broken generator's output should not be.
    if (nearest >= 0 && nearestSquared < radiusSquared) {
      counts[nearest]! += 1;
      highQuality++;
    }
  }
  const uniform = new Array<number>(centres.length).fill(1);
  return {
    modes: counts.filter((c) => c > 0).length,
    highQualityFraction: highQuality / count,
    reverseKl: highQuality > 0 ? klDivergence(counts, uniform) : null,
    counts,
    samples: count,
  };
}
