/**
 * Exponential moving average with debiasing, the way TensorBoard smooths scalar charts.
 *
 * A plain EMA started at 0 is dragged towards 0 for its first points; dividing by `1 - w^n` (n =
 * finite points seen so far) removes that bias, so the smoothed line starts on the data. Points
 * that are NaN or ±Infinity are passed through unchanged (a chart draws them as gaps) and do not
 * move the average, so one bad point does not poison the rest of the line.
 */

/** Clamp a smoothing weight to [0, 0.999]; anything not a number is 0 (no smoothing). */
export function clampSmoothing(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) return 0;
  return Math.min(weight, 0.999);
}

/**
 * The debiased EMA of `values` with weight `weight` (0 = the values themselves, 0.99 = very smooth).
 * Returns a new array of the same length.
 */
export function smooth(values: ArrayLike<number>, weight: number): number[] {
  const w = clampSmoothing(weight);
  const out = new Array<number>(values.length);
  if (w === 0) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
    return out;
  }
  let last = 0;
  let seen = 0;
  let weightPower = 1; // w ** seen, kept incrementally
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) {
      out[i] = value;
      continue;
    }
    last = last * w + (1 - w) * value;
    seen += 1;
    weightPower *= w;
    const debias = 1 - weightPower;
    out[i] = debias > 0 ? last / debias : value;
  }
  return out;
}
