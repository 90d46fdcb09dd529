/** Order statistics of timing samples (milliseconds). Pure. */
export interface Summary {
  readonly count: number;
  readonly median: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile, `q` in [0, 1]; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarise(samples: readonly number[]): Summary {
  return {
    count: samples.length,
    median: median(samples),
    p95: percentile(samples, 0.95),
    min: samples.length === 0 ? Number.NaN : Math.min(...samples),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/**
 * Runs `rounds` rounds of every variant, one sample each per round, in the order A, B, C, A, B, C, ... with the
 * starting variant rotating each round so no variant always follows the same one. `warmup` extra rounds run first
 * and are discarded (file cache, CPU frequency). Sequential: one sample at a time. Returns samples per variant.
 */
export async function interleave<K extends string>(
  variants: readonly K[],
  options: { readonly rounds: number; readonly warmup?: number },
  sample: (variant: K, round: number) => Promise<number>,
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<K, number[]>;
  const warmup = options.warmup ?? 1;
  for (let round = -warmup; round < options.rounds; round++) {
    const offset = ((round % variants.length) + variants.length) % variants.length;
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + offset) % variants.length] as K;
      const value = await sample(variant, round);
      if (round >= 0) samples[variant].push(value);
    }
  }
  return samples;
}
