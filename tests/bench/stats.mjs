// Summaries of timings: percentiles by the nearest-rank method, never interpolated, so every
// figure is a time that was actually measured.

/** The q-quantile (0..1) of an ascending array by nearest rank, or null when empty. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** `{n, mean, p50, p90, p99, p999, max}` of a list of times (any order). */
export function summary(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const mean = n ? sorted.reduce((a, b) => a + b, 0) / n : null;
  return {
    n,
    mean,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: n ? sorted[n - 1] : null,
  };
}

/** Session-length buckets for "at every session length": [label, lowest, highest position]. */
export const LENGTH_BUCKETS = [
  ['1-8', 1, 8],
  ['9-32', 9, 32],
  ['33-64', 33, 64],
  ['65+', 65, Infinity],
];

/**
 * The tail curve of `values`: about `points` pairs [t, share of values >= t], at shares spaced
 * evenly on a log scale from 1 down to 1/n, so the slowest events keep their own points.
 */
export function tail(values, points = 120) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const out = [];
  if (n === 0) return out;
  let last = -1;
  for (let k = 0; k <= points; k++) {
    const share = 10 ** (-(k / points) * Math.log10(n)); // 1 .. 1/n
    const i = Math.min(n - 1, Math.max(0, n - Math.round(share * n)));
    if (i === last) continue;
    last = i;
    out.push([sorted[i], (n - i) / n]);
  }
  return out;
}
