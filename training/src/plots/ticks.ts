// Axis ticks at round numbers (1, 2, 2.5 or 5 times a power of ten) and their labels.

export interface Ticks {
  /** Axis range, widened to whole steps so the outermost ticks sit on the frame. */
  lo: number;
  hi: number;
  values: number[];
  /** Digits after the decimal point that every tick value needs. */
  decimals: number;
}

const STEPS = [1, 2, 2.5, 5, 10];

/** About `target` (≥ 2) ticks spanning [lo, hi]; a degenerate range is widened around its value. */
export function niceTicks(lo: number, hi: number, target = 6): Ticks {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi))
    throw new RangeError(`tick range must be finite with lo ≤ hi, got [${lo}, ${hi}]`);
  if (!(Number.isInteger(target) && target >= 2)) throw new RangeError(`target tick count must be an integer ≥ 2, got ${target}`);
  if (lo === hi) {
    const half = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - half, hi + half, target);
  }
  const rough = (hi - lo) / (target - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = STEPS.find((s) => s * power >= rough * (1 - 1e-9))!;
  const step = multiple * power;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  // Multiply integer indices instead of accumulating steps, so 0.1 + 0.2 noise never reaches a label.
  const values = Array.from({ length: last - first + 1 }, (_, k) => (first + k) * step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (multiple === 2.5 ? 1 : 0));
  return { lo: values[0]!, hi: values[values.length - 1]!, values, decimals };
}

/** A tick label with a typographic minus sign and no "-0". */
export function formatTick(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  if (Number(text) === 0) return (0).toFixed(decimals);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}
