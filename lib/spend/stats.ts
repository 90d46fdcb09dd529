/** Order statistics for the spend watch: robust to the one odd day a mean would follow. */

/** The median (mean of the two middle values for an even count); undefined for no values. */
export function median(values: readonly number[]): number | undefined {
  return quantile(values, 0.5);
}

/**
 * The `q` quantile (0..1) by linear interpolation between order statistics (Hyndman–Fan type 7, as R and NumPy
 * default to); undefined for no values. Throws RangeError for `q` outside 0..1.
 */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError('quantile must be between 0 and 1');
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (at - low);
}

/** `value` rounded to whole cents, half away from zero. */
export function roundCents(value: number): number {
  return value < 0 ? -Math.round(-value) : Math.round(value);
}
