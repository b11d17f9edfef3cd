// Summary statistics for results aggregated over seeds.

/** Mean and standard error (sample standard deviation / √n) of a list of numbers, as tables report them. */
export interface MeanWithError {
  mean: number;
  /** null for fewer than two values, where the sample standard deviation is undefined. */
  standardError: number | null;
  n: number;
}

export function meanWithStandardError(values: readonly number[]): MeanWithError {
  const n = values.length;
  if (n === 0) throw new RangeError('meanWithStandardError needs at least one value');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`values[${i}] must be finite, got ${v}`);
  });
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n < 2) return { mean, standardError: null, n };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n), n };
}
