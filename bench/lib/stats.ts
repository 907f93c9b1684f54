/** Percentiles of samples, and the median/min/max summary of repeated runs. */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. Sorts `samples` in place. */
export function percentile(samples: Float64Array | number[], p: number): number {
  const n = samples.length;
  if (n === 0) return Number.NaN;
  if (samples instanceof Float64Array) samples.sort();
  else samples.sort((a, b) => a - b);
  const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return samples[rank]!;
}

/** p50 and p99 of the first `n` samples (the buffer may be larger than what was filled). */
export function latencySummary(samples: Float64Array, n: number): { p50: number; p99: number } {
  const used = samples.subarray(0, n);
  used.sort();
  return { p50: percentile(used, 50), p99: percentile(used, 99) };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median, min and max of finite values; null if there are none. */
export function spread(values: number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}
