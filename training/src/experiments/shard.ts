// Units are independent, so several processes can share one output folder: with a shard, a process runs
// only every count-th unit (from `index`).
import { ExperimentError } from './errors.js';

/** Shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

export function checkShard(shard: Shard): void {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new ExperimentError(`shard must be INDEX/COUNT with integers 0 ≤ INDEX < COUNT, got ${index}/${count}`);
  }
}

/** The units shard `shard` runs: index, index + count, … of the list (all of them without a shard). */
export function unitsOfShard<U>(units: readonly U[], shard: Shard | undefined): U[] {
  return shard === undefined ? [...units] : units.filter((_, i) => i % shard.count === shard.index);
}
