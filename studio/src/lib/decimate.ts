/**
 * Client-side min/max-per-bucket decimation, for series longer than the chart is wide.
 *
 * The server already decimates history answers (`max_points`); this only runs when a chart is
 * handed more points than it has pixels for (e.g. full series from `/runs/{id}/metrics`). Each
 * bucket keeps its first point, its minimum and its maximum, in their original order, so spikes
 * stay visible (plain striding would drop them). A bucket holding only NaN/±Infinity keeps its
 * first point, so gaps stay visible too. The last point is always kept.
 */

export interface XY {
  x: number[];
  y: number[];
}

/**
 * Indices of about `maxPoints` points of `y` (at most 3 per bucket, `maxPoints / 3` buckets, plus
 * the last point). With `maxPoints` at or above the length, every index.
 */
export function decimateIndices(y: ArrayLike<number>, maxPoints: number): number[] {
  const n = y.length;
  if (!(maxPoints > 0) || n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor(maxPoints / 3));
  const size = n / buckets;
  const keep: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * size);
    const hi = Math.min(n, Math.floor((b + 1) * size));
    if (lo >= hi) continue;
    let iMin = -1;
    let iMax = -1;
    for (let i = lo; i < hi; i++) {
      const v = y[i] as number;
      if (!Number.isFinite(v)) continue;
      if (iMin < 0 || v < (y[iMin] as number)) iMin = i;
      if (iMax < 0 || v > (y[iMax] as number)) iMax = i;
    }
    const picked = iMin < 0 ? [lo] : [lo, iMin, iMax];
    picked.sort((a, b2) => a - b2);
    for (let k = 0; k < picked.length; k++) {
      const index = picked[k] as number;
      if (keep[keep.length - 1] !== index) keep.push(index);
    }
  }
  if (keep[keep.length - 1] !== n - 1) keep.push(n - 1);
  return keep;
}

/** `x` and `y` cut down to about `maxPoints` points (see `decimateIndices`); unchanged if short enough. */
export function decimate(series: XY, maxPoints: number): XY {
  const n = Math.min(series.x.length, series.y.length);
  if (!(maxPoints > 0) || n <= maxPoints) return series;
  const y = series.y.length === n ? series.y : series.y.slice(0, n);
  const indices = decimateIndices(y, maxPoints);
  return { x: indices.map((i) => series.x[i] as number), y: indices.map((i) => series.y[i] as number) };
}
